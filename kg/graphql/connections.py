"""Pages of entities and claims: the filters and orderings of the root connections."""

from __future__ import annotations

import enum
from typing import Any

import strawberry

from kg.graphql.context import Context, claim_of
from kg.graphql.limits import InvalidInput, iri_of
from kg.graphql.model import Certainty, EvidenceDirection, QuoteRole, Relation
from kg.graphql.paging import PageInfo, encode_cursor, page_info, window
from kg.graphql.types import ClaimConnection, Entity, claim_connection, entity
from kg.namespaces import SCAD


@strawberry.enum(description="Orderings of a list of entities; ties are broken by IRI, so cursors are stable.")
class EntityOrder(enum.Enum):
    LABEL = "label"
    LABEL_DESC = "label_desc"
    SOURCES_DESC = "sources_desc"


@strawberry.input(description="Which entities to list.")
class EntityFilter:
    label_contains: str | None = strawberry.field(default=None, description="Case-insensitive, on the label.")
    min_sources: int | None = strawberry.field(default=None, description="Mentioned by at least this many sources.")
    exclude_promotional: bool = strawberry.field(
        default=False, description="Count only non-promotional sources for min_sources."
    )


@strawberry.type
class EntityEdge:
    cursor: str
    node: Entity
    source_count: int = strawberry.field(description="Sources that mention the entity.")


@strawberry.type(description="A page of entities.")
class EntityConnection:
    edges: list[EntityEdge]
    page_info: PageInfo
    total_count: int


@strawberry.input(description="Which claims to list; every field narrows the list.")
class ClaimFilter:
    source: strawberry.ID | None = None
    subject: strawberry.ID | None = None
    object: strawberry.ID | None = None
    relation: Relation | None = None
    certainty: Certainty | None = None
    min_certainty: Certainty | None = None
    negated: bool | None = None
    evidence_direction: EvidenceDirection | None = None
    quote_role: QuoteRole | None = None
    exclude_promotional: bool = False
    evidence_kind: strawberry.ID | None = None
    context_disease: strawberry.ID | None = strawberry.field(
        default=None, description="Only claims the source states for this disease."
    )


async def entity_page(
    context: Context,
    kind: str,
    where: EntityFilter | None,
    order: EntityOrder,
    first: int | None,
    after: str | None,
    last: int | None = None,
    before: str | None = None,
) -> EntityConnection:
    from kg.queries.catalog import ParameterError

    query = context.services.catalog.get("entities_of_kind")
    try:
        bindings = query.bind({"kind": SCAD + kind})
    except ParameterError as exc:  # pragma: no cover - the kind comes from an enum
        raise InvalidInput(str(exc)) from None
    rows = await context.rows("entities_of_kind", bindings)
    items = []
    for r in rows:
        label = r["label"].value
        sources = int(r["nonPromotionalSources" if where and where.exclude_promotional else "sources"].value)
        if where and where.label_contains and where.label_contains.casefold() not in label.casefold():
            continue
        if where and where.min_sources is not None and sources < where.min_sources:
            continue
        items.append((label, sources, r["entity"].value))

    def key(item: tuple[str, int, str]) -> list[Any]:
        label, sources, iri = item
        if order is EntityOrder.SOURCES_DESC:
            return [-sources, label.casefold(), iri]
        return [label.casefold(), iri]

    descending = order is EntityOrder.LABEL_DESC
    items.sort(key=key, reverse=descending)
    at = window([key(i) for i in items], first, after, last, before, descending)
    chosen = items[at.start : at.stop]
    cards = await context.cards.load_many([iri for _, _, iri in chosen])
    edges = [
        EntityEdge(cursor=encode_cursor(*key(item)), node=entity(card), source_count=item[1])
        for item, card in zip(chosen, cards, strict=True)
        if card is not None
    ]
    return EntityConnection(edges=edges, page_info=page_info([e.cursor for e in edges], at), total_count=len(items))


async def claim_page(
    context: Context,
    where: ClaimFilter | None,
    first: int | None,
    after: str | None,
    last: int | None = None,
    before: str | None = None,
) -> ClaimConnection:
    raw: dict[str, str] = {}
    if where is not None:
        for name, value in (
            ("source", where.source),
            ("subject", where.subject),
            ("object", where.object),
            ("evidence", where.evidence_kind),
        ):
            if value is not None:
                raw[name] = iri_of(str(value), name)
        if where.relation is not None:
            raw["predicate"] = where.relation.value
        if where.certainty is not None:
            raw["certainty"] = where.certainty.value
        if where.negated is not None:
            raw["negated"] = "true" if where.negated else "false"
        if where.evidence_direction is not None:
            raw["evidenceDirection"] = where.evidence_direction.value
        if where.quote_role is not None:
            raw["quoteRole"] = where.quote_role.value
    query = context.services.catalog.get("claims")
    rows = await context.rows("claims", query.bind(raw))
    claims = [claim_of(r) for r in rows]
    if where is not None and where.min_certainty is not None:
        claims = [c for c in claims if c.certainty.rank >= where.min_certainty.rank]
    if where is not None and where.exclude_promotional:
        claims = [c for c in claims if not c.source.promotional]
    if where is not None and where.context_disease is not None:
        disease = iri_of(str(where.context_disease), "contextDisease")
        contexts = await context.contexts()
        claims = [c for c in claims if disease in contexts.get(c.iri, ())]
    claims.sort(key=lambda c: c.iri)
    return claim_connection(claims, first, after, last, before)
