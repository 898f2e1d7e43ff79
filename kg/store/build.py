"""Releases: the release id of a set of Turtle files, and ``kg build``, which writes an on-disk store with its
build record (commit, file hashes, triple count, release id)."""

from __future__ import annotations

import ctypes
import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import cast

import pyoxigraph as ox

from kg import __version__
from kg.queries.catalog import Catalog
from kg.rdf.dataset import Dataset
from kg.settings import Settings
from kg.store.edges import EDGES_FILE, EdgeIndex
from kg.store.labels import LABELS_FILE, LabelIndex, truth
from kg.store.metadata import metadata_quads

BUILD_RECORD = "build.json"


def file_hashes(data: Dataset, root: Path) -> dict[str, str]:
    hashes = {}
    for f in data.files:
        try:
            name = f.path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            name = f.path.as_posix()
        hashes[name] = hashlib.sha256(f.text.encode("utf-8")).hexdigest()
    return dict(sorted(hashes.items()))


def _file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def release_id(hashes: dict[str, str]) -> str:
    """``<version>+<12 hex digits of the content hash>``: equal files give an equal release id."""
    digest = hashlib.sha256(json.dumps(hashes, sort_keys=True).encode("utf-8")).hexdigest()
    return f"{__version__}+{digest[:12]}"


def git_commit(path: Path) -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(path), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


class BuildError(Exception):
    """A store that cannot be written where asked: the target is not a store, or the disk refused."""


def check_target(target: Path) -> None:
    """Refuse a target that ``kg build`` did not make: a file, or a directory that holds anything but a store."""
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise BuildError(f"{target} exists and is not a directory; `kg build --store` writes a store directory")
    existing = target.parent
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise BuildError(f"cannot write a store at {target}: {existing} is not a writable directory")
    if target.is_dir() and any(target.iterdir()) and not (target / BUILD_RECORD).is_file():
        raise BuildError(
            f"{target} is a directory that is not a store (it has no {BUILD_RECORD}); not replacing it: "
            "choose an empty or new directory, or a store built earlier"
        )


def _exchange(a: Path, b: Path) -> bool:
    """Swap two directories in one step (Linux renameat2 with RENAME_EXCHANGE); False where that is not available."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    return int(renameat2(at_fdcwd, bytes(a), at_fdcwd, bytes(b), rename_exchange)) == 0


def build_store(
    data: Dataset,
    root: Path,
    target: Path,
    labels_query: str | None = None,
    catalog: Catalog | None = None,
    nquads: Sequence[Path] = (),
    survey: Callable[[Path], None] | None = None,
) -> dict[str, object]:
    """Bulk-load the parsed files into a new on-disk store at ``target``, replacing a store there only once the new
    one is complete (in one step where the system allows). Never deletes what it did not make: a non-empty directory
    that is not a store is refused. On any failure (disk full, no permission) the partial build is removed and
    BuildError says why. With ``catalog``, the VoID and examples graphs are added (kg.store.metadata). ``nquads``
    files are bulk-loaded too, streamed from disk rather than parsed into memory first (the synthetic graphs of
    bench/generate.py, 10M triples and more); their hashes join the build record's. ``survey`` is called on the
    finished store directory before it is installed, to write what is measured once per release beside it (kg build
    records the GraphQL sizes there: kg.graphql.recorded). The label index
    (with ``labels_query``) and the edge summaries (kg.store.edges) are written beside the data."""
    check_target(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{target.name}.building-", dir=target.parent))
    except OSError as exc:
        raise BuildError(f"cannot write a store beside {target}: {exc.strerror or exc}") from None
    try:
        record = _write(data, root, work, labels_query, catalog, nquads)
        if survey is not None:
            survey(work)
        _install(work, target)
    except OSError as exc:
        shutil.rmtree(work, ignore_errors=True)
        raise BuildError(f"could not write the store {target} ({exc.strerror or exc}); nothing was changed") from None
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return record


def _write(
    data: Dataset, root: Path, work: Path, labels_query: str | None, catalog: Catalog | None, nquads: Sequence[Path]
) -> dict[str, object]:
    hashes = file_hashes(data, root) | {path.as_posix(): _file_hash(path) for path in nquads}
    store = ox.Store(str(work / "data"))
    store.bulk_extend(data.quads)
    for path in nquads:
        store.bulk_load(path=path, format=ox.RdfFormat.N_QUADS)
    if catalog is not None:
        store.extend(metadata_quads(store, catalog, release_id(hashes)))
    store.optimize()
    triples = len(store)
    store.flush()
    if labels_query is not None:
        rows = store.query(labels_query, use_default_graph_as_union=True)
        LabelIndex.build(
            ((r["entity"].value, r["kind"].value, r["label"].value, truth(r["preferred"].value)) for r in rows),  # type: ignore[union-attr]
            work / LABELS_FILE,
        ).connection.close()
    queries = catalog or Catalog(Settings().queries_dir)  # every store has its edge summaries

    claims, beliefs = (
        cast(ox.QuerySolutions, store.query(queries.get(name).text, use_default_graph_as_union=True))
        for name in ("edge_summaries", "belief_scores")
    )
    EdgeIndex.from_rows(claims, beliefs, work / EDGES_FILE).connection.close()
    del store
    record: dict[str, object] = {
        "release": release_id(hashes),
        "version": __version__,
        "commit": git_commit(root),
        "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "quads": triples,
        "files": hashes,
    }
    (work / BUILD_RECORD).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return record


def _install(work: Path, target: Path) -> None:
    """Put the finished build at ``target``; an earlier store there is swapped out, then removed."""
    if not target.exists() or (target.is_dir() and not any(target.iterdir())):
        if target.exists():
            target.rmdir()
        work.rename(target)
        return
    check_target(target)  # still a store: nothing else may have appeared there meanwhile
    if _exchange(work, target):
        shutil.rmtree(work)  # now the previous store
        return
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
    old.rmdir()
    target.rename(old)
    work.rename(target)
    shutil.rmtree(old)
