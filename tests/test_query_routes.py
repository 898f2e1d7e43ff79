"""Named queries over HTTP (GET /queries, GET /queries/{name}) and the OpenAPI description, on both backends."""

from __future__ import annotations

import re

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import isomorphic
from starlette.testclient import TestClient

from kg.queries.catalog import Catalog


@pytest.fixture(scope="module")
def client(app_client: TestClient) -> TestClient:
    return app_client


def rows(response: object) -> set[tuple[str, ...]]:
    body = response.content  # type: ignore[attr-defined]
    parsed = ox.parse_query_results(body, ox.QueryResultsFormat.JSON)
    assert isinstance(parsed, ox.QuerySolutions)
    names = [v.value for v in parsed.variables]
    return {tuple(str(row[n]) for n in names) for row in parsed}


def plain(result: object) -> set[tuple[str, ...]] | list[ox.Triple]:
    """The store's answer as plain values, read here. pyoxigraph solutions must be dropped on the thread that made
    them: left in a failing test's frame (an expected failure keeps its traceback), the garbage collector may drop
    them later on one of the app's threads, which fails whatever test runs there."""
    if isinstance(result, ox.QuerySolutions):
        names = [v.value for v in result.variables]
        return {tuple(str(row[n]) for n in names) for row in result}
    assert isinstance(result, ox.QueryTriples), result
    return list(result)


def unordered(value: str) -> str:
    """A concatenation with its parts sorted (the value without its quotes and language tag)."""
    bare = re.sub(r'^"|"(@[\w-]+|\^\^<[^>]*>)?$', "", value)
    return " ".join(sorted(re.split(r"[ ;|]+", bare)))


def test_catalogue_lists_every_query(client: TestClient, catalog: Catalog) -> None:
    listed = client.get("/queries").json()["queries"]
    assert {q["name"] for q in listed} == {q.name for q in catalog}
    entry = next(q for q in listed if q["name"] == "diseases_for_therapy")
    assert entry["params"] == [
        {
            "name": "therapy",
            "type": "iri",
            "required": True,
            "default": None,
            "example": "kgr:msc-therapy",
            "description": "the therapy",
        }
    ]
    assert entry["cq"] == ["CQ02"] and entry["href"] == "/queries/diseases_for_therapy"


def test_every_named_query_answers_the_same_over_http(client: TestClient, catalog: Catalog, store: ox.Store) -> None:
    """Each query with its example parameters gives over HTTP what it gives on the store directly."""
    from kg.store.backends import run

    for query in catalog:
        params = {p.name: p.example for p in query.params if p.example is not None}
        response = client.get(
            f"/queries/{query.name}",
            params=params,
            headers={"Accept": "application/n-triples, application/sparql-results+json"},
        )
        assert response.status_code == 200, (query.name, response.text)
        expected = plain(run(store, query, query.bind(params)))
        if isinstance(expected, set):
            reference = expected
            got = rows(response)
            if "GROUP_CONCAT" in query.text:  # the order inside a concatenation is not defined
                reference = {tuple(map(unordered, r)) for r in reference}
                got = {tuple(map(unordered, r)) for r in got}
            assert got == reference, query.name
        else:
            got_graph = rdflib.Graph().parse(data=response.content.decode(), format="nt")
            reference_nt = ox.serialize(expected, format=ox.RdfFormat.N_TRIPLES).decode()
            assert isomorphic(got_graph, rdflib.Graph().parse(data=reference_nt, format="nt")), query.name


def test_content_negotiation_and_format_parameter(client: TestClient) -> None:
    csv = client.get("/queries/autoimmune_diseases", headers={"Accept": "text/csv"})
    assert csv.headers["content-type"].startswith("text/csv") and csv.text.startswith("disease,")
    tsv = client.get("/queries/autoimmune_diseases", params={"format": "tsv"})
    assert tsv.headers["content-type"].startswith("text/tab-separated-values")
    turtle = client.get("/queries/summary", headers={"Accept": "text/turtle"})
    assert turtle.status_code == 200 and len(list(ox.parse(turtle.content, ox.RdfFormat.TURTLE))) == 212
    refused = client.get("/queries/summary", headers={"Accept": "text/csv"})
    assert refused.status_code == 406


def test_unknown_query_is_404(client: TestClient) -> None:
    response = client.get("/queries/no_such_query")
    assert response.status_code == 404 and "no named query 'no_such_query'" in response.json()["detail"]


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({}, "needs parameter 'therapy'"),
        ({"therapy": "SLE"}, "parameter 'therapy' has value 'SLE'; expected an IRI"),
        ({"therapy": "kgr:msc-therapy", "colour": "red"}, "has no parameter 'colour'"),
        ({"therapy": "<https://w3id.org/scad/id/msc-therapy> } ; DROP ALL"}, "expected an IRI"),
    ],
)
def test_bad_parameters_are_422_naming_the_parameter(client: TestClient, params: dict[str, str], words: str) -> None:
    response = client.get("/queries/diseases_for_therapy", params=params)
    assert response.status_code == 422 and words in response.json()["detail"]


def test_injection_through_parameters_stays_inert(client: TestClient) -> None:
    before = client.get("/sparql", params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"}).json()
    for value in (
        "kgr:lupus> . ?s ?p ?o } #",
        "kgr:lupus%3E",
        "https://w3id.org/scad/id/lupus> ?p ?o } UNION { ?entity",
        "javascript:alert(1)",
    ):
        response = client.get("/queries/sources_mentioning", params={"entity": value})
        assert response.status_code in (200, 422), value
        if response.status_code == 200:
            assert rows(response) == set(), value  # bound as one (odd) IRI: it matches nothing
    typed = client.get("/queries/diseases_by_source_count", params={"limit_sources": "1 || true"})
    assert typed.status_code == 422
    after = client.get("/sparql", params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"}).json()
    assert before == after


def test_openapi_describes_each_named_query(client: TestClient, catalog: Catalog) -> None:
    doc = client.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    for query in catalog:
        operation = doc["paths"][f"/queries/{query.name}"]["get"]
        assert operation["operationId"] == query.name and operation["summary"] == query.summary
        declared = {p["name"]: p for p in operation["parameters"]}
        for p in query.params:
            assert declared[p.name]["required"] is p.required
    assert {"get", "post"} <= set(doc["paths"]["/sparql"])


def test_release_header_and_etag_on_named_queries(client: TestClient) -> None:
    first = client.get("/queries/negated_claims")
    assert first.headers["x-kg-release"] and first.headers["etag"]
    assert client.get("/queries/negated_claims", headers={"If-None-Match": first.headers["etag"]}).status_code == 304


def test_a_repeated_query_gets_the_same_headers(client: TestClient) -> None:
    """The repeat is answered before routing (kg.web.fastpath) with the headers the full stack gave the first time."""
    path = "/queries/diseases_for_therapy?therapy=kgr%3Amsc-therapy"
    first, second = (client.get(path, headers={"Accept": "text/csv"}) for _ in range(2))
    assert first.content == second.content
    skip = {"x-request-id", "date", "server"}
    assert {k: v for k, v in first.headers.items() if k not in skip} == {
        k: v for k, v in second.headers.items() if k not in skip
    }
    assert client.app.state.executor.answered((path.split("?")[0], path.split("?")[1].encode(), b"text/csv"))  # type: ignore[attr-defined]
