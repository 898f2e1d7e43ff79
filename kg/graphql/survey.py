"""The survey of a loaded release that kg.graphql.sizes keeps: a few whole-table queries, through the same named
queries the resolvers read, run once when the release loads."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

from kg.graphql.context import RELATIONS, Context
from kg.graphql.disagreements import curator_assertions, disagreements
from kg.graphql.evidence import beliefs
from kg.graphql.model import Direction, Hop
from kg.graphql.sizes import Sizes


def longest(groups: Iterable[object]) -> int:
    """The size of the largest group among ``groups`` (each item names its group once per member)."""
    return max(Counter(groups).values(), default=0)


async def measure(context: Context) -> Sizes:
    """The sizes of the release that ``context`` reads (a few whole-table queries, run once at load)."""
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
