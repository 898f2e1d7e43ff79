"""The per-request GraphQL context: DataLoaders that batch each level of a query into one named query with VALUES,
and the count and time of the store queries run (reported in the response extensions when asked)."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import pyoxigraph as ox
from strawberry.dataloader import DataLoader

from kg.execution.executor import Executor, Term
from kg.graphql.limits import Checked
from kg.graphql.model import (
    Card,
    Certainty,
    ClaimData,
    Direction,
    EdgeData,
    EvidenceDirection,
    MappingData,
    QuoteRole,
    Relation,
    SourceData,
)
from kg.graphql.sizes import Sizes
from kg.lru import Lru
from kg.queries.catalog import Catalog
from kg.store.backends import Bindings
from kg.store.edges import ClaimRow, EdgeIndex, EdgeSummary
from kg.store.labels import LabelIndex

RELATIONS = {r.value: r for r in Relation}
STORE_QUERIES_AT_ONCE = 4
"""Store queries one GraphQL request may have in flight at once; the rest of its resolvers wait their turn."""
T = TypeVar("T")


@dataclass
class Services:
    """What every request shares (built once in the app's lifespan)."""

    executor: Executor
    catalog: Catalog
    labels: LabelIndex
    edges: EdgeIndex
    """The edge summaries of the release (kg.store.edges): what a relation connection orders, filters and counts."""
    kinds: dict[str, str]
    """Each class IRI of the ontology -> the name of its kind (Disease, Therapy, ...)."""
    batching: bool = True
    cache_entries: int = 0
    cache_bytes: int = 16_000_000
    check_timeout: float = 3.0
    """Seconds parsing and validating a document may take (KG_GRAPHQL_CHECK_TIMEOUT)."""
    sizes: Sizes = field(default_factory=lambda: Sizes({}, unmeasured=100))
    """How long each list can be in this release (measured by kg.graphql.sizes.measure when the release loads)."""
    cards: Lru[str, Card | None] = field(init=False)
    relations: Lru[str, list[EdgeData]] = field(init=False)
    """Built cards and edges by IRI, shared by the requests of this process (a release never changes)."""
    checked: Lru[str, Checked] = field(init=False)
    """Documents parsed and checked against this release (kg.graphql.limits.Checked), by their text."""

    def __post_init__(self) -> None:
        self.cards = Lru(self.cache_entries, self.cache_bytes // 2)
        self.relations = Lru(self.cache_entries, self.cache_bytes // 2)
        self.checked = Lru(512, 8_000_000, size=lambda c: c.weight)


async def through_cache(
    cache: Lru[str, T], keys: list[str], load: Callable[[list[str]], Awaitable[list[T]]]
) -> list[T]:
    """``load`` only the keys that the process-wide cache does not hold yet, and keep what it built."""
    missing = [k for k in keys if k not in cache]
    built = dict(zip(missing, await load(missing), strict=True)) if missing else {}
    for key, value in built.items():
        cache.put(key, value)
    return [built[k] if k in built else cache[k] for k in keys]


def text(row: dict[str, Term], name: str) -> str | None:
    term = row.get(name)
    return None if term is None else term.value


def claim_of(row: dict[str, Term]) -> ClaimData:
    """A claim from a row of ``claims.rq``, which names its subject and object."""
    return claim_from(row, row["subject"].value, text(row, "object"))


def claim_from(row: dict[str, Term], subject: str, obj: str | None) -> ClaimData:
    return ClaimData(
        iri=row["claim"].value,
        subject=subject,
        predicate=row["predicate"].value,
        object=obj,
        object_literal=text(row, "objectLiteral"),
        quote=row["quote"].value,
        source=SourceData(row["source"].value, row["title"].value, row["promotional"].value == "true"),
        certainty=Certainty(row["certainty"].value),
        negated=row["negated"].value == "true",
        evidence_direction=EvidenceDirection(row["evidenceDirection"].value),
        quote_role=QuoteRole(row["quoteRole"].value),
        scope=text(row, "scope"),
        hedge=text(row, "hedge"),
        evidence=text(row, "evidence"),
    )


@dataclass
class Context:
    services: Services
    debug: bool = False
    cost: int | None = None
    """The estimated cost of the operation (kg.graphql.limits), once checked."""
    store_queries: int = 0
    store_seconds: float = 0.0
    cards: DataLoader[str, Card | None] = field(init=False)
    """Cards as a list or a relation shows them: from the recorded heads where the build wrote them (IRI, kind and
    label, without a store query), else whole."""
    full: DataLoader[str, Card | None] = field(init=False)
    """Whole cards, built from the store."""
    relations: DataLoader[str, list[EdgeData]] = field(init=False)
    summaries: DataLoader[str, list[EdgeSummary]] = field(init=False)
    gate: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(STORE_QUERIES_AT_ONCE))
    """Store queries of this request in flight at once."""
    memo: dict[str, object] = field(default_factory=dict)
    """Whole-table answers read once per request (the beliefs), by name."""

    def __post_init__(self) -> None:
        batch = self.services.batching
        self.full = DataLoader(self._load_cards, max_batch_size=None if batch else 1, cache=batch)
        heads = batch and self.services.labels.has_heads()
        self.cards = DataLoader(self._load_heads, cache=True) if heads else self.full
        self.relations = DataLoader(self._load_relations, max_batch_size=None if batch else 1, cache=batch)
        self.summaries = DataLoader(self._load_summaries, max_batch_size=None if batch else 1, cache=batch)

    @property
    def release(self) -> str:
        return self.services.executor.release

    async def rows(
        self, name: str, bindings: Bindings | None = None, batch: Sequence[str] | None = None
    ) -> list[dict[str, Term]]:
        """Rows of a named query; ``batch`` binds its ``?entity`` to many IRIs at once."""
        query = self.services.catalog.get(name)
        started = time.perf_counter()
        values = (ox.Variable("entity"), [ox.NamedNode(i) for i in batch]) if batch is not None else None
        async with self.gate:  # one document cannot fill the worker's query queue ahead of other requests
            rows, asked = await self.services.executor.select(query.text, bindings, values)
        if asked:
            self.store_queries += 1
            self.store_seconds += time.perf_counter() - started
        return rows

    async def contexts(self) -> dict[str, list[str]]:
        """Claim IRI -> the diseases it is stated for."""
        found: dict[str, list[str]] = defaultdict(list)
        for row in await self.rows("claim_contexts"):
            found[row["claim"].value].append(row["disease"].value)
        return found

    async def _load_summaries(self, iris: list[str]) -> list[list[EdgeSummary]]:
        found = self.services.edges.of(iris)
        return [found[i] for i in iris]

    async def _load_heads(self, iris: list[str]) -> list[Card | None]:
        heads = self.services.labels.heads(iris)
        return [
            Card(iri=iri, kind=head[0], label=head[1], complete=False) if (head := heads.get(iri)) else None
            for iri in iris
        ]

    async def _load_cards(self, iris: list[str]) -> list[Card | None]:
        return await through_cache(self.services.cards, iris, self._build_cards)

    async def _load_relations(self, iris: list[str]) -> list[list[EdgeData]]:
        return await through_cache(self.services.relations, iris, self._build_relations)

    async def _build_cards(self, iris: list[str]) -> list[Card | None]:
        cards: dict[str, Card] = {}
        for row in await self.rows("entity_cards", batch=iris):
            iri = row["entity"].value
            card = cards.setdefault(iri, Card(iri=iri, kind=""))
            kind, value = row["field"].value, row["value"].value
            if kind == "type":
                card.types.append(value)
            elif kind == "label":
                card.label = value
            elif kind == "synonym":
                card.synonyms.append(value)
            elif kind == "definition":
                card.definition = value
            elif kind == "note":
                card.notes.append(value)
            elif kind == "mapping":
                card.mappings.append(
                    MappingData(value, row["predicate"].value, row["status"].value, text(row, "valueLabel"))
                )
        result: list[Card | None] = []
        for iri in iris:
            found = cards.get(iri)
            kinds = {self.services.kinds[t] for t in found.types if t in self.services.kinds} if found else set()
            if found is None or not kinds:
                result.append(None)
                continue
            found.kind = sorted(kinds)[0]
            found.synonyms.sort(key=str.casefold)
            found.mappings.sort(key=lambda m: m.target)
            result.append(found)
        return result

    async def _build_relations(self, iris: list[str]) -> list[list[EdgeData]]:
        grouped: dict[str, dict[tuple[str, str, str], list[ClaimData]]] = defaultdict(dict)
        if self.services.edges.has_claims:  # kept with the edge summaries: no store query
            for iri, claims in self.services.edges.claims_of(iris).items():
                for direction, c in claims:
                    other = c.object if direction == "out" else c.subject
                    claim = claim_kept(c)
                    grouped[iri].setdefault((c.predicate, direction, other), []).append(claim)
            return _edges(iris, grouped)
        for row in await self.rows("entity_relations", batch=iris):
            entity, other = row["entity"].value, row["other"].value
            direction = row["direction"].value
            subject, obj = (entity, other) if direction == "out" else (other, entity)
            key = (row["predicate"].value, direction, other)
            grouped[entity].setdefault(key, []).append(claim_from(row, subject, obj))
        return _edges(iris, grouped)


def _edges(iris: list[str], grouped: dict[str, dict[tuple[str, str, str], list[ClaimData]]]) -> list[list[EdgeData]]:
    """The edges of each entity from its claims grouped by (predicate, direction, other end)."""
    result = []
    for iri in iris:
        edges = []
        for (predicate, direction, other), claims in grouped.get(iri, {}).items():
            relation = RELATIONS.get(predicate)
            if relation is not None:
                claims.sort(key=lambda c: c.iri)
                edges.append(EdgeData(relation, Direction(direction), other, claims))
        result.append(edges)
    return result


def claim_kept(c: ClaimRow) -> ClaimData:
    """A claim as the edge summaries keep it."""
    return ClaimData(
        iri=c.claim,
        subject=c.subject,
        predicate=c.predicate,
        object=c.object,
        object_literal=None,
        quote=c.quote,
        source=SourceData(c.source, c.title, c.promotional),
        certainty=Certainty(c.certainty),
        negated=c.negated,
        evidence_direction=EvidenceDirection(c.evidence_direction),
        quote_role=QuoteRole(c.quote_role),
        scope=c.scope,
        hedge=c.hedge,
        evidence=c.evidence,
    )
