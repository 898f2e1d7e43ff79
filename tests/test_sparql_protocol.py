"""The SPARQL 1.1 Protocol at /sparql, through the real app over HTTP (in-process ASGI client), as a checklist."""

from __future__ import annotations

import csv
import io
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import pyoxigraph as ox
import pytest
from starlette.testclient import TestClient

from kg.app import create_app
from kg.queries.formats import GRAPHS, RESULTS
from kg.settings import Settings

COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
LUPUS = "https://w3id.org/scad/id/lupus"
LABELS = (
    "SELECT ?label WHERE { <https://w3id.org/scad/id/lupus> <http://www.w3.org/2004/02/skos/core#altLabel> ?label }"
)
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?x . ?b ?q ?y . ?c ?r ?z }"
SPARQL_JSON = "application/sparql-results+json"


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings())) as c:
        yield c


def solutions(response: Any) -> list[dict[str, str]]:
    media = response.headers["content-type"].split(";")[0]
    if media == "text/csv":
        return list(csv.DictReader(io.StringIO(response.text)))
    fmt = next(f.results for f in RESULTS if f.media_type == media)
    assert fmt is not None
    parsed = ox.parse_query_results(response.content, fmt)
    assert isinstance(parsed, ox.QuerySolutions)
    names = [v.value for v in parsed.variables]
    return [{n: row[n].value for n in names if row[n] is not None} for row in parsed]


def count(client: TestClient) -> int:
    response = client.get("/sparql", params={"query": COUNT})
    return int(solutions(response)[0]["n"])


