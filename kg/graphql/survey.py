"""The survey of a loaded release that kg.graphql.sizes keeps: a few whole-table queries, through the same named
queries the resolvers read, run once when the release loads."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

from kg.graphql.context import RELATIONS, Context
from kg.graphql.disagreements import curator_assertions, disagreements
from kg.graphql.evidence import belief_inputs
from kg.graphql.model import Direction, Hop
from kg.graphql.sizes import Sizes


def longest(groups: Iterable[object]) -> int:
    """The size of the largest group among ``groups`` (each item names its group once per member)."""
    return max(Counter(groups).values(), default=0)


async def measure(context: Context) -> Sizes:
    """The sizes of the release that ``context`` reads (a few whole-table queries, run once at load)."""
    per_entity: dict[str, Counter[Hop]] = defaultdict(Counter)
    claims_per_edge = 0
    for edge in context.services.edges.all():  # the summaries: one per statement, with its number of claims
        relation = RELATIONS.get(edge.predicate)
        if relation is None:
            continue
        per_entity[edge.subject][(relation, Direction.OUTGOING)] += 1
        if edge.object != edge.subject:
            per_entity[edge.object][(relation, Direction.INCOMING)] += 1
        claims_per_edge = max(claims_per_edge, edge.claims)
    cards = await context.rows("entity_cards")
    therapies = await context.rows("disease_therapies")
    counts = {
        "claims_per_edge": claims_per_edge,
        "relation_groups": max((len(hops) for hops in per_entity.values()), default=0),
        "mappings": longest(r["entity"].value for r in cards if r["field"].value == "mapping"),
        "contexts_per_claim": longest(r["claim"].value for r in await context.rows("claim_contexts")),
        "inputs_per_belief": max((len(i) for i in (await belief_inputs(context)).values()), default=0),
        "sources": len(await context.rows("sources")),
        "therapies_per_disease": len(await context.rows("therapies_per_disease")),
        "therapies_of_a_disease": longest(r["disease"].value for r in therapies),
        "claims_per_source_and_certainty": len(await context.rows("claims_per_source_and_certainty")),
        "curator_assertions": len(await curator_assertions(context, None)),
        "disagreements": len(await disagreements(context, None, None)),
    }
    return Sizes(counts, list(per_entity.values()))
