"""GraphQL over HTTP: the graphql-http audit suite (npm package graphql-http, its serverAudits, run by node through
tests/graphql_http_audit.mjs) against a real `kg serve`, and the media-type rules it checks, in-process."""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any

import pytest
from conftest import ROOT
from servers import kg_server, needs_program
from starlette.testclient import TestClient

GRAPHQL_HTTP = ROOT / ".tools" / "node_modules" / "graphql-http"
AUDIT = ROOT / "tests" / "graphql_http_audit.mjs"
RESPONSE = "application/graphql-response+json"


def needs_graphql_http() -> None:
    if not (GRAPHQL_HTTP / "lib" / "index.mjs").is_file():
        message = (
            f"graphql-http is not at {GRAPHQL_HTTP} (npm install --prefix .tools graphql-http@1); .ci/run installs it"
        )
        if os.environ.get("CI"):
            raise RuntimeError(message)
        pytest.skip(message)


def test_graphql_http_audit_passes_every_audit() -> None:
    node = needs_program("node", "nodejs")
    needs_graphql_http()
    with kg_server() as server:
        run = subprocess.run(
            [node, str(AUDIT), server.url + "/graphql", str(GRAPHQL_HTTP)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert run.returncode in (0, 1), run.stderr
    results = [json.loads(line) for line in run.stdout.splitlines() if line.strip()]
    assert len(results) >= 60, run.stdout  # graphql-http 1.x has 61 server audits
    failed = [f"{r['id']} {r['status']}: {r['name']} ({r['reason']})" for r in results if r["status"] != "ok"]
    assert not failed, "graphql-http audits failed:\n" + "\n".join(failed)
    assert run.returncode == 0


@pytest.fixture(scope="module")
def client(app_client: TestClient) -> TestClient:
    return app_client


def post(client: TestClient, body: dict[str, Any], accept: str | None) -> Any:
    headers = {"Accept": accept} if accept else {}
    return client.post("/graphql", json=body, headers=headers)


@pytest.mark.parametrize(
    ("accept", "media"),
    [
        (RESPONSE, RESPONSE),
        ("application/json", "application/json"),
        (None, "application/json"),
        ("*/*", "application/json"),
        (f"{RESPONSE}, application/json;q=0.9", RESPONSE),
        (f"{RESPONSE};q=0.5, application/json", "application/json"),
    ],
)
def test_the_answer_has_the_media_type_the_client_accepts(client: TestClient, accept: str | None, media: str) -> None:
    for _ in range(2):  # the second is a repeat, answered before routing: in the same media type
        response = post(client, {"query": "{ __typename }"}, accept)
        assert response.status_code == 200
        assert response.headers["content-type"].split(";")[0] == media
        assert response.json()["data"] == {"__typename": "Query"}


@pytest.mark.parametrize(
    "body",
    [
        {"query": "{"},
        {"query": "{ noSuchField }"},
        {"query": "query Q($id: ID!) { __typename }", "variables": {"id": None}},
    ],
    ids=["parse", "validation", "variable-coercion"],
)
def test_request_errors_are_400_without_data_in_graphql_response_json(client: TestClient, body: dict[str, Any]) -> None:
    strict = post(client, body, RESPONSE)
    assert strict.status_code == 400 and strict.headers["content-type"].startswith(RESPONSE)
    assert "data" not in strict.json() and strict.json()["errors"]
    legacy = post(client, body, "application/json")
    assert legacy.status_code == 200 and legacy.json()["errors"]


@pytest.mark.parametrize(
    ("query", "data"),
    [('{ entity(id: "not an iri") { id } }', {"entity": None}), ("{ claims(first: 100000) { totalCount } }", None)],
    ids=["nullable-field", "non-null-root"],
)
def test_field_errors_keep_200_and_the_data_entry(client: TestClient, query: str, data: object) -> None:
    """An operation that ran answers 200 with its data entry, even when the data is null (GraphQL over HTTP)."""
    response = post(client, {"query": query}, RESPONSE)
    assert response.status_code == 200 and response.headers["content-type"].startswith(RESPONSE)
    body = response.json()
    assert "data" in body and body["data"] == data
    assert body["errors"][0]["path"]


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/graphql"])
def test_a_post_that_is_not_json_is_415(client: TestClient, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    for _ in range(2):
        response = client.post("/graphql", content=json.dumps({"query": "{ __typename }"}), headers=headers)
        assert response.status_code == 415, response.text
        assert "application/json" in response.text
