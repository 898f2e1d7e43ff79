"""Querying a pyoxigraph store as every embedded backend does: the union of the named graphs as default graph (or
the dataset a query's protocol parameters name), the prefixes of kg.namespaces predefined, parameters as VALUES.

Kept apart from kg.store.backends (which also speaks HTTP to remote endpoints) so that a sandbox process imports
only what it runs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pyoxigraph as ox

from kg.errors import QuerySyntaxError
from kg.namespaces import PREFIXES
from kg.queries.text import inline_values, names_dataset

Bindings = Mapping[ox.Variable, ox.NamedNode | ox.Literal]
Result = ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples | list[ox.Triple]


def syntax_message(exc: SyntaxError) -> str:
    """The parser's message with its position; the list of expected tokens is cut short."""
    message = str(exc.msg or exc)
    return "malformed query: " + (message if len(message) <= 300 else message[:300] + " ...")


def query_store(
    store: ox.Store,
    text: str,
    bindings: Bindings | None = None,
    default_graphs: Sequence[str] = (),
    named_graphs: Sequence[str] = (),
    base_iri: str | None = None,
) -> Result:
    """Run ``text``. Its dataset is, in order: the protocol's ``default_graphs`` and ``named_graphs`` when either is
    given (the other is then empty), the query's own FROM / FROM NAMED, or else the union of the graphs as the default
    graph and every graph as a named graph. Relative IRIs resolve against ``base_iri``."""
    protocol = bool(default_graphs or named_graphs)
    try:
        return store.query(
            inline_values(text, bindings or {}),
            use_default_graph_as_union=not protocol and not names_dataset(text),
            prefixes=PREFIXES,
            base_iri=base_iri,
            default_graph=[ox.NamedNode(g) for g in default_graphs] if protocol else None,
            named_graphs=[ox.NamedNode(g) for g in named_graphs] if protocol else None,
        )
    except SyntaxError as exc:
        raise QuerySyntaxError(syntax_message(exc)) from None
    except ValueError as exc:  # an invalid graph IRI
        raise QuerySyntaxError(str(exc)) from None
