"""The /sparql hot path (kg.web.hotpath) against the full stack as the oracle: the same app without the hot path
(its first middleware removed) must answer every request byte for byte the same, headers included (but the request
id and the date), and the hot path must have answered them itself."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from kg.app import create_app
from kg.settings import Settings
from kg.web.hotpath import SparqlHotPath

LABELS = (
    "SELECT ?label WHERE { <https://w3id.org/scad/id/lupus> <http://www.w3.org/2004/02/skos/core#altLabel> ?label }"
)
GRAPH = "CONSTRUCT { <https://w3id.org/scad/id/lupus> ?p ?o } WHERE { <https://w3id.org/scad/id/lupus> ?p ?o }"
JSON = {"Accept": "application/sparql-results+json"}
SETTINGS = Settings(sandboxes=1, max_body_bytes=2048)


@pytest.fixture(scope="module")
def clients() -> Iterator[tuple[TestClient, TestClient]]:
    full_app = create_app(SETTINGS)
    removed = full_app.user_middleware.pop(0)
    assert removed.cls is SparqlHotPath  # the oracle is the app without the hot path, nothing else changed
    with TestClient(create_app(SETTINGS)) as hot, TestClient(full_app) as full:
        yield hot, full


def compared(response: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = [(k, v) for k, v in response.headers.multi_items() if k not in ("x-request-id", "date")]
    return response.status_code, headers, response.content


REQUESTS: list[tuple[str, dict[str, Any]]] = [
    ("GET", {"params": {"query": LABELS}, "headers": JSON}),
    ("GET", {"params": {"query": LABELS}, "headers": JSON}),  # a repeat: the remembered answer
    ("GET", {"params": {"query": LABELS}, "headers": {"Accept": "text/csv"}}),
    ("GET", {"params": {"query": LABELS, "format": "tsv"}}),
    ("GET", {"params": {"query": GRAPH}, "headers": {"Accept": "text/turtle"}}),
    ("GET", {"params": {"query": LABELS}, "headers": {"Accept": "image/png"}}),  # 406
    ("GET", {"params": {"query": "SELECT ?x WHERE { ?x ?y"}}),  # 400, syntax
    ("GET", {"params": {"query": "  "}}),
    ("GET", {"params": {"query": [LABELS, LABELS]}}),
    ("GET", {"params": {"query": LABELS, "update": "CLEAR ALL"}}),
    ("GET", {"params": {"update": "CLEAR ALL"}}),
    ("GET", {"params": {"query": "SELECT * WHERE { SERVICE <http://example.org/s> { ?s ?p ?o } }"}}),
    ("GET", {"params": {"query": "CLEAR ALL"}}),
    ("GET", {"params": {"query": LABELS, "default-graph-uri": "https://w3id.org/scad/graph/nothing"}}),
    ("POST", {"data": {"query": LABELS}, "headers": JSON}),
    ("POST", {"content": LABELS, "headers": {"Content-Type": "application/sparql-query", **JSON}}),
    ("POST", {"content": LABELS, "headers": {"Content-Type": "application/sparql-query; charset=latin-1"}}),
    ("POST", {"content": "CLEAR ALL", "headers": {"Content-Type": "application/sparql-update"}}),
    ("POST", {"content": LABELS, "headers": {"Content-Type": "text/plain"}}),
    ("POST", {"data": {"format": "json"}}),
    ("POST", {"content": b"query=" + b"x" * 3000, "headers": {"Content-Type": "application/x-www-form-urlencoded"}}),
    ("POST", {"content": b"\xff\xfe", "headers": {"Content-Type": "application/sparql-query"}}),
    ("POST", {"params": {"query": LABELS}, "content": LABELS, "headers": {"Content-Type": "application/sparql-query"}}),
]


def test_the_hot_path_answers_as_the_full_stack(clients: tuple[TestClient, TestClient]) -> None:
    hot, full = clients
    before = SparqlHotPath.taken
    for method, arguments in REQUESTS:
        expected = compared(full.request(method, "/sparql", **arguments))
        assert compared(hot.request(method, "/sparql", **arguments)) == expected, (method, arguments)
    assert SparqlHotPath.taken - before == len(REQUESTS)


def test_a_client_that_has_the_answer_gets_304_as_from_the_full_stack(clients: tuple[TestClient, TestClient]) -> None:
    hot, full = clients
    etag = full.get("/sparql", params={"query": LABELS}, headers=JSON).headers["etag"]
    for tags in (etag, f'"other", {etag}', "*"):
        headers = {**JSON, "If-None-Match": tags}
        for query in (LABELS, LABELS + " # new text, not remembered"):
            expected = compared(full.get("/sparql", params={"query": query}, headers=headers))
            assert compared(hot.get("/sparql", params={"query": query}, headers=headers)) == expected


def test_browsers_cors_and_the_service_description_take_the_full_stack(
    clients: tuple[TestClient, TestClient],
) -> None:
    hot, full = clients
    before = SparqlHotPath.taken
    for arguments in (
        {"params": {"query": LABELS}, "headers": {"Accept": "text/html,application/xhtml+xml"}},
        {"params": {"query": LABELS}, "headers": {"Origin": "https://yasgui.example", **JSON}},
        {"headers": {"Accept": "text/turtle"}},
        {"params": {"query": LABELS}, "headers": {"Accept": "text/html"}},
    ):
        expected = compared(full.get("/sparql", **arguments))
        assert compared(hot.get("/sparql", **arguments))[0] == expected[0]
    assert SparqlHotPath.taken == before
