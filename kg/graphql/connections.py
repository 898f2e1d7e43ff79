"""Pages of entities and claims: the filters, orderings and keyset cursors of the root connections."""

from __future__ import annotations

import base64
import enum
import json
from typing import Any

import strawberry

from kg.graphql.context import Context, claim_of
from kg.graphql.limits import InvalidInput, iri_of, page_size
from kg.graphql.model import Certainty, Relation
from kg.graphql.types import Claim, Entity, entity
from kg.namespaces import SCAD


def encode_cursor(*key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode()


def decode_cursor(cursor: str) -> list[Any]:
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput(f"after is {cursor!r}; expected a cursor returned by this API") from None
    if not isinstance(value, list):
        raise InvalidInput(f"after is {cursor!r}; expected a cursor returned by this API")
    return value


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
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


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
    exclude_promotional: bool = False
    evidence_kind: strawberry.ID | None = None
    context_disease: strawberry.ID | None = strawberry.field(
        default=None, description="Only claims the source states for this disease."
    )


@strawberry.type
class ClaimEdge:
    cursor: str
    node: Claim


@strawberry.type(description="A page of claims.")
class ClaimConnection:
    edges: list[ClaimEdge]
    page_info: PageInfo
    total_count: int


async def entity_page(
    context: Context,
    kind: str,
    where: EntityFilter | None,
    order: EntityOrder,
    first: int | None,
    after: str | None,
) -> EntityConnection:
    size = page_size(first)
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

    items.sort(key=key, reverse=order is EntityOrder.LABEL_DESC)
    start = 0
    if after is not None:
        position = decode_cursor(after)
        keys = [key(i) for i in items]
        start = next(
            (n for n, k in enumerate(keys) if (k < position if order is EntityOrder.LABEL_DESC else k > position)),
            len(items),
        )
    chosen = items[start : start + size]
    cards = await context.cards.load_many([iri for _, _, iri in chosen])
    edges = [
        EntityEdge(cursor=encode_cursor(*key(item)), node=entity(card), source_count=item[1])
        for item, card in zip(chosen, cards, strict=True)
        if card is not None
    ]
    return EntityConnection(
        edges=edges,
        page_info=PageInfo(has_next_page=start + size < len(items), end_cursor=edges[-1].cursor if edges else None),
        total_count=len(items),
    )


async def claim_page(
    context: Context, where: ClaimFilter | None, first: int | None, after: str | None
) -> ClaimConnection:
    size = page_size(first)
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
    start = 0
    if after is not None:
        (last,) = decode_cursor(after)[:1]
        start = next((n for n, c in enumerate(claims) if c.iri > str(last)), len(claims))
    chosen = claims[start : start + size]
    return ClaimConnection(
        edges=[ClaimEdge(cursor=encode_cursor(c.iri), node=Claim(claim=c)) for c in chosen],
        page_info=PageInfo(
            has_next_page=start + size < len(claims), end_cursor=encode_cursor(chosen[-1].iri) if chosen else None
        ),
        total_count=len(claims),
    )
