"""The GraphQL schema: the root fields, the limits of kg.graphql.limits put to work, and the response extensions (the
data release; with debug, the store queries run and their time)."""

from __future__ import annotations

import asyncio
import enum
import time
from collections.abc import AsyncIterator
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors, SchemaExtension
from strawberry.schema.schema import validate_document
from strawberry.types import Info

from kg.errors import KgError
from kg.graphql.connections import (
    ClaimFilter,
    EntityConnection,
    EntityFilter,
    EntityOrder,
    claim_page,
    entity_page,
)
from kg.graphql.context import Context, claim_of
from kg.graphql.disagreements import EvidenceQueries
from kg.graphql.limits import Checked, InvalidInput, check, iri_of, over_budget, page_size
from kg.graphql.model import KINDS, Certainty, Relation, SourceData
from kg.graphql.sizes import sized
from kg.graphql.types import TYPES, Claim, ClaimConnection, Entity, Source, entity, load_entity
from kg.namespaces import SCAD
from kg.store.labels import Match

PLURALS = [
    "diseases",
    "pathological_processes",
    "cell_types",
    "anatomical_entities",
    "therapies",
    "mechanisms",
    "adverse_effects",
    "challenges",
    "outcomes",
    "evidence_kinds",
    "organizations",
]


@strawberry.enum(description="The kinds of entity.")
class EntityKind(enum.Enum):
    DISEASE = "Disease"
    PATHOLOGICAL_PROCESS = "PathologicalProcess"
    CELL_TYPE = "CellType"
    ANATOMICAL_ENTITY = "AnatomicalEntity"
    THERAPY = "Therapy"
    MECHANISM = "Mechanism"
    ADVERSE_EFFECT = "AdverseEffect"
    CHALLENGE = "Challenge"
    OUTCOME = "Outcome"
    EVIDENCE_KIND = "EvidenceKind"
    ORGANIZATION = "Organization"


@strawberry.enum
class MatchKind(enum.Enum):
    EXACT_LABEL = "EXACT_LABEL"
    EXACT_SYNONYM = "EXACT_SYNONYM"
    PREFIX_LABEL = "PREFIX_LABEL"
    PREFIX_SYNONYM = "PREFIX_SYNONYM"
    WORD_LABEL = "WORD_LABEL"
    WORD_SYNONYM = "WORD_SYNONYM"
    SUBSTRING = "SUBSTRING"


@strawberry.type(description="A search result: the entity and the label or synonym that matched.")
class SearchHit:
    entity: Entity
    matched: str
    match: MatchKind


@strawberry.type
class DiseaseTherapyCount:
    disease: Entity
    therapy_count: int
    therapies: list[Entity] = strawberry.field(metadata=sized("therapies_of_a_disease"))


@strawberry.type
class SourceCertaintyCount:
    source: Source
    certainty: Certainty
    claim_count: int


@strawberry.type(description="Counts for facets and charts.")
class Facets:
    @strawberry.field(
        description="Stem-cell therapies studied, considered or offered per disease (CQ29).",
        metadata=sized("therapies_per_disease"),
    )
    async def therapies_per_disease(self, info: Info[Context, None]) -> list[DiseaseTherapyCount]:
        context = info.context
        rows = await context.rows("therapies_per_disease")
        therapies: dict[str, list[str]] = {}
        for r in await context.rows("disease_therapies"):
            therapies.setdefault(r["disease"].value, []).append(r["therapy"].value)
        # one batch for every card on the page: the diseases and all their therapies
        wanted = sorted({r["disease"].value for r in rows} | {t for ts in therapies.values() for t in ts})
        cards = dict(zip(wanted, await context.cards.load_many(wanted), strict=True))
        result = []
        for row in rows:
            card = cards.get(row["disease"].value)
            if card is None:
                continue
            linked = [cards.get(t) for t in sorted(therapies.get(card.iri, []))]
            result.append(
                DiseaseTherapyCount(
                    disease=entity(card),
                    therapy_count=int(row["therapies"].value),
                    therapies=[entity(c) for c in linked if c is not None],
                )
            )
        return result

    @strawberry.field(description="Claims per source and certainty.", metadata=sized("claims_per_source_and_certainty"))
    async def claims_per_source_and_certainty(self, info: Info[Context, None]) -> list[SourceCertaintyCount]:
        context = info.context
        titles = {r["source"].value: r for r in await context.rows("sources")}
        result = []
        for row in await context.rows("claims_per_source_and_certainty"):
            source = titles[row["source"].value]
            data = SourceData(source["source"].value, source["title"].value, source["isPromotional"].value == "true")
            result.append(
                SourceCertaintyCount(
                    source=Source(source=data),
                    certainty=Certainty(row["certainty"].value),
                    claim_count=int(row["claims"].value),
                )
            )
        return result


