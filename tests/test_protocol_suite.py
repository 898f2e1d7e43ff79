"""The W3C SPARQL 1.1 Protocol test suite against a real `kg serve` on 127.0.0.1, one test per manifest entry.

The requests and expected responses are the manifest's (tests/data/protocol/manifest.toml, a hand-written copy of
w3c/rdf-tests sparql/sparql11/protocol/manifest.ttl); the data set is tests/data/protocol/dataset.trig, loaded into an
on-disk store before the server starts. Query and bad-query tests must pass as the manifest says. The endpoint is
read-only, so an update test's update must be refused (403, as a problem document) where the manifest expects 2xx,
its follow-up query must answer what the manifest expects, and the store must hold exactly the quads it held before;
bad-update tests must get their 4xx. Responses are parsed with pyoxigraph by their media type, not by the server's
own format table.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from itertools import count
from pathlib import Path
from typing import Any

import httpx
import pyoxigraph as ox
import pytest
from conftest import DATA
from servers import Served, kg_server

SUITE = DATA / "protocol"
MANIFEST = tomllib.loads((SUITE / "manifest.toml").read_text(encoding="utf-8"))
TESTS: list[dict[str, Any]] = MANIFEST["test"]
ENDPOINT = "/sparql"
"""Where this server's endpoint is; the manifest's paths name the suite's endpoint "/sparql/"."""
LOADED = set(ox.parse(path=str(SUITE / "dataset.trig"), format=ox.RdfFormat.TRIG))
DUMP = "SELECT ?g ?s ?p ?o WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }} # dump {n}"
"""Every quad of the store. The comment makes each dump a new query text, so no answer cache can serve it."""
dumps = count()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    store_dir = tmp_path_factory.mktemp("protocol") / "store"
    store_dir.mkdir()
    store = ox.Store(str(store_dir / "data"))
    store.extend(LOADED)
    store.flush()
    del store
    (store_dir / "build.json").write_text(json.dumps({"release": "w3c-sparql11-protocol"}), encoding="utf-8")
    with kg_server("--store", str(store_dir)) as server:
        yield server


def send(server: Served, request: dict[str, Any]) -> httpx.Response:
    path: str = request["path"]
    assert path.startswith("/sparql/"), path
    url = server.url + ENDPOINT + path.removeprefix("/sparql/")
    headers = {"Content-Type": request["content_type"]} if "content_type" in request else {}
    body = request.get("body")
    content = None if body is None else body.encode(request.get("encoding", "UTF-8").lower())  # utf-16: with a BOM
    return httpx.request(request["method"], url, headers=headers, content=content, timeout=30)


def status_class(status: int) -> str:
    return f"{status // 100}xx"


def media_type(response: httpx.Response) -> str:
    return response.headers.get("content-type", "").split(";")[0].strip().lower()


def results(response: httpx.Response) -> ox.QuerySolutions | ox.QueryBoolean:
    fmt = ox.QueryResultsFormat.from_media_type(media_type(response))
    assert fmt is not None, f"{media_type(response)!r} is not a SPARQL results media type"
    return ox.parse_query_results(response.content, fmt)


def check_response(response: httpx.Response, request: dict[str, Any]) -> None:
    """The response is what the manifest expects of this request."""
    assert status_class(response.status_code) in request["status"], (response.status_code, response.text[:300])
    expected = request.get("format")
    if expected == "boolean":
        answer = results(response)
        assert isinstance(answer, ox.QueryBoolean), type(answer)
        if "boolean" in request:
            assert bool(answer) is request["boolean"]
    elif expected == "tabular":
        answer = results(response)
        assert isinstance(answer, ox.QuerySolutions), type(answer)
        rows = list(answer)
        if "expect_not_iri" in request:
            assert len(rows) == 1, rows
            value = rows[0]["o"]
            assert isinstance(value, ox.NamedNode) and value.value != request["expect_not_iri"], value
    elif expected == "RDF":
        fmt = ox.RdfFormat.from_media_type(media_type(response))
        assert fmt is not None, f"{media_type(response)!r} is not an RDF media type"
        list(ox.parse(response.content, fmt))  # parses


def check_refused(response: httpx.Response) -> None:
    """The refusal a read-only endpoint owes an update: 403, as a problem document that says why."""
    assert response.status_code == 403, (response.status_code, response.text[:300])
    assert media_type(response) == "application/problem+json"
    assert "read-only" in response.json()["detail"]


def dump(server: Served) -> set[ox.Quad]:
    response = httpx.post(
        server.url + ENDPOINT,
        content=DUMP.format(n=next(dumps)),
        headers={"Content-Type": "application/sparql-query", "Accept": "application/sparql-results+json"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    answer = results(response)
    assert isinstance(answer, ox.QuerySolutions)
    return {ox.Quad(row["s"], row["p"], row["o"], row["g"]) for row in answer}  # type: ignore[arg-type]


@pytest.mark.parametrize("test", TESTS, ids=[t["id"] for t in TESTS])
def test_protocol_manifest_entry(served: Served, test: dict[str, Any]) -> None:
    assert dump(served) == LOADED
    for position, request in enumerate(test["request"]):
        response = send(served, request)
        if test["kind"] == "update" and position == 0:  # an update test's first request is its update
            check_refused(response)
        else:
            check_response(response, request)
    assert dump(served) == LOADED, "the store changed"


def test_the_manifest_has_its_34_entries() -> None:
    ids = [t["id"] for t in TESTS]
    assert len(ids) == len(set(ids)) == 34
    kinds = {t["kind"] for t in TESTS}
    assert kinds == {"query", "update", "bad_query", "bad_update"}
    assert all(t["id"].startswith("bad_") == t["kind"].startswith("bad_") for t in TESTS)


def test_suite_files_are_small() -> None:
    assert all(path.stat().st_size < 40_000 for path in Path(SUITE).iterdir())
