"""What a client may ask of the public GraphQL endpoint: page sizes, depth, aliases, tokens and an estimated cost
(fields times the page sizes above them), and arguments that must name something (an IRI or a CURIE)."""

from __future__ import annotations

from typing import Any

from graphql import FieldNode, GraphQLError, GraphQLList, ValidationRule, get_named_type, get_nullable_type
from graphql.language import ast

from kg.errors import KgError
from kg.graphql.model import to_iri

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


class Limits(ValidationRule):
    """Depth, aliases and estimated cost of every operation, with fragment spreads counted by their expansion, in one
    pass that is linear in the size of the document (each fragment is measured once and reused at every spread).

    strawberry's depth and alias rules, and a naive cost rule, walk a fragment again at every spread, so a document of
    n fragments that each spread the next twice costs 2^n steps to check: here it is n steps and a refusal.
    Cost: every field costs 1 for each time it may be resolved, and a list field multiplies what is below it by its
    ``first`` or ``last`` argument (a variable counts as its default, or as the largest page, MAX_PAGE), or by 10."""

    def enter_document(self, node: ast.DocumentNode, *_: Any) -> bool:
        self.fragments = {d.name.value: d for d in node.definitions if isinstance(d, ast.FragmentDefinitionNode)}
        self.memo: dict[str, tuple[int, int, int]] = {}
        self.active: set[str] = set()
        root = self.context.schema.query_type
        for definition in node.definitions:
            if not isinstance(definition, ast.OperationDefinitionNode):
                continue
            self.memo.clear()  # a fragment's measure depends on the operation's variable defaults
            self.defaults = {v.variable.name.value: v.default_value for v in definition.variable_definitions or ()}
            depth, aliases, cost = self._measure(definition.selection_set, root)
            name = definition.name.value if definition.name else "(anonymous)"
            if depth > MAX_DEPTH:
                self.report_error(
                    GraphQLError(f"'{name}' exceeds maximum operation depth of {MAX_DEPTH} (it is {depth})", definition)
                )
            if aliases > MAX_ALIASES:
                self.report_error(
                    GraphQLError(f"{aliases} aliases found; allowed: {MAX_ALIASES} (fragments counted as spread)")
                )
            if cost > MAX_COST:
                shown = str(cost) if cost < 10**12 else f"about 10^{len(str(cost)) - 1}"
                self.report_error(
                    GraphQLError(f"the query's estimated cost is {shown}, more than the {MAX_COST} allowed", definition)
                )
        return False  # nothing below needs visiting by this rule

    def _measure(self, selection_set: ast.SelectionSetNode | None, parent: Any) -> tuple[int, int, int]:
        """(depth, aliases, cost at a multiplier of 1) of a selection set; cost scales with the multiplier."""
        if selection_set is None or parent is None:
            return 0, 0, 0
        depth = aliases = cost = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                definition = getattr(parent, "fields", {}).get(selection.name.value)
                aliases += 1 if selection.alias is not None else 0
                if definition is None:
                    continue  # unknown fields are reported by the standard rules
                of_type = get_nullable_type(definition.type)
                size = self._first(selection) if isinstance(of_type, GraphQLList) else 1
                d, a, c = self._measure(selection.selection_set, get_named_type(of_type))
                depth, aliases, cost = max(depth, d + 1), aliases + a, cost + 1 + size * c
            elif isinstance(selection, ast.InlineFragmentNode):
                condition = selection.type_condition
                owner = self.context.schema.get_type(condition.name.value) if condition else parent
                d, a, c = self._measure(selection.selection_set, owner)
                depth, aliases, cost = max(depth, d), aliases + a, cost + c
            elif isinstance(selection, ast.FragmentSpreadNode):
                d, a, c = self._spread(selection.name.value)
                depth, aliases, cost = max(depth, d), aliases + a, cost + c
        return depth, aliases, cost

    def _spread(self, name: str) -> tuple[int, int, int]:
        fragment = self.fragments.get(name)
        if fragment is None or name in self.active:  # unknown or cyclic: the standard rules report it
            return 0, 0, 0
        key = name
        if key not in self.memo:
            self.active.add(name)
            owner = self.context.schema.get_type(fragment.type_condition.name.value)
            self.memo[key] = self._measure(fragment.selection_set, owner)
            self.active.discard(name)
        return self.memo[key]

    def _first(self, selection: FieldNode) -> int:
        """The page size of a list field: ``first`` or ``last`` (the smaller when both are given), or else 10."""
        sizes = []
        for argument in selection.arguments or ():
            if argument.name.value not in ("first", "last"):
                continue
            value = argument.value
            if isinstance(value, ast.VariableNode):
                value = self.defaults.get(value.name.value) or ast.IntValueNode(value=str(MAX_PAGE))
            if isinstance(value, ast.IntValueNode) and len(value.value) <= 6:
                sizes.append(max(1, int(value.value)))
            else:
                sizes.append(MAX_PAGE)  # an oversized page is refused when it is resolved
        return min(sizes) if sizes else 10
