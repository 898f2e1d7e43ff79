"""How long each list of the GraphQL schema can be in the loaded release: measured once per release from the store
(kg.graphql.survey, through the named queries the resolvers read), so the cost of a document (kg.graphql.limits) is
an upper bound of the work it can cause, not a guess.

A list field says which measure bounds it in its strawberry ``metadata`` (``sized("sources")``, or ``along(hops)``
for a relation field: the most edges any one entity has along those hops). A list field that says nothing, outside
a page, is bounded by the largest measure of all (sound, if pessimistic). Lists of scalars cost nothing below
them, so they need no measure."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from kg.graphql.model import Hop

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

    @cached_property
    def largest(self) -> int:
        """The bound of a list that names no measure: the longest list of anything in the release (computed once:
        every unsized list of every document checked asks for it, and ``edges`` has one item per entity)."""
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
