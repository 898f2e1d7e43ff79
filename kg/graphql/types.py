"""The GraphQL object types: an ``Entity`` interface with one type per kind, edges that carry their evidence, claims
and sources. Relation fields are generated from one table, so every relation can be followed both ways."""

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

import strawberry
from strawberry.types import Info

from kg.graphql.context import RELATIONS, Context
from kg.graphql.evidence import Belief, Statement
from kg.graphql.model import (
    BROADER,
    IN,
    NARROWER,
    OUT,
    TREATS,
    Card,
    Certainty,
    ClaimData,
    Direction,
    EdgeData,
    EvidenceDirection,
    Hop,
    MappingData,
    QuoteRole,
    Relation,
    SourceData,
    to_iri,
)
from kg.graphql.paging import PageInfo, encode_cursor, page_info, window
from kg.graphql.sizes import along, sized
from kg.namespaces import PREFIXES, curie
from kg.store.edges import EdgeSummary

T = TypeVar("T")
LazyEntity = Annotated["Entity", strawberry.lazy("kg.graphql.types")]
ALL_HOPS: list[Hop] = [(r, d) for r in Relation for d in (Direction.INCOMING, Direction.OUTGOING)]
"""Every hop, in the order of the Relation enum, incoming first (the order of an entity page's groups)."""
MATCH_NAMES = {
    PREFIXES["skos"] + "exactMatch": "EXACT",
    PREFIXES["skos"] + "closeMatch": "CLOSE",
    PREFIXES["skos"] + "broadMatch": "BROAD",
    PREFIXES["skos"] + "narrowMatch": "NARROW",
    PREFIXES["skos"] + "relatedMatch": "RELATED",
}


@strawberry.type(description="An identifier of the entity in an external resource (MONDO, CL, UBERON, GO, MAxO...).")
class ExternalId:
    id: strawberry.ID = strawberry.field(description="The external IRI.")
    curie: str
    match: str = strawberry.field(description="EXACT, CLOSE, BROAD, NARROW or RELATED (SKOS mapping).")
    verification: str = strawberry.field(
        description="How it was checked: VERIFIED_IN_ONTOLOGY, VERIFIED_IN_CURATED_MAPPINGS, SECONDARY or UNVERIFIED."
    )
    verified: bool = strawberry.field(description="False for an unverified identifier, which is never asserted.")
    label: str | None = strawberry.field(description="The label seen where it was verified.")


VERIFICATION = {
    "VerifiedInOntology": "VERIFIED_IN_ONTOLOGY",
    "VerifiedInCuratedMappings": "VERIFIED_IN_CURATED_MAPPINGS",
    "VerifiedSecondary": "SECONDARY",
    "Unverified": "UNVERIFIED",
}


def external_id(m: MappingData) -> ExternalId:
    status = VERIFICATION.get(m.status.rsplit("#", 1)[-1], "UNVERIFIED")
    return ExternalId(
        id=strawberry.ID(m.target),
        curie=curie(m.target),
        match=MATCH_NAMES.get(m.predicate, "RELATED"),
        verification=status,
        verified=status != "UNVERIFIED",
        label=m.label,
    )


@strawberry.input(description="Which edges to keep, by the evidence behind them.")
class EdgeFilter:
    min_sources: int | None = strawberry.field(default=None, description="At least this many independent sources.")
    exclude_promotional: bool = strawberry.field(default=False, description="Ignore claims of promotional sources.")
    min_certainty: Certainty | None = strawberry.field(default=None, description="At least one claim this strong.")
    evidence_kind: strawberry.ID | None = strawberry.field(
        default=None, description="At least one claim citing this kind of evidence (IRI or CURIE)."
    )
    min_belief: float | None = strawberry.field(
        default=None, description="A computed belief of at least this much (0 to 1); see Evidence.belief."
    )


