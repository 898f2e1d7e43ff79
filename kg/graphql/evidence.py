"""The computed belief of an edge (from the inferred graph): its score, read from the edge summaries, and the inputs
that explain it (``queries/belief.rq``), one per claim of the statement."""

from __future__ import annotations

from typing import cast

import strawberry
from strawberry.types import Info

from kg.graphql.context import Context
from kg.graphql.sizes import sized
from kg.namespaces import curie

Statement = tuple[str, str, str]
"""(subject, predicate, object) IRIs of a summary edge."""


@strawberry.type(description="One claim's contribution to a belief.")
class BeliefInput:
    claim: strawberry.ID = strawberry.field(description="The claim (IRI).")
    source: strawberry.ID = strawberry.field(description="Its source (IRI).")
    direction: str = strawberry.field(description='"supports", or "refutes" for a negated claim.')
    source_prior: float = strawberry.field(description="The prior of the source's content type.")
    certainty_weight: float = strawberry.field(description="The weight of the claim's certainty.")
    probability: float = strawberry.field(description="source prior x certainty weight.")
    counted: bool = strawberry.field(description="True when this claim stands for its source (its strongest).")
    via_grouping: list[strawberry.ID] = strawberry.field(
        description="The curator groupings (scad:sameConceptAs assertions) this claim was carried across: it is about "
        "another member of the grouping. Empty for a claim that states the edge itself."
    )

    @strawberry.field
    def claim_curie(self) -> str:
        return curie(str(self.claim))


@strawberry.type(
    description="A computed, never authored, belief in the edge: noisy-OR over its sources of source prior x "
    "certainty weight, times (1 - the same for negated claims); priors in ontology/belief-priors.ttl."
)
class Belief:
    score: float = strawberry.field(description="Read from the edge summaries of the release (kg build).")
    statement: strawberry.Private[Statement]

    @strawberry.field(description="One per claim of the statement.", metadata=sized("inputs_per_belief"))
    async def inputs(self, info: Info[Context, None]) -> list[BeliefInput]:
        return (await belief_inputs(info.context)).get(self.statement, [])


async def belief_inputs(context: Context) -> dict[Statement, list[BeliefInput]]:
    """Every edge's belief inputs (``queries/belief.rq``), read once per request and only when asked for."""
    found = context.memo.get("belief")
    if found is not None:
        return cast(dict[Statement, list[BeliefInput]], found)
    table: dict[Statement, list[BeliefInput]] = {}
    for r in await context.rows("belief"):
        key = (r["subject"].value, r["predicate"].value, r["object"].value)
        table.setdefault(key, []).append(
            BeliefInput(
                claim=strawberry.ID(r["claim"].value),
                source=strawberry.ID(r["source"].value),
                direction=r["direction"].value,
                source_prior=float(r["sourcePrior"].value),
                certainty_weight=float(r["certaintyWeight"].value),
                probability=float(r["probability"].value),
                counted=r["counted"].value == "true",
                via_grouping=[strawberry.ID(v) for v in r["via"].value.split()] if r.get("via") else [],
            )
        )
    for inputs in table.values():
        inputs.sort(key=lambda i: str(i.claim))
    context.memo["belief"] = table
    return table