@strawberry.type
class Query(EvidenceQueries):
    @strawberry.field(description="One entity by IRI or CURIE (kgr:lupus); null when there is none.")
    async def entity(self, info: Info[Context, None], id: strawberry.ID) -> Entity | None:
        return await load_entity(info.context, iri_of(str(id), "id"))

    @strawberry.field(description="A page of entities of one kind.")
    async def entities(
        self,
        info: Info[Context, None],
        kind: EntityKind,
        filter: EntityFilter | None = None,
        order_by: EntityOrder = EntityOrder.LABEL,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> EntityConnection:
        return await entity_page(info.context, kind.value, filter, order_by, first, after, last, before)

    @strawberry.field(description="Search-as-you-type over labels and synonyms: exact label, synonym, then prefix.")
    async def search(
        self, info: Info[Context, None], text: str, types: list[EntityKind] | None = None, first: int = 10
    ) -> list[SearchHit]:
        size = page_size(first)
        if len(text) > 200:
            raise InvalidInput("text is longer than 200 characters")
        kinds = [SCAD + k.value for k in types or []]
        hits = info.context.services.labels.search(text, kinds, size)
        cards = await info.context.cards.load_many([h.entity for h in hits])
        return [
            SearchHit(entity=entity(card), matched=hit.label, match=MatchKind(Match(hit.match).name))
            for hit, card in zip(hits, cards, strict=True)
            if card is not None
        ]

    @strawberry.field(description="A page of claims.")
    async def claims(
        self,
        info: Info[Context, None],
        filter: ClaimFilter | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> ClaimConnection:
        return await claim_page(info.context, filter, first, after, last, before)

    @strawberry.field(description="One claim by IRI or CURIE (kgr:C003-084); null when there is none.")
    async def claim(self, info: Info[Context, None], id: strawberry.ID) -> Claim | None:
        query = info.context.services.catalog.get("claims")
        rows = await info.context.rows("claims", query.bind({"claim": iri_of(str(id), "id")}))
        if not rows:
            return None
        row = rows[0]
        return Claim(claim=claim_of(row))

    @strawberry.field(description="The source articles.", metadata=sized("sources"))
    async def sources(self, info: Info[Context, None]) -> list[Source]:
        return await all_sources(info.context)

    @strawberry.field(description="One source article by IRI or CURIE (kgr:source-003); null when there is none.")
    async def source(self, info: Info[Context, None], id: strawberry.ID) -> Source | None:
        iri = iri_of(str(id), "id")
        return next((s for s in await all_sources(info.context) if s.source.iri == iri), None)

    @strawberry.field(description="Counts for facets and charts.")
    def facets(self) -> Facets:
        return Facets()


async def all_sources(context: Context) -> list[Source]:
    rows = await context.rows("sources")
    return [
        Source(source=SourceData(r["source"].value, r["title"].value, r["isPromotional"].value == "true")) for r in rows
    ]


def _kind_connections() -> dict[str, Any]:
    """One root connection per kind (diseases, therapies, ...), each a shortcut for ``entities(kind:)``."""
    fields = {}
    for kind, name in zip(KINDS, PLURALS, strict=True):

        def make(kind: str) -> Any:
            async def resolve(
                info: Info[Context, None],
                filter: EntityFilter | None = None,
                order_by: EntityOrder = EntityOrder.LABEL,
                first: int | None = None,
                after: str | None = None,
                last: int | None = None,
                before: str | None = None,
            ) -> EntityConnection:
                return await entity_page(info.context, kind, filter, order_by, first, after, last, before)

            return strawberry.field(resolver=resolve, description=f"A page of {kind} entities.")

        fields[name] = make(kind)
    return fields


class Checking(SchemaExtension):
    """Parses and validates the document (standard rules, then depth, aliases and cost against the sizes of the
    release) in a thread, so the event loop keeps serving, within the check budget (KG_GRAPHQL_CHECK_TIMEOUT): the
    check looks at the clock as it goes and stops at the budget, and the request is answered at the budget even if
    one step of it runs on. What was checked is kept per release, by text, so a repeated document costs nothing."""

    checked: Checked | None = None

    async def on_parse(self) -> AsyncIterator[None]:
        execution = self.execution_context
        context = execution.context
        text = execution.query
        if isinstance(context, Context) and text is not None and execution.graphql_document is None:
            services = context.services
            found = services.checked.get(text)
            if found is None:
                budget = services.check_timeout
                job = asyncio.to_thread(
                    check,
                    text,
                    execution.schema._schema,
                    services.sizes,
                    tuple(execution.validation_rules),
                    validate_document,
                    time.monotonic() + budget,
                    budget,
                )
                try:
                    found = await asyncio.wait_for(job, budget + 0.25)
                except TimeoutError:
                    found = Checked(None, [over_budget(budget)], 0, 0)
                if found.weight:  # a timeout may be the machine's load: not kept
                    services.checked.put(text, found)
            self.checked = found
            if found.document is None:
                raise found.errors[0]
            execution.graphql_document = found.document
        yield

    async def on_validate(self) -> AsyncIterator[None]:
        found = self.checked
        if found is not None:
            self.execution_context.pre_execution_errors = list(found.errors)
            context = self.execution_context.context
            if isinstance(context, Context):
                context.cost = found.cost
        yield


class Reporting(SchemaExtension):
    """Adds the data release to every response, and with debug on, the store queries run and their time."""

    def get_results(self) -> dict[str, Any]:
        context = self.execution_context.context
        if not isinstance(context, Context):
            return {}
        result: dict[str, Any] = {"release": context.release}
        if context.debug:
            result["storeQueries"] = context.store_queries
            result["storeMilliseconds"] = round(context.store_seconds * 1000, 2)
            if context.cost is not None:
                result["cost"] = context.cost
        return result


def expected(error: GraphQLError) -> bool:
    """Errors whose message is meant for the client (invalid queries, refused input); everything else is masked."""
    original = error.original_error
    return original is None or isinstance(original, (KgError, GraphQLError))


class Schema(strawberry.Schema):
    """Logs only unexpected errors (with their stack); invalid input is the client's to see, not the operator's."""

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        unexpected = [e for e in errors if not expected(e)]
        if unexpected:
            super().process_errors(unexpected, execution_context)


def build_schema(mask: bool = True) -> strawberry.Schema:
    root = strawberry.type(
        type("Query", (Query,), {"__annotations__": {}, **_kind_connections()}),
        description="Read-only access to the knowledge graph of stem-cell therapies for autoimmune disease.",
    )
    extensions: list[Any] = [Checking, Reporting]
    if mask:
        extensions.append(lambda: MaskErrors(should_mask_error=lambda e: not expected(e)))
    return Schema(query=root, types=list(TYPES.values()), extensions=extensions)


__all__ = ["Relation", "build_schema"]