def supporting(edge: EdgeData, where: EdgeFilter | None) -> list[ClaimData] | None:
    """The non-negated claims that keep the edge under ``where``; None when the edge is filtered out."""
    claims = [c for c in edge.claims if not c.negated]
    if where is not None and where.exclude_promotional:
        claims = [c for c in claims if not c.source.promotional]
    if not claims:
        return None
    if where is None:
        return claims
    if where.min_sources is not None and len({c.source.iri for c in claims}) < where.min_sources:
        return None
    if where.min_certainty is not None and max(c.certainty.rank for c in claims) < where.min_certainty.rank:
        return None
    if where.evidence_kind is not None:
        kind = to_iri(str(where.evidence_kind))
        if not any(c.evidence == kind for c in claims):
            return None
    return claims


@strawberry.type(description="A source article.")
class Source:
    source: strawberry.Private[SourceData]

    @strawberry.field(description="The source's IRI.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.source.iri)

    @strawberry.field
    def curie(self) -> str:
        return curie(self.source.iri)

    @strawberry.field
    def title(self) -> str:
        return self.source.title

    @strawberry.field(description="True for clinic marketing or SEO promotion (sources 000 and 002).")
    def is_promotional(self) -> bool:
        return self.source.promotional

    @strawberry.field(description="ClinicMarketing, SEOPromotional, SiteSelfPromotion or Neutral.")
    async def content_type(self, info: Info[Context, None]) -> str | None:
        details = await source_details(info.context, self.source.iri)
        return details.get("contentType")

    @strawberry.field
    async def creator(self, info: Info[Context, None]) -> str | None:
        return (await source_details(info.context, self.source.iri)).get("creator")

    @strawberry.field
    async def date(self, info: Info[Context, None]) -> str | None:
        return (await source_details(info.context, self.source.iri)).get("date")

    @strawberry.field(description="The sentence with which the source asks readers to contact, visit or buy.")
    async def call_to_action(self, info: Info[Context, None]) -> str | None:
        return (await source_details(info.context, self.source.iri)).get("callToAction")

    @strawberry.field(description="The organization whose services or site the source promotes.")
    async def promotes(self, info: Info[Context, None]) -> LazyEntity | None:
        iri = (await source_details(info.context, self.source.iri)).get("promotes")
        return await load_entity(info.context, iri) if iri else None

    @strawberry.field(description="How many claims the source makes.")
    async def claim_count(self, info: Info[Context, None]) -> int:
        return int((await source_details(info.context, self.source.iri)).get("claims") or 0)


async def source_details(context: Context, iri: str) -> dict[str, str]:
    for row in await context.rows("sources"):
        if row["source"].value == iri:
            return {k: v.value for k, v in row.items()}
    return {}


@strawberry.type(description="One statement made by one source, with how it is made.")
class Claim:
    claim: strawberry.Private[ClaimData]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.claim.iri)

    @strawberry.field
    def curie(self) -> str:
        return curie(self.claim.iri)

    @strawberry.field(description="The source's own words, verbatim.")
    def quote(self) -> str:
        return self.claim.quote

    @strawberry.field
    def certainty(self) -> Certainty:
        return self.claim.certainty

    @strawberry.field(description="True when the source states that the relation does not hold.")
    def negated(self) -> bool:
        return self.claim.negated

    @strawberry.field(
        description="Which way the quote bears on the claim's statement: REFUTES exactly for a negated claim."
    )
    def evidence_direction(self) -> EvidenceDirection:
        return self.claim.evidence_direction

    @strawberry.field(description="What part the quote plays in its source (a curator's judgement).")
    def quote_role(self) -> QuoteRole:
        return self.claim.quote_role

    @strawberry.field(description='Limits the source puts on the claim ("in some patients").')
    def scope(self) -> str | None:
        return self.claim.scope

    @strawberry.field(description='The word that hedges the claim ("may", "potential").')
    def hedge_cue(self) -> str | None:
        return self.claim.hedge

    @strawberry.field
    def source(self) -> Source:
        return Source(source=self.claim.source)

    @strawberry.field(description="The relation stated, when it links two entities.")
    def relation(self) -> Relation | None:
        try:
            return Relation(self.claim.predicate)
        except ValueError:
            return None

    @strawberry.field(description="The predicate as a CURIE (also for relations to a value).")
    def predicate(self) -> str:
        return curie(self.claim.predicate)

    @strawberry.field
    async def subject(self, info: Info[Context, None]) -> LazyEntity | None:
        return await load_entity(info.context, self.claim.subject)

    @strawberry.field
    async def object(self, info: Info[Context, None]) -> LazyEntity | None:
        return await load_entity(info.context, self.claim.object) if self.claim.object else None

    @strawberry.field(description="The value, when the claim relates its subject to text rather than an entity.")
    def object_literal(self) -> str | None:
        return self.claim.object_literal

    @strawberry.field(
        description="The diseases the claim is stated for, when the source limits it.",
        metadata=sized("contexts_per_claim"),
    )
    async def context_diseases(self, info: Info[Context, None]) -> list[LazyEntity]:
        iris = (await info.context.contexts()).get(self.claim.iri, [])
        cards = await info.context.cards.load_many(sorted(iris))
        return [entity(c) for c in cards if c is not None]

    @strawberry.field(description="The kind of evidence the source says the claim rests on.")
    async def claimed_evidence(self, info: Info[Context, None]) -> LazyEntity | None:
        return await load_entity(info.context, self.claim.evidence) if self.claim.evidence else None


