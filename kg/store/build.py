"""Releases: the release id of a set of Turtle files, and ``kg build``, which writes an on-disk store with its
build record (commit, file hashes, triple count, release id)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pyoxigraph as ox

from kg import __version__
from kg.queries.catalog import Catalog
from kg.rdf.dataset import Dataset
from kg.store.labels import LABELS_FILE, LabelIndex
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


def build_store(
    data: Dataset, root: Path, target: Path, labels_query: str | None = None, catalog: Catalog | None = None
) -> dict[str, object]:
    """Bulk-load the parsed files into a new on-disk store at ``target``, replacing any store there only once the
    new one is complete; with ``catalog``, the VoID and examples graphs are added (kg.store.metadata). Returns the
    build record."""
    hashes = file_hashes(data, root)
    work = target.with_name(f".{target.name}.building")
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    store = ox.Store(str(work / "data"))
    store.bulk_extend(data.quads)
    if catalog is not None:
        store.extend(metadata_quads(store, catalog, release_id(hashes)))
    store.optimize()
    triples = len(store)
    store.flush()
    if labels_query is not None:
        rows = store.query(labels_query, use_default_graph_as_union=True)
        LabelIndex.build(
            ((r["entity"].value, r["kind"].value, r["label"].value, r["preferred"].value == "true") for r in rows),  # type: ignore[union-attr]
            work / LABELS_FILE,
        ).connection.close()
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
    old = target.with_name(f".{target.name}.old")
    if old.exists():
        shutil.rmtree(old)
    if target.exists():
        target.rename(old)
    work.rename(target)
    if old.exists():
        shutil.rmtree(old)
    return record