def test_get_query_returns_sparql_json(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": LABELS})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(SPARQL_JSON)
    assert {r["label"] for r in solutions(response)} == {"SLE", "systemic lupus erythematosus"}


def test_post_form_query(client: TestClient) -> None:
    response = client.post("/sparql", data={"query": LABELS})
    assert response.status_code == 200
    assert {r["label"] for r in solutions(response)} == {"SLE", "systemic lupus erythematosus"}


def test_post_direct_query(client: TestClient) -> None:
    response = client.post("/sparql", content=LABELS, headers={"Content-Type": "application/sparql-query"})
    assert response.status_code == 200
    assert {r["label"] for r in solutions(response)} == {"SLE", "systemic lupus erythematosus"}


@pytest.mark.parametrize("fmt", RESULTS, ids=lambda f: f.media_type)
def test_select_in_every_results_format(client: TestClient, fmt: object) -> None:
    media = fmt.media_type  # type: ignore[attr-defined]
    response = client.get("/sparql", params={"query": LABELS}, headers={"Accept": media})
    assert response.status_code == 200 and response.headers["content-type"].startswith(media)
    assert {r["label"] for r in solutions(response)} == {"SLE", "systemic lupus erythematosus"}


def test_ask(client: TestClient) -> None:
    yes = client.get("/sparql", params={"query": f"ASK {{ <{LUPUS}> ?p ?o }}"})
    no = client.get("/sparql", params={"query": "ASK { <https://w3id.org/scad/id/nothing> ?p ?o }"})
    assert yes.json() == {"head": {}, "boolean": True} and no.json()["boolean"] is False


@pytest.mark.parametrize("fmt", GRAPHS, ids=lambda f: f.media_type)
def test_construct_in_every_graph_format(client: TestClient, fmt: object) -> None:
    media = fmt.media_type  # type: ignore[attr-defined]
    rdf = fmt.rdf  # type: ignore[attr-defined]
    query = f"CONSTRUCT {{ <{LUPUS}> ?p ?o }} WHERE {{ <{LUPUS}> ?p ?o }}"
    response = client.get("/sparql", params={"query": query}, headers={"Accept": media})
    assert response.status_code == 200 and response.headers["content-type"].startswith(media)
    triples = {(t.predicate.value, str(t.object)) for t in ox.parse(response.content, rdf)}
    reference = client.get("/sparql", params={"query": query}, headers={"Accept": "application/n-triples"})
    assert triples == {(t.predicate.value, str(t.object)) for t in ox.parse(reference.content, ox.RdfFormat.N_TRIPLES)}
    assert ("http://www.w3.org/2004/02/skos/core#prefLabel", '"lupus"@en') in triples


def test_describe(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": f"DESCRIBE <{LUPUS}>"}, headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    assert any(t.subject.value == LUPUS for t in ox.parse(response.content, ox.RdfFormat.TURTLE))


def test_accept_with_q_values_and_wildcards(client: TestClient) -> None:
    response = client.get(
        "/sparql", params={"query": LABELS}, headers={"Accept": "text/csv;q=0.5, application/sparql-results+xml"}
    )
    assert response.headers["content-type"].startswith("application/sparql-results+xml")
    response = client.get("/sparql", params={"query": LABELS}, headers={"Accept": "text/*"})
    assert response.headers["content-type"].startswith("text/csv")


def test_unservable_accept_is_406(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": LABELS}, headers={"Accept": "image/png"})
    assert response.status_code == 406
    assert "application/sparql-results+json" in response.json()["detail"]
    graph = client.get("/sparql", params={"query": "CONSTRUCT WHERE { ?s ?p ?o }"}, headers={"Accept": "text/csv"})
    assert graph.status_code == 406 and "text/turtle" in graph.json()["detail"]


def test_malformed_query_is_400_with_position(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o "})
    assert response.status_code == 400
    problem = response.json()
    assert problem["status"] == 400 and "error at 1:" in problem["detail"]
    assert "Traceback" not in response.text


def test_default_and_named_graph_uri(client: TestClient) -> None:
    graph = "https://w3id.org/scad/graph/data/sources.ttl"
    only_sources = client.get(
        "/sparql", params={"query": "SELECT DISTINCT ?t WHERE { ?s a ?t }", "default-graph-uri": graph}
    )
    assert {r["t"] for r in solutions(only_sources)} == {"https://w3id.org/scad/ontology#Source"}
    named = client.get(
        "/sparql",
        params={"query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }", "named-graph-uri": graph},
    )
    assert [r["g"] for r in solutions(named)] == [graph]


def test_a_protocol_dataset_replaces_the_whole_dataset(app_client: TestClient) -> None:
    """On both backends. SPARQL 1.1 Protocol 2.1.4: the dataset of the request is the one it names; with named graphs only, the default
    graph is empty (not the union), and with a default graph only, there are no named graphs."""
    graph = "https://w3id.org/scad/graph/data/sources.ttl"
    only_named = app_client.get("/sparql", params={"query": "ASK { ?s ?p ?o }", "named-graph-uri": graph})
    assert only_named.json()["boolean"] is False
    only_default = app_client.get(
        "/sparql", params={"query": "ASK { GRAPH ?g { ?s ?p ?o } }", "default-graph-uri": graph}
    )
    assert only_default.json()["boolean"] is False


def test_from_in_the_query_is_its_dataset(app_client: TestClient) -> None:
    sources = "https://w3id.org/scad/graph/data/sources.ttl"
    query = f"SELECT DISTINCT ?t FROM <{sources}> WHERE {{ ?s a ?t }}"
    assert {r["t"] for r in solutions(app_client.get("/sparql", params={"query": query}))} == {
        "https://w3id.org/scad/ontology#Source"
    }
    named = f"SELECT DISTINCT ?g FROM NAMED <{sources}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"
    assert [r["g"] for r in solutions(app_client.get("/sparql", params={"query": named}))] == [sources]


def test_relative_iris_resolve_against_the_endpoint(app_client: TestClient) -> None:
    response = app_client.post(
        "/sparql",
        content="SELECT ?o WHERE { BIND(<test> AS ?o) }",
        headers={"Content-Type": "application/sparql-query"},
    )
    assert [r["o"] for r in solutions(response)] == ["http://testserver/test"]


def test_query_and_update_together_is_400(client: TestClient) -> None:
    response = client.post("/sparql", data={"query": "ASK {}", "update": "DROP ALL"})
    assert response.status_code == 400 and "'update'" in response.json()["detail"]


def test_a_query_body_not_in_utf8_is_415(client: TestClient) -> None:
    response = client.post(
        "/sparql",
        content="ASK {}".encode("utf-16"),
        headers={"Content-Type": "application/sparql-query; charset=UTF-16"},
    )
    assert response.status_code == 415 and "'UTF-16'" in response.json()["detail"]


def test_predefined_prefixes(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": "SELECT ?l WHERE { kgr:lupus skos:prefLabel ?l }"})
    assert [r["l"] for r in solutions(response)] == ["lupus"]


@pytest.mark.parametrize(
    "request_kwargs",
    [
        {"data": {"update": "DROP ALL"}},
        {"data": {"update": "INSERT DATA { <http://e/a> <http://e/b> <http://e/c> }"}},
        {"content": "DROP ALL", "headers": {"Content-Type": "application/sparql-update"}},
        {"data": {"query": "DELETE WHERE { ?s ?p ?o }"}},
    ],
    ids=["form-drop", "form-insert", "sparql-update-body", "update-as-query"],
)
def test_updates_are_refused_and_change_nothing(client: TestClient, request_kwargs: dict[str, object]) -> None:
    before = count(client)
    response = client.post("/sparql", **request_kwargs)  # type: ignore[arg-type]
    assert response.status_code == 403 and "read-only" in response.json()["detail"]
    get_update = client.get("/sparql", params={"update": "DROP ALL"})
    assert get_update.status_code == 403
    assert count(client) == before


def test_service_is_refused(client: TestClient) -> None:
    for query in (
        "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
        "SELECT * WHERE { SERVICE SILENT <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
        "SELECT * WHERE { BIND(<http://127.0.0.1:9/sparql> AS ?e) SERVICE ?e { ?s ?p ?o } }",
        "select * where { service <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
    ):
        response = client.get("/sparql", params={"query": query})
        assert response.status_code == 403, query
        assert "not allowed" in response.json()["detail"]
    # the word in a string, an IRI or a comment is not a SERVICE clause
    harmless = 'SELECT * WHERE { ?s ?p "SERVICE <http://x/>" } # SERVICE <http://y/>'
    assert client.get("/sparql", params={"query": harmless}).status_code == 200


def test_unsupported_body_type_is_415(client: TestClient) -> None:
    response = client.post("/sparql", content=b"{}", headers={"Content-Type": "application/json"})
    assert response.status_code == 415 and "application/sparql-query" in response.json()["detail"]


def test_oversized_body_is_413() -> None:
    with TestClient(create_app(Settings(max_body_bytes=2048))) as small:
        padded = LABELS + " #" + "x" * 4096
        declared = small.post("/sparql", content=padded, headers={"Content-Type": "application/sparql-query"})
        assert declared.status_code == 413 and "KG_MAX_BODY_BYTES" in declared.json()["detail"]

        def chunks() -> Iterator[bytes]:
            yield padded.encode()

        streamed = small.post("/sparql", content=chunks(), headers={"Content-Type": "application/sparql-query"})
        assert streamed.status_code == 413


def test_too_many_rows_is_422() -> None:
    with TestClient(create_app(Settings(max_rows=50))) as small:
        response = small.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }"})
        assert response.status_code == 422 and "KG_MAX_ROWS" in response.json()["detail"]
        fine = small.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 50"})
        assert fine.status_code == 200 and len(solutions(fine)) == 50
        graph = small.get(
            "/sparql", params={"query": "CONSTRUCT WHERE { ?s ?p ?o }"}, headers={"Accept": "text/turtle"}
        )
        assert graph.status_code == 422
        limited = small.get(
            "/sparql", params={"query": "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 50"}, headers={"Accept": "text/turtle"}
        )
        assert limited.status_code == 200
        assert len(list(ox.parse(limited.content, ox.RdfFormat.TURTLE))) == 50


def test_turtle_answers_use_the_graph_prefixes(client: TestClient) -> None:
    query = "CONSTRUCT { ?d skos:prefLabel ?l } WHERE { ?d a scad:Disease ; skos:prefLabel ?l }"
    turtle = client.get("/sparql", params={"query": query}, headers={"Accept": "text/turtle"}).text
    declared = set(re.findall(r"^@prefix (\w+):", turtle, re.M))
    assert declared == {"kgr", "skos"}  # only the prefixes the answer uses
    assert "kgr:lupus skos:prefLabel " in turtle
    ntriples = client.get("/sparql", params={"query": query}, headers={"Accept": "application/n-triples"}).content
    assert set(ox.parse(turtle.encode(), ox.RdfFormat.TURTLE)) == set(ox.parse(ntriples, ox.RdfFormat.N_TRIPLES))


def test_etag_release_header_and_if_none_match(client: TestClient) -> None:
    first = client.get("/sparql", params={"query": LABELS})
    etag, release = first.headers["etag"], first.headers["x-kg-release"]
    assert release in etag and release == client.get("/healthz").json()["release"]
    again = client.get("/sparql", params={"query": LABELS}, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    other_format = client.get(
        "/sparql", params={"query": LABELS}, headers={"Accept": "text/csv", "If-None-Match": etag}
    )
    assert other_format.status_code == 200


def test_repeated_queries_are_answered_from_the_cache(client: TestClient) -> None:
    executor = client.app.state.executor  # type: ignore[attr-defined]
    query = "SELECT ?x WHERE { kgr:hematopoietic-stem-cell-transplantation skos:altLabel ?x }"
    first = client.get("/sparql", params={"query": query})
    engine_runs = executor.store_queries
    for _ in range(5):
        repeat = client.get("/sparql", params={"query": query})
        assert repeat.content == first.content
    assert executor.store_queries == engine_runs


def test_a_repeat_answered_before_routing_is_the_same_answer(client: TestClient) -> None:
    query = {"query": "SELECT ?x WHERE { kgr:msc-therapy skos:altLabel ?x }"}
    first = client.get("/sparql", params=query, headers={"Accept": "text/tab-separated-values"})
    repeat = client.get("/sparql", params=query, headers={"Accept": "text/tab-separated-values"})
    assert repeat.content == first.content
    for header in ("content-type", "etag", "x-kg-release", "cache-control"):
        assert repeat.headers[header] == first.headers[header]
    assert (
        client.get(
            "/sparql",
            params=query,
            headers={"Accept": "text/tab-separated-values", "If-None-Match": first.headers["etag"]},
        ).status_code
        == 304
    )
    named = client.get("/queries/negated_claims", headers={"Accept": "text/csv"})
    assert client.get("/queries/negated_claims", headers={"Accept": "text/csv"}).content == named.content


def test_service_description_and_yasgui(client: TestClient) -> None:
    turtle = client.get("/sparql", headers={"Accept": "text/turtle"})
    assert turtle.status_code == 200
    triples = list(ox.parse(turtle.content, ox.RdfFormat.TURTLE))
    sd = "http://www.w3.org/ns/sparql-service-description#"
    assert any(t.predicate.value == sd + "endpoint" and t.object.value.endswith("/sparql") for t in triples)
    assert any(t.object.value == sd + "SPARQL11Query" for t in triples)
    page = client.get("/sparql", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "yasgui" in page.text.lower() and "transplant" in page.text  # example queries from queries/


def test_cors(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": LABELS}, headers={"Origin": "https://yasgui.example"})
    assert response.headers["access-control-allow-origin"] == "*"
    assert "ETag" in response.headers["access-control-expose-headers"]


def test_runaway_query_is_stopped_while_a_simple_query_answers() -> None:
    with TestClient(create_app(Settings(query_timeout=1.0))) as c:
        outcome: dict[str, object] = {}

        def runaway() -> None:
            started = time.monotonic()
            response = c.get("/sparql", params={"query": RUNAWAY})
            outcome["status"], outcome["seconds"] = response.status_code, time.monotonic() - started
            outcome["detail"] = response.json()["detail"]

        thread = threading.Thread(target=runaway)
        thread.start()
        time.sleep(0.2)
        started = time.monotonic()
        simple = c.get("/sparql", params={"query": LABELS})
        simple_seconds = time.monotonic() - started
        thread.join(timeout=30)
        assert simple.status_code == 200 and simple_seconds < 1.0
        assert outcome["status"] == 503 and "KG_QUERY_TIMEOUT" in str(outcome["detail"])
        assert 0.9 <= float(outcome["seconds"]) < 5  # type: ignore[arg-type]
        assert c.app.state.executor.timeouts == 1  # type: ignore[attr-defined]


def test_errors_are_problem_documents_without_internals(client: TestClient) -> None:
    for response in (
        client.get("/nowhere"),
        client.put("/sparql"),
        client.get("/sparql", params={"query": "SELEKT"}),
        client.post("/sparql", content=b"\xff\xfe", headers={"Content-Type": "application/sparql-query"}),
    ):
        assert 400 <= response.status_code < 500
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "Traceback" not in response.text and 'File "' not in response.text
