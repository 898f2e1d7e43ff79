"""Curator assertions and disagreements between sources, as GraphQL types and the root fields that list them
(``queries/curator_assertions.rq``, ``queries/disagreements.rq``)."""

from __future__ import annotations

import enum

import strawberry
from strawberry.types import Info

from kg.graphql.context import Context, claim_of
from kg.graphql.limits import iri_of
from kg.graphql.sizes import sized
from kg.graphql.types import Claim, LazyEntity, load_entity
from kg.namespaces import curie


@strawberry.type(
    description="A statement made by a curator, not by a source: a grouping of entities the sources name "
    "differently (scad:sameConceptAs) or a broader/narrower link. Its assertion method is curator inference "
    "(ECO:0000305); the rationale is the curator's words, not a quote."
)
class CuratorAssertion:
    id: strawberry.ID
    predicate: str = strawberry.field(description="scad:sameConceptAs, skos:broader or skos:narrower (CURIE).")
    rationale: str = strawberry.field(description="Why the curator made it, in the curator's words.")
    agent: strawberry.ID = strawberry.field(description="Who made it (IRI).")
    agent_label: str | None
    assertion_method: strawberry.ID = strawberry.field(description="kgr:curator-inference (ECO:0000305).")
    derived_from: list[strawberry.ID] = strawberry.field(description="The claims (IRIs) the curator read.")
    subject_iri: strawberry.Private[str]
    object_iri: strawberry.Private[str]

    @strawberry.field
    def curie(self) -> str:
        return curie(str(self.id))

    @strawberry.field
    async def subject(self, info: Info[Context, None]) -> LazyEntity | None:
        return await load_entity(info.context, self.subject_iri)

    @strawberry.field
    async def object(self, info: Info[Context, None]) -> LazyEntity | None:
        return await load_entity(info.context, self.object_iri)


@strawberry.enum(description="How two sources' claims about one statement differ.")
class DisagreementKind(enum.Enum):
    DIRECTION = "direction"
    STRENGTH = "strength"


@strawberry.type(
    description="Two claims of different sources about one statement (counting curator groupings) that differ: "
    "in direction (first states it, second negates it) or in strength (first asserts, second hedges)."
)
class Disagreement:
    kind: DisagreementKind
    predicate: str = strawberry.field(description="The relation both claims state (CURIE).")
    first: Claim = strawberry.field(description="The positive claim (direction) or the stronger one (strength).")
    second: Claim
    grouped: bool = strawberry.field(description="True when the two meet only through a curator grouping.")


async def curator_assertions(context: Context, entity: str | None) -> list[CuratorAssertion]:
    result = []
    for r in await context.rows("curator_assertions"):
        if entity is not None and entity not in (r["subject"].value, r["object"].value):
            continue  # a narrowing filter written here: a VALUES binding of ?entity would not narrow these rows
        label = r.get("agentLabel")
        result.append(
            CuratorAssertion(
                id=strawberry.ID(r["assertion"].value),
                predicate=curie(r["predicate"].value),
                rationale=r["rationale"].value,
                agent=strawberry.ID(r["agent"].value),
                agent_label=label.value if label is not None else None,
                assertion_method=strawberry.ID(r["method"].value),
                derived_from=[strawberry.ID(c) for c in sorted(r["derivedFrom"].value.split())],
                subject_iri=r["subject"].value,
                object_iri=r["object"].value,
            )
        )
    return result


async def disagreements(context: Context, entity: str | None, kind: DisagreementKind | None) -> list[Disagreement]:
    rows = [
        r
        for r in await context.rows("disagreements")
        if (kind is None or r["disagreement"].value == kind.value)
        and (entity is None or entity in {r[v].value for v in ("subject", "object", "otherSubject", "otherObject")})
    ]
    claims = {r["claim"].value: claim_of(r) for r in await context.rows("claims")} if rows else {}
    return [
        Disagreement(
            kind=DisagreementKind(r["disagreement"].value),
            predicate=curie(r["predicate"].value),
            first=Claim(claim=claims[r["claim"].value]),
            second=Claim(claim=claims[r["other"].value]),
            grouped=r["grouped"].value == "true",
        )
        for r in rows
    ]


@strawberry.type
class EvidenceQueries:
    """Root fields of this module, mixed into the Query type by kg.graphql.schema."""

    @strawberry.field(
        description="Statements made by curators (not sources), optionally about one entity.",
        metadata=sized("curator_assertions"),
    )
    async def curator_assertions(
        self, info: Info[Context, None], entity: strawberry.ID | None = None
    ) -> list[CuratorAssertion]:
        return await curator_assertions(info.context, iri_of(str(entity), "entity") if entity else None)

    @strawberry.field(
        description="Pairs of claims where sources disagree in direction or strength, counting curator groupings.",
        metadata=sized("disagreements"),
    )
    async def disagreements(
        self, info: Info[Context, None], entity: strawberry.ID | None = None, kind: DisagreementKind | None = None
    ) -> list[Disagreement]:
        return await disagreements(info.context, iri_of(str(entity), "entity") if entity else None, kind)
