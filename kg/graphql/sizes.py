"""How long each list of the GraphQL schema can be in the loaded release: measured once per release from the store,
through the same named queries the resolvers read, so the cost of a document (kg.graphql.limits) is an upper bound
of the work it can cause, not a guess.

A list field says which measure bounds it in its strawberry ``metadata`` (``sized("sources")``, or ``along(hops)``
for a relation field: the most edges any one entity has along those hops). A list field that says nothing, outside
a page, is bounded by the largest measure of all (sound, if pessimistic). Lists of scalars cost nothing below
them, so they need no measure."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kg.graphql.model import Direction, Hop, Relation

if TYPE_CHECKING:
    from kg.graphql.context import Context

RELATIONS = {r.value: r for r in Relation}

SIZE = "kg.size"
"""The metadata key of a list field: the name of the measure that bounds it."""
HOPS = "kg.hops"
"""The metadata key of a relation field: the (relation, direction) hops it follows."""


def sized(measure: str) -> dict[str, object]:
    return {SIZE: measure}


def along(hops: Iterable[Hop]) -> dict[str, object]:
    return {HOPS: frozenset(hops)}


@dataclass
class Sizes:
    """The measures of one release: ``counts`` by name, and each entity's number of edges per hop; ``unmeasured``
    stands for every measure when the release could not be measured."""

    counts: dict[str, int]
    edges: list[Counter[Hop]] = field(default_factory=list)
    unmeasured: int | None = None
    _along: dict[frozenset[Hop], int] = field(default_factory=dict, init=False, repr=False)

    @property
    def largest(self) -> int:
        """The bound of a list that names no measure: the longest list of anything in the release."""
        if self.unmeasured is not None:
            return self.unmeasured
        return max([1, *self.counts.values(), *(sum(e.values()) for e in self.edges)])

    def of(self, measure: str) -> int:
        return self.counts.get(measure, self.largest)

    def along(self, hops: frozenset[Hop]) -> int:
        """The most edges that any one entity has along ``hops``."""
        if self.unmeasured is not None:
            return self.unmeasured
        if hops not in self._along:
            self._along[hops] = max((sum(n for hop, n in e.items() if hop in hops) for e in self.edges), default=0)
        return self._along[hops]


def longest(groups: Iterable[object]) -> int:
    """The size of the largest group among ``groups`` (each item names its group once per member)."""
    return max(Counter(groups).values(), default=0)


async def measure(context: Context) -> Sizes:
    """The sizes of the release that ``context`` reads (a few whole-table queries, run once at load)."""
    from kg.graphql.disagreements import curator_assertions, disagreements
    from kg.graphql.evidence import beliefs

    per_entity: dict[str, Counter[Hop]] = defaultdict(Counter)
    per_edge: Counter[tuple[str, str, str, str]] = Counter()
    for row in await context.rows("entity_relations"):
        relation = RELATIONS.get(row["predicate"].value)
        if relation is None:
            continue
        direction = Direction(row["direction"].value)
        key = (row["entity"].value, relation.value, direction.value, row["other"].value)
        if key not in per_edge:
            per_entity[row["entity"].value][(relation, direction)] += 1
        per_edge[key] += 1
    cards = await context.rows("entity_cards")
    therapies = await context.rows("disease_therapies")
    counts = {
        "claims_per_edge": max(per_edge.values(), default=0),
        "mappings": longest(r["entity"].value for r in cards if r["field"].value == "mapping"),
        "contexts_per_claim": longest(r["claim"].value for r in await context.rows("claim_contexts")),
        "inputs_per_belief": max((len(b.inputs) for b in (await beliefs(context)).values()), default=0),
        "sources": len(await context.rows("sources")),
        "therapies_per_disease": len(await context.rows("therapies_per_disease")),
        "therapies_of_a_disease": longest(r["disease"].value for r in therapies),
        "claims_per_source_and_certainty": len(await context.rows("claims_per_source_and_certainty")),
        "curator_assertions": len(await curator_assertions(context, None)),
        "disagreements": len(await disagreements(context, None, None)),
    }
    return Sizes(counts, list(per_entity.values()))
