"""The GraphQL sizes of an on-disk release, measured once by `kg build` and kept beside the store (``sizes.json``), so
`kg serve --store` reads them at start instead of surveying the whole graph in every worker (at 1M triples the
survey reads every claim and takes seconds; at 10M, minutes and gigabytes).

The file names the release it was measured on; a file of another release, or one that cannot be read, is ignored
(the release is then surveyed at start, as without the file)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from pathlib import Path

from kg.execution.executor import Executor
from kg.graphql.context import Context, Services
from kg.graphql.model import Direction, Hop, Relation
from kg.graphql.sizes import Sizes
from kg.graphql.survey import measure
from kg.queries.catalog import Catalog
from kg.settings import Settings
from kg.store.backends import EmbeddedBackend, open_store_dir
from kg.store.labels import LabelIndex

SIZES_FILE = "sizes.json"
log = logging.getLogger("kg.graphql.recorded_sizes")


def to_json(sizes: Sizes, release: str) -> str:
    """The measures and each distinct per-entity edge count (entities with the same counts are one line: only the
    largest sums along a set of hops are ever asked of them)."""
    distinct = sorted({tuple(sorted((r.value, d.value, n) for (r, d), n in edges.items())) for edges in sizes.edges})
    return json.dumps({"release": release, "counts": sizes.counts, "edges": distinct}, indent=None) + "\n"


def from_json(text: str, release: str) -> Sizes | None:
    """The sizes in ``text`` if they were measured on ``release``; None otherwise."""
    try:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("release") != release:
            return None
        counts = {str(k): int(v) for k, v in data["counts"].items()}
        edges: list[Counter[Hop]] = [
            Counter({(Relation(r), Direction(d)): int(n) for r, d, n in entity}) for entity in data["edges"]
        ]
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    return Sizes(counts, edges)


def read(store_dir: Path, release: str) -> Sizes | None:
    """The sizes recorded beside the store for ``release``, if there are."""
    try:
        text = (store_dir / SIZES_FILE).read_text(encoding="utf-8")
    except OSError:
        return None
    sizes = from_json(text, release)
    if sizes is None:
        log.warning(
            "%s is not the sizes of release %s; surveying the release at start", store_dir / SIZES_FILE, release
        )
    return sizes


def record(store_dir: Path, queries_dir: Path) -> None:
    """Survey the store built at ``store_dir`` (read-only, in this process) and write its sizes beside it."""
    store, build = open_store_dir(store_dir)
    release = str(build["release"])
    backend = EmbeddedBackend(store, release)
    # no deadline and no caches: this is the build, and each whole-table answer is read once
    settings = Settings(query_timeout=24 * 3600, cache_entries=0, queries_dir=queries_dir)
    executor = Executor(backend, settings)
    catalog = Catalog(queries_dir)
    sizes = asyncio.run(_measure(executor, catalog))
    (store_dir / SIZES_FILE).write_text(to_json(sizes, release), encoding="utf-8")
    backend.close()


async def _measure(executor: Executor, catalog: Catalog) -> Sizes:
    rows, _ = await executor.select(catalog.get("class_kinds").text)
    kinds = {r["class"].value: r["kind"].value.rsplit("#", 1)[-1] for r in rows}
    services = Services(
        executor=executor, catalog=catalog, labels=LabelIndex(), kinds=kinds
    )  # the survey reads no labels
    return await measure(Context(services))
