"""A corpus of bad input - malformed SPARQL, GraphQL and JSON, huge bodies, wrong content types, odd encodings and
Unicode - sent to the real app over HTTP: each answer is a 4xx (or a GraphQL error) with a message, never a 5xx,
and nothing changes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from kg.app import create_app
from kg.settings import Settings

COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings(max_body_bytes=64_000))) as c:
        yield c


CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/sparql", {"params": {"query": "SELECT * WHERE {"}}),
    ("GET", "/sparql", {"params": {"query": 'SELECT ?x WHERE { ?x ?y "unterminated }'}}),
    ("GET", "/sparql", {"params": {"query": "PREFIX : <http://e/> SELECT * WHERE { :a :b :c } LIMIT -1"}}),
    ("GET", "/sparql", {"params": {"query": "\x00\x01\x02"}}),
    ("GET", "/sparql", {"params": {"query": "SELECT * WHERE { ?s ?p ?o }", "default-graph-uri": "not an iri"}}),
    ("GET", "/sparql", {"params": [("query", COUNT), ("query", COUNT)]}),
    ("GET", "/sparql", {"params": {"query": "   "}}),
    ("POST", "/sparql", {"content": b"\xff\xfe\xfd", "headers": {"Content-Type": "application/sparql-query"}}),
    ("POST", "/sparql", {"content": b"query=%ff%fe", "headers": {"Content-Type": "application/x-www-form-urlencoded"}}),
    ("POST", "/sparql", {"content": b"<xml/>", "headers": {"Content-Type": "application/xml"}}),
    ("POST", "/sparql", {"content": b"", "headers": {"Content-Type": "application/x-www-form-urlencoded"}}),
    ("POST", "/sparql", {"content": b"x" * 100_000, "headers": {"Content-Type": "application/sparql-query"}}),
    (
        "POST",
        "/sparql",
        {"content": COUNT, "headers": {"Content-Type": "application/sparql-query", "Content-Length": "abc"}},
    ),
    ("GET", "/sparql", {"params": {"query": COUNT}, "headers": {"Accept": "application/x-unknown"}}),
    ("GET", "/queries/autoimmune_diseases", {"headers": {"Accept": "image/png"}}),
    ("GET", "/queries/diseases_for_therapy", {"params": {"therapy": "\u0000"}}),
    ("GET", "/queries/diseases_by_source_count", {"params": {"limit_sources": "1e400"}}),
    ("GET", "/queries/../../etc/passwd", {}),
    ("GET", "/queries/%00", {}),
    ("DELETE", "/sparql", {}),
    ("POST", "/graphql", {"content": b"{not json", "headers": {"Content-Type": "application/json"}}),
    ("POST", "/graphql", {"content": b"[]", "headers": {"Content-Type": "application/json"}}),
    ("POST", "/graphql", {"content": b'{"query": 12}', "headers": {"Content-Type": "application/json"}}),
    (
        "POST",
        "/graphql",
        {"content": b'{"query": "{ entity(id: ) }"}', "headers": {"Content-Type": "application/json"}},
    ),
    ("POST", "/graphql", {"content": b'{"query": "{ nope }"}', "headers": {"Content-Type": "application/json"}}),
    ("POST", "/graphql", {"content": b'{"query": "mutation { x }"}', "headers": {"Content-Type": "application/json"}}),
    (
        "POST",
        "/graphql",
        {
            "content": b'{"query": "{ entity(id: \\"kgr:\\\\ud800\\") { id } }"}',
            "headers": {"Content-Type": "application/json"},
        },
    ),
    (
        "POST",
        "/graphql",
        {
            "content": b'{"query": "{ claims(after: \\"!!!\\") { totalCount } }"}',
            "headers": {"Content-Type": "application/json"},
        },
    ),
    ("POST", "/graphql", {"content": b"x" * 100_000, "headers": {"Content-Type": "application/json"}}),
    ("POST", "/graphql", {"content": b"query=1", "headers": {"Content-Type": "text/plain"}}),
    ("POST", "/admin/reload", {"headers": {"Authorization": "Bearer \u00e9".encode("latin-1")}}),
]


# odd but valid: answered normally, and never with a 5xx
ODD_BUT_VALID = [
    "SELECT * WHERE { <http://e/\u202e> ?p ?o }",
    'SELECT * WHERE { ?s ?p "\U0001f600 \u00e9\u0301 \u4e2d" }',
    'SELECT * WHERE { ?s ?p "\\u0000" }',
]


@pytest.mark.parametrize("query", ODD_BUT_VALID)
def test_odd_unicode_is_answered(client: TestClient, query: str) -> None:
    response = client.get("/sparql", params={"query": query})
    assert response.status_code == 200 and response.json()["results"]["bindings"] == []


def test_long_or_control_character_input_is_answered(client: TestClient) -> None:
    long_iri = client.get("/queries/diseases_for_therapy", params={"therapy": "kgr:" + "a" * 10_000})
    assert long_iri.status_code == 200 and long_iri.json()["results"]["bindings"] == []
    search = client.post("/graphql", json={"query": '{ search(text: "\\u0000") { matched } }'})
    assert search.status_code == 200 and search.json()["data"] == {"search": []}
    searched = "query($t: String!) { search(text: $t) { matched } }"
    answers = {  # long enough for the full-text index, where a NUL used to end the query early (an internal error)
        text: client.post("/graphql", json={"query": searched, "variables": {"t": text}}).json()
        for text in ("lupus\u0000", "lu\u0000pus\u0001")
    }
    assert all("errors" not in a for a in answers.values()), answers
    assert {"matched": "lupus"} in answers["lupus\u0000"]["data"]["search"]  # a control character is a space


@pytest.mark.parametrize(
    ("method", "path", "kwargs"), CASES, ids=[f"{m} {p} #{n}" for n, (m, p, _) in enumerate(CASES)]
)
def test_bad_input_is_a_clear_4xx_and_changes_nothing(
    client: TestClient, method: str, path: str, kwargs: dict[str, Any]
) -> None:
    before = client.get("/sparql", params={"query": COUNT}).json()
    response = client.request(method, path, **kwargs)
    assert response.status_code < 500, (response.status_code, response.text[:300])
    assert "Traceback" not in response.text and 'File "' not in response.text
    if path == "/graphql" and response.status_code == 200:
        assert response.json().get("errors"), response.text[:300]
    else:
        assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
        assert response.text.strip(), "a refusal says why"
    assert client.get("/sparql", params={"query": COUNT}).json() == before
