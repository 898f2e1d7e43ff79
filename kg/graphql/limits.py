"""What a client may ask of the public GraphQL endpoint: page sizes, depth, aliases, tokens, an estimated cost that
bounds the work a document can cause, a time budget for checking a document, and arguments that must name something
(an IRI or a CURIE).

Cost: every field costs 1 for each time it may be resolved, and a list multiplies what is below it by how long it
can be. A field that takes ``first``/``last`` is a page: its length is the page asked for (a variable counts as the
largest page, MAX_PAGE, since the check is made once per document, whatever the variables), or without either, the
argument's default, or the default page (DEFAULT_PAGE, as ``page_size`` applies it); a page that returns an object (a
connection) passes its length to the lists inside it (its edges), and a connection whose field names a measure (a
relation page: the most edges of an entity along its hops; the claims of an edge) is no longer than that measure.
Any other list counts its real length bound in the loaded release (kg.graphql.sizes: the most relation groups of an
entity, the number of sources...). Nested lists multiply. Fragment spreads count by their expansion, each fragment
measured once."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import FrameType
from typing import TYPE_CHECKING, Any, NamedTuple

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLSchema,
    get_named_type,
    get_nullable_type,
    is_leaf_type,
    parse,
)
from graphql.language import ast

from kg.errors import KgError
from kg.graphql.model import to_iri
from kg.graphql.sizes import HOPS, SIZE, Sizes

if TYPE_CHECKING:
    from _typeshed import TraceFunction

MAX_PAGE = 100
MAX_DEPTH = 12
MAX_ALIASES = 30
MAX_TOKENS = 2000
MAX_COST = 20000
DEFAULT_PAGE = 20


class InvalidInput(KgError):
    """A GraphQL argument that cannot be used; shown to the client."""


def page_size(first: int | None, default: int = DEFAULT_PAGE, argument: str = "first") -> int:
    size = default if first is None else first
    if size < 0 or size > MAX_PAGE:
        raise InvalidInput(f"{argument} is {size}; expected a page size from 0 to {MAX_PAGE}")
    return size


def iri_of(value: str, argument: str) -> str:
    iri = to_iri(value)
    if iri is None:
        raise InvalidInput(f"{argument} is {value!r}; expected an IRI or a CURIE such as kgr:lupus")
    return iri


class ValidationTimeout(BaseException):
    """Checking a document took longer than its budget: raised inside the check by its clock, caught by ``check``
    (a BaseException, so that no ``except Exception`` of the libraries it runs through can swallow it)."""


def clock(deadline: float, every: int = 256) -> TraceFunction:
    """A trace function (for ``sys.settrace``) that stops the thread it traces at ``deadline`` (time.monotonic): it
    looks at the clock every ``every`` Python calls, and traces no lines. One step of validation can be quadratic in
    the document (graphql-core's overlapping-fields rule compares every pair of fields of a selection set, 4 s for
    480 fields on this machine); a clock between the steps would not stop that, this one does."""
    calls = 0

    def tick(frame: FrameType, event: str, arg: Any) -> None:
        nonlocal calls
        calls += 1
        if calls % every == 0 and time.monotonic() > deadline:
            raise ValidationTimeout

    return tick


class Measure(NamedTuple):
    depth: int
    aliases: int
    cost: int


class Estimate:
    """Depth, aliases and cost of the operations of a document, linear in its size (each fragment measured once and
    reused at every spread; strawberry's depth and alias rules, and a naive cost rule, walk a fragment again at every
    spread, so n fragments that each spread the next twice take 2^n steps: here n, and a refusal)."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode, sizes: Sizes) -> None:
        self.schema = schema
        self.sizes = sizes
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, ast.FragmentDefinitionNode)}
        self.memo: dict[str, Measure] = {}
        self.active: set[str] = set()

    def operation(self, definition: ast.OperationDefinitionNode) -> Measure:
        return self._measure(definition.selection_set, self.schema.query_type, None)

    def _measure(self, selection_set: ast.SelectionSetNode | None, parent: Any, page: int | None) -> Measure:
        """(depth, aliases, cost at a multiplier of 1) of a selection set; ``page`` is the length of the lists of
        a connection (the page of the field that returned it)."""
        if selection_set is None or parent is None:
            return Measure(0, 0, 0)
        depth = aliases = cost = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                definition = getattr(parent, "fields", {}).get(selection.name.value)
                aliases += 1 if selection.alias is not None else 0
                if definition is None:
                    continue  # unknown fields are reported by the standard rules
                of_type = get_nullable_type(definition.type)
                asked = self._page(selection, definition)
                if isinstance(of_type, GraphQLList):
                    size = asked if asked is not None else self._bound(definition, of_type, page)
                    inner = None
                else:
                    size, inner = 1, self._shorter(definition, asked)
                d, a, c = self._measure(selection.selection_set, get_named_type(of_type), inner)
                depth, aliases, cost = max(depth, d + 1), aliases + a, cost + 1 + size * c
            elif isinstance(selection, ast.InlineFragmentNode):
                condition = selection.type_condition
                owner = self.schema.get_type(condition.name.value) if condition else parent
                d, a, c = self._measure(selection.selection_set, owner, page)
                depth, aliases, cost = max(depth, d), aliases + a, cost + c
            elif isinstance(selection, ast.FragmentSpreadNode):
                d, a, c = self._spread(selection.name.value, page)
                depth, aliases, cost = max(depth, d), aliases + a, cost + c
        return Measure(depth, aliases, cost)

    def _spread(self, name: str, page: int | None) -> Measure:
        fragment = self.fragments.get(name)
        if fragment is None or name in self.active:  # unknown or cyclic: the standard rules report it
            return Measure(0, 0, 0)
        key = f"{name}@{page}"
        if key not in self.memo:
            self.active.add(name)
            owner = self.schema.get_type(fragment.type_condition.name.value)
            self.memo[key] = self._measure(fragment.selection_set, owner, page)
            self.active.discard(name)
        return self.memo[key]

    def _page(self, selection: FieldNode, definition: GraphQLField) -> int | None:
        """The page length of a field that takes ``first`` or ``last`` (the smaller when both are given); None for
        a field that is no page."""
        if "first" not in definition.args and "last" not in definition.args:
            return None
        sizes = []
        for argument in selection.arguments or ():
            if argument.name.value not in ("first", "last"):
                continue
            value = argument.value
            if isinstance(value, ast.IntValueNode) and len(value.value) <= 6:
                sizes.append(max(1, int(value.value)))
            elif isinstance(value, ast.NullValueNode):
                sizes.append(DEFAULT_PAGE)
            else:  # a variable (any value may come), or a page out of range (refused when it is resolved)
                sizes.append(MAX_PAGE)
        if not sizes:
            default = definition.args["first"].default_value if "first" in definition.args else None
            sizes.append(default if isinstance(default, int) and default > 0 else DEFAULT_PAGE)
        return min(min(sizes), MAX_PAGE)

    def _shorter(self, definition: GraphQLField, page: int | None) -> int | None:
        """The length of the lists of the page a connection field asks for: at most the measure the field names
        (a relation page is no longer than the most edges an entity has along its hops, however large ``first``)."""
        if page is None:
            return None
        measured = self._measured(definition)
        return page if measured is None else min(page, max(1, measured))

    def _measured(self, definition: GraphQLField) -> int | None:
        """The bound of the measure a field names in its metadata, if it names one."""
        owner = (definition.extensions or {}).get("strawberry-definition")
        metadata = getattr(owner, "metadata", None) or {}
        if HOPS in metadata:
            return self.sizes.along(metadata[HOPS])
        if SIZE in metadata:
            return self.sizes.of(metadata[SIZE])
        return None

    def _bound(self, definition: GraphQLField, of_type: GraphQLList[Any], page: int | None) -> int:
        """How long a list that is no page can be: the measure it names, or the page of the connection it is in,
        or the longest list of the release."""
        if is_leaf_type(get_named_type(of_type)):
            return 1  # nothing below it to multiply
        measured = self._measured(definition)
        if measured is not None:
            return measured
        return page if page is not None else self.sizes.largest


