"""The store: pyoxigraph, loaded from the parsed files (one named graph per file; the default graph is their union)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pyoxigraph as ox

from kg.namespaces import PREFIXES
from kg.queries import NamedQuery

Result = ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples


def memory_store(quads: Iterable[ox.Quad]) -> ox.Store:
    store = ox.Store()
    store.extend(quads)
    return store


def run(
    store: ox.Store, query: NamedQuery | str, bindings: Mapping[ox.Variable, ox.NamedNode | ox.Literal] | None = None
) -> Result:
    """Run a named query (or query text) over the union of all graphs, with parameters bound as RDF terms."""
    text = query.text if isinstance(query, NamedQuery) else query
    return store.query(
        text,
        use_default_graph_as_union=True,
        prefixes=PREFIXES,
        substitutions=dict(bindings or {}),
    )
