"""FROM and FROM NAMED in a query are honoured on every backend (the remote one sends them as the protocol's graphs;
the default graph is otherwise the union of the graphs), and KG_MAX_ROWS holds for every result format. The expected counts come from the parsed files, not SPARQL."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from starlette.testclient import TestClient

from kg.app import create_app
from kg.rdf.dataset import Dataset
from kg.settings import Settings
from kg.store.backends import Backend


def _graphs(dataset: Dataset) -> tuple[str, str, dict[str, int]]:
    counts: dict[str, int] = {}
    for quad in dataset.quads:
        assert isinstance(quad.graph_name, ox.NamedNode)
        counts[quad.graph_name.value] = counts.get(quad.graph_name.value, 0) + 1
    first, second = sorted(counts, key=lambda g: -counts[g])[:2]
    return first, second, counts


def _rows(backend: Backend, text: str) -> list[list[ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple | None]]:
    """The solutions as plain lists, read here: pyoxigraph solutions must be dropped on the thread that made them, and
    one left in a failing test's frame may be collected later on another thread (an expected failure keeps it)."""
    result = backend.query(text)
    assert isinstance(result, ox.QuerySolutions)
    names = [v.value for v in result.variables]
    return [[row[n] for n in names] for row in result]


def _count(backend: Backend, text: str) -> list[tuple[str, int]]:
    rows = _rows(backend, text)
    return sorted((str(r[0].value) if len(r) > 1 else "", int(r[-1].value)) for r in rows)  # type: ignore[union-attr]


def test_from_is_the_default_graph(backend: Backend, dataset: Dataset) -> None:
    first, second, counts = _graphs(dataset)
    only = f"SELECT (COUNT(*) AS ?n) FROM <{first}> WHERE {{ ?s ?p ?o }}"
    assert _count(backend, only) == [("", counts[first])]
    both = f"SELECT (COUNT(*) AS ?n) FROM <{first}> FROM <{second}> WHERE {{ ?s ?p ?o }}"
    assert _count(backend, both) == [("", counts[first] + counts[second])]  # the two files share no triple


def test_from_named_limits_the_named_graphs(backend: Backend, dataset: Dataset) -> None:
    first, _, counts = _graphs(dataset)
    text = f"SELECT ?g (COUNT(*) AS ?n) FROM NAMED <{first}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }} GROUP BY ?g"
    assert _count(backend, text) == [(first, counts[first])]
    empty_default = f"SELECT (COUNT(*) AS ?n) FROM NAMED <{first}> WHERE {{ ?s ?p ?o }}"
    assert _count(backend, empty_default) == [("", 0)]  # SPARQL 1.1 section 13.2: no FROM, an empty default graph


def test_without_a_dataset_the_default_graph_is_the_union(backend: Backend, dataset: Dataset) -> None:
    """The default graph holds each triple of any named graph once: those of the files, and of the generated
    metadata graphs (VoID, examples) beside them."""
    files = {(q.subject, q.predicate, q.object) for q in dataset.quads}
    everywhere = {(s, p, o) for s, p, o in _rows(backend, "SELECT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }")}
    assert files <= everywhere
    assert _count(backend, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }") == [("", len(everywhere))]


def test_the_protocol_dataset_wins_over_the_query_s_own(dataset: Dataset) -> None:
    """SPARQL 1.1 Protocol 2.1.4 (and the W3C suite's query_multiple_dataset): default-graph-uri and named-graph-uri
    override FROM and FROM NAMED."""
    first, second, counts = _graphs(dataset)
    with TestClient(create_app(Settings())) as client:
        text = f"SELECT (COUNT(*) AS ?n) FROM <{first}> WHERE {{ ?s ?p ?o }}"
        response = client.get(
            "/sparql", params={"query": text, "default-graph-uri": second}, headers={"Accept": "text/csv"}
        )
        assert response.status_code == 200
        assert response.text.split()[-1] == str(counts[second])


@pytest.mark.parametrize("fmt", ["json", "xml", "csv", "tsv"])
def test_max_rows_holds_for_every_result_format(fmt: str, dataset: Dataset) -> None:
    rows = len({q.subject for q in dataset.quads})
    assert rows > 20
    with TestClient(create_app(Settings(max_rows=rows - 1, cache_entries=0))) as client:
        text = "SELECT DISTINCT ?s WHERE { ?s ?p ?o }"
        refused = client.get("/sparql", params={"query": text, "format": fmt})
        assert refused.status_code == 422, (fmt, refused.status_code)
        assert "KG_MAX_ROWS" in refused.json()["detail"]
        kept = client.get("/sparql", params={"query": text + f" LIMIT {rows - 1}", "format": fmt})
        assert kept.status_code == 200, (fmt, kept.text[:200])


@pytest.mark.parametrize("fmt", ["csv", "tsv"])
def test_max_rows_counts_empty_rows(fmt: str) -> None:
    """Rows with no bound value take one byte in TSV and two in CSV: they are counted too."""
    with TestClient(create_app(Settings(max_rows=5, cache_entries=0))) as client:
        text = "SELECT ?x WHERE { VALUES ?x { UNDEF UNDEF UNDEF UNDEF UNDEF UNDEF } }"
        refused = client.get("/sparql", params={"query": text, "format": fmt})
        assert refused.status_code == 422, (fmt, refused.status_code, refused.text)
        kept = client.get("/sparql", params={"query": text.replace("UNDEF }", "}"), "format": fmt})
        assert kept.status_code == 200 and kept.text.count("\n") == 6
