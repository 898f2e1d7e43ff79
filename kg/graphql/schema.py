"""The GraphQL schema: the root fields, the public-endpoint limits (depth, aliases, tokens, page size, cost) and the
response extensions (the data release; with debug, the store queries run and their time)."""

from __future__ import annotations

import base64
import enum
import json
from collections.abc import Iterator
from typing import Any

import strawberry
from graphql import FieldNode, GraphQLError, GraphQLList, ValidationRule, get_named_type, get_nullable_type
from graphql.language import ast
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.extensions import max_aliases as alias_limit
from strawberry.extensions import query_depth_limiter as depth_limit
from strawberry.types import Info

from kg.errors import KgError
from kg.graphql.context import Context, claim_of
from kg.graphql.model import KINDS, Certainty, Relation, SourceData, to_iri
from kg.graphql.types import TYPES, Claim, Entity, Source, entity, load_entity
from kg.labels import Match
from kg.namespaces import SCAD

MAX_PAGE = 100
MAX_DEPTH = 12
MAX_ALIASES = 30
MAX_TOKENS = 2000
MAX_COST = 20000
DEFAULT_PAGE = 20
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


class InvalidInput(KgError):
    """A GraphQL argument that cannot be used; shown to the client."""


def page_size(first: int | None, default: int = DEFAULT_PAGE) -> int:
    size = default if first is None else first
    if size < 0 or size > MAX_PAGE:
        raise InvalidInput(f"first is {size}; expected a page size from 0 to {MAX_PAGE}")
    return size


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


def iri_of(value: str, argument: str) -> str:
    iri = to_iri(value)
    if iri is None:
        raise InvalidInput(f"{argument} is {value!r}; expected an IRI or a CURIE such as kgr:lupus")
    return iri


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


@strawberry.type
class DiseaseTherapyCount:
    disease: Entity
    therapy_count: int
    therapies: list[Entity]


@strawberry.type
class SourceCertaintyCount:
    source: Source
    certainty: Certainty
    claim_count: int


@strawberry.type(description="Counts for facets and charts.")
class Facets:
    @strawberry.field(description="Stem-cell therapies studied, considered or offered per disease (CQ29).")
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

    @strawberry.field(description="Claims per source and certainty.")
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
class Query:
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
    ) -> EntityConnection:
        return await entity_page(info.context, kind.value, filter, order_by, first, after)

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
    ) -> ClaimConnection:
        return await claim_page(info.context, filter, first, after)

    @strawberry.field(description="One claim by IRI or CURIE (kgr:C003-084); null when there is none.")
    async def claim(self, info: Info[Context, None], id: strawberry.ID) -> Claim | None:
        query = info.context.services.catalog.get("claims")
        rows = await info.context.rows("claims", query.bind({"claim": iri_of(str(id), "id")}))
        if not rows:
            return None
        row = rows[0]
        return Claim(claim=claim_of(row))

    @strawberry.field(description="The source articles.")
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
            ) -> EntityConnection:
                return await entity_page(info.context, kind, filter, order_by, first, after)

            return strawberry.field(resolver=resolve, description=f"A page of {kind} entities.")

        fields[name] = make(kind)
    return fields


async def entity_page(
    context: Context,
    kind: str,
    where: EntityFilter | None,
    order: EntityOrder,
    first: int | None,
    after: str | None,
) -> EntityConnection:
    size = page_size(first)
    from kg.queries import ParameterError

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


class CostLimit(ValidationRule):
    """Refuse an operation whose estimated cost passes MAX_COST: every field costs 1 for each time it may be resolved,
    and a list field multiplies what is below it by its ``first`` argument (or by 10)."""

    def enter_operation_definition(self, node: ast.OperationDefinitionNode, *_: Any) -> None:
        root = self.context.schema.query_type
        cost = self._cost(node.selection_set, root, 1, 0)
        if cost > MAX_COST:
            self.report_error(
                GraphQLError(f"the query's estimated cost is {cost}, more than the {MAX_COST} allowed", node)
            )

    def _cost(self, selection_set: ast.SelectionSetNode | None, parent: Any, multiplier: int, depth: int) -> int:
        if selection_set is None or parent is None or depth > MAX_DEPTH * 2:
            return 0
        total = 0
        for selection, owner in self._selections(selection_set, parent):
            fields = getattr(owner, "fields", {})
            definition = fields.get(selection.name.value)
            if definition is None:
                continue  # unknown fields are reported by the standard rules
            of_type = get_nullable_type(definition.type)
            size = 1
            if isinstance(of_type, GraphQLList):
                size = self._first(selection)
            total += multiplier + self._cost(
                selection.selection_set, get_named_type(of_type), multiplier * size, depth + 1
            )
        return total

    def _selections(self, selection_set: ast.SelectionSetNode, parent: Any) -> Iterator[tuple[FieldNode, Any]]:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                yield selection, parent
            elif isinstance(selection, ast.InlineFragmentNode):
                condition = selection.type_condition
                owner = self.context.schema.get_type(condition.name.value) if condition else parent
                yield from self._selections(selection.selection_set, owner)
            elif isinstance(selection, ast.FragmentSpreadNode):
                fragment = self.context.get_fragment(selection.name.value)
                if fragment is not None:
                    owner = self.context.schema.get_type(fragment.type_condition.name.value)
                    yield from self._selections(fragment.selection_set, owner)

    @staticmethod
    def _first(selection: FieldNode) -> int:
        for argument in selection.arguments or ():
            if argument.name.value == "first" and isinstance(argument.value, ast.IntValueNode):
                return max(1, int(argument.value.value))
        return 10


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
    # The limit rules are classes made once, so the validation cache (keyed by the rules) hits across requests.
    rules = [depth_limit.create_validator(MAX_DEPTH, None), alias_limit.create_validator(MAX_ALIASES), CostLimit]
    extensions: list[Any] = [
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: ParserCache(maxsize=512),
        lambda: AddValidationRules(rules),
        lambda: ValidationCache(maxsize=512),
        Reporting,
    ]
    if mask:
        extensions.append(lambda: MaskErrors(should_mask_error=lambda e: not expected(e)))
    return Schema(query=root, types=list(TYPES.values()), extensions=extensions)


__all__ = ["Relation", "build_schema"]
