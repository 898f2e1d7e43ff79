"""What `kg build` works out once for the GraphQL layer and keeps beside an on-disk store:

- the list sizes of the release (``sizes.json``), so `kg serve --store` reads them at start instead of surveying
  the whole graph in every worker (at 1M triples the survey reads every claim and takes a minute or more; at 10M,
  many minutes and gigabytes). The file names the release it was measured on; a file of another release, or one
  that cannot be read, is ignored (the release is then surveyed at start, as without the file);
- the head of each labelled entity's card (kind and preferred label, as the card builder of kg.graphql.context
  makes them), in the label index, so the search document is answered from the index alone (kg.web.search_path)."""

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
from kg.store.edges import EDGES_FILE, EdgeIndex
from kg.store.labels import LABELS_FILE, LabelIndex

SIZES_FILE = "sizes.json"
log = logging.getLogger("kg.graphql.recorded")


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
    """Survey the store built at ``store_dir`` (read-only, in this process) and write its sizes and card heads beside
    it."""
    store, build = open_store_dir(store_dir)
    release = str(build["release"])
    backend = EmbeddedBackend(store, release)
    # no deadline and no caches: this is the build, and each whole-table answer is read once
    settings = Settings(query_timeout=24 * 3600, cache_entries=0, queries_dir=queries_dir)
    executor = Executor(backend, settings)
    catalog = Catalog(queries_dir)
    labels = LabelIndex(store_dir / LABELS_FILE) if (store_dir / LABELS_FILE).is_file() else None
    edges = EdgeIndex.open(store_dir / EDGES_FILE)  # written by the build before this survey
    sizes = asyncio.run(_measure(executor, catalog, labels, edges))
    edges.connection.close()
    (store_dir / SIZES_FILE).write_text(to_json(sizes, release), encoding="utf-8")
    if labels is not None:
        labels.connection.close()
    backend.close()


HEADS_AT_ONCE = 500
"""Cards built per store query when the heads are recorded."""


async def _measure(executor: Executor, catalog: Catalog, labels: LabelIndex | None, edges: EdgeIndex) -> Sizes:
    rows, _ = await executor.select(catalog.get("class_kinds").text)
    kinds = {r["class"].value: r["kind"].value.rsplit("#", 1)[-1] for r in rows}
    services = Services(executor=executor, catalog=catalog, labels=labels or LabelIndex(), edges=edges, kinds=kinds)
    sizes = await measure(Context(services))
    if labels is not None:
        entities = labels.entities()
        heads = []
        for start in range(0, len(entities), HEADS_AT_ONCE):
            cards = await Context(services).full.load_many(entities[start : start + HEADS_AT_ONCE])
            heads += [(card.iri, card.kind, card.label) for card in cards if card is not None]
        labels.record_heads(heads)
    return sizes
