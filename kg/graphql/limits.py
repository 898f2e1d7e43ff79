"""What a client may ask of the public GraphQL endpoint: page sizes, depth, aliases, tokens and an estimated cost
(fields times the page sizes above them), and arguments that must name something (an IRI or a CURIE)."""

from __future__ import annotations

from collections.abc import Iterator
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


class CostLimit(ValidationRule):
    """Refuse an operation whose estimated cost passes MAX_COST: every field costs 1 for each time it may be resolved,
    and a list field multiplies what is below it by its page size: ``first`` or ``last`` (the smaller of the two when
    both are given), or else 10."""

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
        sizes = [
            max(1, int(argument.value.value))
            for argument in selection.arguments or ()
            if argument.name.value in ("first", "last") and isinstance(argument.value, ast.IntValueNode)
        ]
        return min(sizes) if sizes else 10