@strawberry.type
class ClaimEdge:
    cursor: str
    node: Claim


@strawberry.type(description="A page of claims.")
class ClaimConnection:
    edges: list[ClaimEdge]
    page_info: PageInfo
    total_count: int


def claim_connection(
    claims: list[ClaimData], first: int | None, after: str | None, last: int | None, before: str | None
) -> ClaimConnection:
    """A page of ``claims`` (in IRI order), keyed by IRI."""
    at = window([[c.iri] for c in claims], first, after, last, before)
    edges = [ClaimEdge(cursor=encode_cursor(c.iri), node=Claim(claim=c)) for c in claims[at.start : at.stop]]
    return ClaimConnection(edges=edges, page_info=page_info([e.cursor for e in edges], at), total_count=len(claims))


@strawberry.type(description="The claims behind an edge, and a summary of them (computed once per release).")
class Evidence:
    source_count: int = strawberry.field(description="Independent sources among the supporting claims.")
    non_promotional_source_count: int
    strongest_certainty: Certainty
    promotional_only: bool = strawberry.field(description="True when every supporting source is promotional.")
    claim_count: int = strawberry.field(description="Claims of the edge's statement, negated ones included.")
    entity: strawberry.Private[str]
    hop: strawberry.Private[tuple[Relation, Direction, str]]
    statement: strawberry.Private[Statement]
    score: strawberry.Private[float | None]

    @strawberry.field(
        description="A page of the claims of the edge's statement, negated ones included, in the order of their IRIs.",
        metadata=sized("claims_per_edge"),
    )
    async def claims(
        self,
        info: Info[Context, None],
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> ClaimConnection:
        relation, direction, other = self.hop
        edges = await info.context.relations.load(self.entity)
        found = next(
            (e.claims for e in edges if e.relation is relation and e.direction is direction and e.other == other), []
        )
        return claim_connection(found, first, after, last, before)

    @strawberry.field(description="The computed belief in the edge's statement and its inputs (never authored).")
    def belief(self) -> Belief | None:
        return None if self.score is None else Belief(score=self.score, statement=self.statement)


@strawberry.enum(
    description="Orderings of an entity's relations; ties go by the label of the other entity, then the relation, "
    "the direction and the IRI, so cursors are stable."
)
class RelationOrder(enum.Enum):
    LABEL = "label"
    SOURCES_DESC = "sources_desc"
    BELIEF_DESC = "belief_desc"


@dataclass(frozen=True)
class Link:
    """One edge of an entity, from its summary: kept by a filter, with the label of the entity at the other end."""

    relation: Relation
    direction: Direction
    other: str
    label: str
    sources: int
    belief: float | None
    evidence: Evidence

    def key(self, order: RelationOrder) -> list[Any]:
        tie = [self.label.casefold(), self.relation.name, self.direction.value, self.other]
        if order is RelationOrder.SOURCES_DESC:
            return [-self.sources, *tie]
        if order is RelationOrder.BELIEF_DESC:
            return [-(self.belief if self.belief is not None else -1.0), *tie]
        return tie


def statement_of(iri: str, relation: Relation, direction: Direction, other: str) -> Statement:
    if direction is Direction.OUTGOING:
        return (iri, relation.value, other)
    return (other, relation.value, iri)


def kept(summary: EdgeSummary, where: EdgeFilter | None) -> tuple[int, int] | None:
    """(independent sources, strongest certainty rank) of the supporting claims ``where`` counts, or None when the
    edge is filtered out. Only the summary is read: a filter on the kind of evidence is applied by ``links``."""
    promotional = where is not None and where.exclude_promotional
    sources = summary.neutral_sources if promotional else summary.sources
    strongest = summary.strongest_neutral if promotional else summary.strongest
    if sources == 0:
        return None
    if where is None:
        return sources, strongest
    if where.min_sources is not None and sources < where.min_sources:
        return None
    if where.min_certainty is not None and strongest < where.min_certainty.rank:
        return None
    if where.min_belief is not None and (summary.belief is None or summary.belief < where.min_belief):
        return None
    return sources, strongest


async def links(context: Context, iri: str, hops: Iterable[Hop], where: EdgeFilter | None) -> list[Link]:
    """The edges of ``iri`` along ``hops`` that ``where`` keeps, unordered; each costs a summary and a label, not its
    claims (those are read only for a filter on the kind of evidence, or when a client asks for them)."""
    wanted = set(hops)
    chosen: list[tuple[Relation, Direction, str, EdgeSummary, int, int]] = []
    for summary in await context.summaries.load(iri):
        relation = RELATIONS.get(summary.predicate)
        if relation is None:
            continue
        direction, other = (OUT, summary.object) if summary.subject == iri else (IN, summary.subject)
        if (relation, direction) not in wanted:
            continue
        found = kept(summary, where)
        if found is not None:
            chosen.append((relation, direction, other, summary, *found))
    if where is not None and where.evidence_kind is not None and chosen:
        kind = to_iri(str(where.evidence_kind))
        claims = {(e.relation, e.direction, e.other): e for e in await context.relations.load(iri)}
        chosen = [
            c
            for c in chosen
            if (edge := claims.get((c[0], c[1], c[2]))) is not None
            and any(claim.evidence == kind for claim in supporting(edge, where) or [])
        ]
    labels = context.services.labels.preferred([c[2] for c in chosen])
    result = []
    for relation, direction, other, summary, sources, strongest in chosen:
        label = labels.get(other)
        if label is None:  # not an entity of a kind (no card either)
            continue
        evidence = Evidence(
            source_count=sources,
            non_promotional_source_count=summary.neutral_sources,
            strongest_certainty=list(Certainty)[strongest - 1],
            promotional_only=summary.neutral_sources == 0,
            claim_count=summary.claims,
            entity=iri,
            hop=(relation, direction, other),
            statement=statement_of(iri, relation, direction, other),
            score=summary.belief,
        )
        result.append(Link(relation, direction, other, label, sources, summary.belief, evidence))
    return result


@strawberry.type(description="A related entity, the relation and the evidence for it: an edge of a relation page.")
class Relationship(Generic[T]):
    cursor: str
    node: T
    relation: Relation
    direction: Direction
    evidence: Evidence


@strawberry.type(description="A page of an entity's relations (the Relay connection spec).")
class RelationConnection(Generic[T]):
    edges: list[Relationship[T]]
    page_info: PageInfo
    total_count: int = strawberry.field(description="Relations in the whole list (under the filter).")


async def relation_page(
    context: Context,
    iri: str,
    hops: Iterable[Hop],
    where: EdgeFilter | None,
    order: RelationOrder,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
) -> RelationConnection[Any]:
    """A page of the edges of ``iri`` along ``hops``: ordered and cut from the summaries, so only the page's entities
    are loaded."""
    found = await links(context, iri, hops, where)
    found.sort(key=lambda link: link.key(order))
    at = window([link.key(order) for link in found], first, after, last, before)
    chosen = found[at.start : at.stop]
    cards = await context.cards.load_many([link.other for link in chosen])
    edges = [
        Relationship(
            cursor=encode_cursor(*link.key(order)),
            node=entity(card),
            relation=link.relation,
            direction=link.direction,
            evidence=link.evidence,
        )
        for link, card in zip(chosen, cards, strict=True)
        if card is not None
    ]
    return RelationConnection(edges=edges, page_info=page_info([e.cursor for e in edges], at), total_count=len(found))


@strawberry.type(description="An entity's relations of one relation and direction: how many, and a page of them.")
class RelationGroup:
    relation: Relation
    direction: Direction
    total_count: int = strawberry.field(description="Relations of the group (under the filter).")
    entity: strawberry.Private[str]
    where: strawberry.Private[EdgeFilter | None]

    @strawberry.field(description="A page of the group's relations.")
    async def relationships(
        self,
        info: Info[Context, None],
        order_by: RelationOrder = RelationOrder.LABEL,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> RelationConnection[LazyEntity]:
        hops = [(self.relation, self.direction)]
        return await relation_page(info.context, self.entity, hops, self.where, order_by, first, after, last, before)


@strawberry.interface(description="Anything the sources talk about: a disease, a cell type, a therapy...")
class Entity:
    card: strawberry.Private[Card]

    @strawberry.field(description="The entity's IRI.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.card.iri)

    @strawberry.field
    def curie(self) -> str:
        return self.card.curie

    @strawberry.field(description="The preferred label.")
    def label(self) -> str:
        return self.card.label

    async def whole(self, info: Info[Context, None]) -> Card:
        """The whole card: this one, or, for a card made from the recorded heads, the one built from the store."""
        if self.card.complete:
            return self.card
        return await info.context.full.load(self.card.iri) or self.card

    @strawberry.field
    async def synonyms(self, info: Info[Context, None]) -> list[str]:
        return (await self.whole(info)).synonyms

    @strawberry.field
    async def definition(self, info: Info[Context, None]) -> str | None:
        return (await self.whole(info)).definition

    @strawberry.field(description="Curators' notes on how the sources' words were read.")
    async def notes(self, info: Info[Context, None]) -> list[str]:
        return (await self.whole(info)).notes

    @strawberry.field(description="The ontology classes of the entity, as CURIEs (scad:StemCellTherapy...).")
    async def classes(self, info: Info[Context, None]) -> list[str]:
        return sorted(curie(t) for t in (await self.whole(info)).types)

    @strawberry.field(
        description="External identifiers with their verification status, unverified ones included.",
        metadata=sized("mappings"),
    )
    async def external_ids(self, info: Info[Context, None]) -> list[ExternalId]:
        return [external_id(m) for m in (await self.whole(info)).mappings]

    @strawberry.field(
        description="A page of every relation of the entity, either way, with its evidence.",
        metadata=along(ALL_HOPS),
    )
    async def relations(
        self,
        info: Info[Context, None],
        relation: Relation | None = None,
        direction: Direction | None = None,
        filter: EdgeFilter | None = None,
        order_by: RelationOrder = RelationOrder.LABEL,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> RelationConnection[LazyEntity]:
        hops = [
            (r, d) for r, d in ALL_HOPS if (relation is None or r == relation) and (direction is None or d == direction)
        ]
        return await relation_page(info.context, self.card.iri, hops, filter, order_by, first, after, last, before)

    @strawberry.field(
        description="The entity's relations by relation and direction (in the order of the Relation enum, incoming "
        "first), each with its count and a page of its own: what an entity page shows.",
        metadata=sized("relation_groups"),
    )
    async def relation_groups(self, info: Info[Context, None], filter: EdgeFilter | None = None) -> list[RelationGroup]:
        counts: dict[Hop, int] = {}
        for link in await links(info.context, self.card.iri, ALL_HOPS, filter):
            counts[link.relation, link.direction] = counts.get((link.relation, link.direction), 0) + 1
        return [
            RelationGroup(relation=r, direction=d, total_count=counts[r, d], entity=self.card.iri, where=filter)
            for r, d in ALL_HOPS
            if (r, d) in counts
        ]


def relation_field(hops: list[Hop], target: str, description: str) -> Any:
    """A field that pages through ``hops`` to entities of the ``target`` type, with an evidence filter and an
    ordering."""

    async def resolve(
        root: Entity,
        info: Info[Context, None],
        filter: EdgeFilter | None = None,
        order_by: RelationOrder = RelationOrder.LABEL,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Any:
        return await relation_page(info.context, root.card.iri, hops, filter, order_by, first, after, last, before)

    resolve.__annotations__["return"] = RelationConnection[Annotated[target, strawberry.lazy("kg.graphql.types")]]  # type: ignore[valid-type]
    return strawberry.field(resolver=resolve, description=description, metadata=along(hops))


def treats(direction: Direction) -> list[Hop]:
    return [(r, direction) for r in TREATS]


@strawberry.type(description="A disease or group of diseases.")
class Disease(Entity):
    therapies = relation_field(treats(IN), "Therapy", "Therapies studied, considered or offered for it.")
    investigational_therapies = relation_field(
        [(Relation.INVESTIGATED_FOR, IN)], "Therapy", "Therapies studied for it."
    )
    conventional_treatments = relation_field([(Relation.CONVENTIONAL_TREATMENT_FOR, IN)], "Therapy", "Standard care.")
    affected_organs = relation_field([(Relation.AFFECTS_ORGAN, OUT)], "AnatomicalEntity", "Organs it damages.")
    features = relation_field([(Relation.HAS_FEATURE, OUT)], "PathologicalProcess", "Processes it shows.")
    broader = relation_field(BROADER, "Disease", "What the sources call it a kind of.")
    narrower = relation_field(NARROWER, "Disease", "Diseases the sources call a kind of it.")


@strawberry.type(description="A treatment, procedure or step of a procedure.")
class Therapy(Entity):
    diseases = relation_field(treats(OUT), "Disease", "Diseases it is studied, considered or offered for.")
    conventional_treatment_for = relation_field(
        [(Relation.CONVENTIONAL_TREATMENT_FOR, OUT)], "Disease", "As standard care."
    )
    adverse_effects = relation_field([(Relation.HAS_ADVERSE_EFFECT, OUT)], "AdverseEffect", "Risks attributed to it.")
    reduces_risk_of = relation_field([(Relation.REDUCES_RISK_OF, OUT)], "AdverseEffect", "Risks it is said to lower.")
    mechanisms = relation_field([(Relation.HAS_MECHANISM, OUT)], "Mechanism", "How it is said to act.")
    outcomes = relation_field([(Relation.HAS_OUTCOME, OUT)], "Outcome", "Results it is said to have.")
    cell_types = relation_field([(Relation.USES_CELL_TYPE, OUT)], "CellType", "Cells it uses.")
    steps = relation_field([(Relation.HAS_STEP, OUT)], "Therapy", "Its steps.")
    step_of = relation_field([(Relation.HAS_STEP, IN)], "Therapy", "Procedures it is a step of.")
    components = relation_field([(Relation.HAS_COMPONENT, OUT)], "Therapy", "What it is made of.")
    challenges = relation_field(
        [(Relation.HAS_CHALLENGE, OUT), (Relation.HAS_LIMITATION, OUT)], "Challenge", "Challenges and limitations."
    )
    evidence_levels = relation_field([(Relation.HAS_EVIDENCE_LEVEL, OUT)], "EvidenceKind", "Its stage of evidence.")
    offered_by = relation_field([(Relation.OFFERED_BY, OUT)], "Organization", "Who offers it.")
    also_known_as = relation_field(
        [(Relation.ALSO_KNOWN_AS, OUT), (Relation.ALSO_KNOWN_AS, IN)], "Therapy", "Names a source gives it."
    )
    broader = relation_field(BROADER, "Therapy", "What the sources call it a kind of.")
    narrower = relation_field(NARROWER, "Therapy", "Its variants.")


@strawberry.type(description="A kind of cell; stem cell types among them.")
class CellType(Entity):
    tissues = relation_field([(Relation.FOUND_IN, OUT)], "AnatomicalEntity", "Where it is found.")
    harvested_from = relation_field([(Relation.HARVESTED_FROM, OUT)], "AnatomicalEntity", "Where it is harvested.")
    capabilities = relation_field([(Relation.HAS_CAPABILITY, OUT)], "Mechanism", "What it can do.")
    used_in = relation_field([(Relation.USES_CELL_TYPE, IN)], "Therapy", "Therapies that use it.")
    differentiates_into = relation_field(
        [(Relation.DIFFERENTIATES_INTO, OUT)], "Entity", "Cell types and tissues it can become."
    )
    derived_from = relation_field([(Relation.DERIVED_FROM, OUT)], "CellType", "Cells it is made from.")
    broader = relation_field(BROADER, "CellType", "What the sources call it a kind of.")
    narrower = relation_field(NARROWER, "CellType", "Its kinds.")


@strawberry.type(description="A tissue, organ or body fluid.")
class AnatomicalEntity(Entity):
    cell_types = relation_field([(Relation.FOUND_IN, IN)], "CellType", "Cell types found in it.")
    harvested_cell_types = relation_field([(Relation.HARVESTED_FROM, IN)], "CellType", "Cells harvested from it.")
    diseases = relation_field([(Relation.AFFECTS_ORGAN, IN)], "Disease", "Diseases that damage it.")
    differentiated_from = relation_field([(Relation.DIFFERENTIATES_INTO, IN)], "CellType", "Cells that become it.")


@strawberry.type(description="A biological process by which a therapy or cell type is said to act.")
class Mechanism(Entity):
    therapies = relation_field([(Relation.HAS_MECHANISM, IN)], "Therapy", "Therapies said to act this way.")
    cell_types = relation_field([(Relation.HAS_CAPABILITY, IN)], "CellType", "Cell types able to do it.")


@strawberry.type(description="A harm or risk attributed to a therapy.")
class AdverseEffect(Entity):
    therapies = relation_field([(Relation.HAS_ADVERSE_EFFECT, IN)], "Therapy", "Therapies it is attributed to.")
    reduced_by = relation_field([(Relation.REDUCES_RISK_OF, IN)], "Therapy", "Therapies said to lower it.")


@strawberry.type(description="An obstacle or limitation of a therapy.")
class Challenge(Entity):
    therapies = relation_field(
        [(Relation.HAS_CHALLENGE, IN), (Relation.HAS_LIMITATION, IN)], "Therapy", "Therapies it applies to."
    )


@strawberry.type(description="A result a therapy is said to have.")
class Outcome(Entity):
    therapies = relation_field([(Relation.HAS_OUTCOME, IN)], "Therapy", "Therapies said to lead to it.")


@strawberry.type(description="A kind of evidence.")
class EvidenceKind(Entity):
    therapies = relation_field([(Relation.HAS_EVIDENCE_LEVEL, IN)], "Therapy", "Therapies at this stage of evidence.")


@strawberry.type(description="A process of disease.")
class PathologicalProcess(Entity):
    diseases = relation_field([(Relation.HAS_FEATURE, IN)], "Disease", "Diseases that show it.")


@strawberry.type(description="A company or website.")
class Organization(Entity):
    offers = relation_field([(Relation.OFFERED_BY, IN)], "Therapy", "Therapies it offers.")


TYPES: dict[str, type[Entity]] = {
    "Disease": Disease,
    "PathologicalProcess": PathologicalProcess,
    "CellType": CellType,
    "AnatomicalEntity": AnatomicalEntity,
    "Therapy": Therapy,
    "Mechanism": Mechanism,
    "AdverseEffect": AdverseEffect,
    "Challenge": Challenge,
    "Outcome": Outcome,
    "EvidenceKind": EvidenceKind,
    "Organization": Organization,
}


def entity(card: Card) -> Entity:
    return TYPES[card.kind](card=card)


async def load_entity(context: Context, iri: str | None) -> Entity | None:
    if iri is None:
        return None
    card = await context.cards.load(iri)
    return entity(card) if card is not None else None