def limit_errors(document: DocumentNode, schema: GraphQLSchema, sizes: Sizes) -> tuple[list[GraphQLError], int]:
    """The refusals of the depth, alias and cost limits for every operation of ``document``, and the highest cost."""
    errors = []
    highest = 0
    for definition in document.definitions:
        if not isinstance(definition, ast.OperationDefinitionNode):
            continue
        depth, aliases, cost = Estimate(schema, document, sizes).operation(definition)
        highest = max(highest, cost)
        name = definition.name.value if definition.name else "(anonymous)"
        if depth > MAX_DEPTH:
            errors.append(
                GraphQLError(f"'{name}' exceeds maximum operation depth of {MAX_DEPTH} (it is {depth})", definition)
            )
        if aliases > MAX_ALIASES:
            errors.append(
                GraphQLError(f"{aliases} aliases found; allowed: {MAX_ALIASES} (fragments counted as spread)")
            )
        if cost > MAX_COST:
            shown = str(cost) if cost < 10**12 else f"about 10^{len(str(cost)) - 1}"
            errors.append(
                GraphQLError(f"the query's estimated cost is {shown}, more than the {MAX_COST} allowed", definition)
            )
    return errors, highest


@dataclass(frozen=True)
class Checked:
    """A document checked: parsed (or its syntax error), its validation errors and limit refusals, its cost."""

    document: DocumentNode | None
    errors: list[GraphQLError]
    cost: int
    weight: int
    """About how many bytes it holds (for the cache that keeps it)."""


Validate = Callable[[GraphQLSchema, DocumentNode, tuple[Any, ...]], list[GraphQLError]]


def check(
    text: str,
    schema: GraphQLSchema,
    sizes: Sizes,
    rules: Sequence[Any],
    validate: Validate,
    deadline: float,
    budget: float,
) -> Checked:
    """Parse ``text`` (at most MAX_TOKENS tokens), check the limits, then validate it with ``rules``, stopping at
    ``deadline`` (time.monotonic) with an error that names the budget. Meant to run in a thread of its own (the
    clock traces the calling thread only)."""
    weight = 16 * len(text) + 512
    previous = sys.gettrace()
    sys.settrace(clock(deadline))
    try:
        try:
            document = parse(text, max_tokens=MAX_TOKENS)
        except GraphQLError as error:
            return Checked(None, [error], 0, weight)
        refused, cost = limit_errors(document, schema, sizes)  # linear: first, so a bomb goes no further
        errors = refused or validate(schema, document, tuple(rules))
        return Checked(document, errors, cost, weight)
    except ValidationTimeout:
        return Checked(None, [over_budget(budget)], 0, 0)
    finally:
        sys.settrace(previous)


def over_budget(budget: float) -> GraphQLError:
    return GraphQLError(
        f"the document took longer than {budget:g} s to check (KG_GRAPHQL_CHECK_TIMEOUT); send a smaller document",
        extensions={"code": "CHECK_TIMEOUT"},
    )
