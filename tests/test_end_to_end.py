"""End to end: `kg serve` as a real uvicorn server on 127.0.0.1, used by real SPARQL clients (SPARQLWrapper,
rdflib's SPARQLStore); timeouts that kill a sandbox, not a worker; start-up errors; the remote backend behind the server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import rdflib
from conftest import ROOT
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from servers import kg_server, nginx_proxy, workers
from SPARQLWrapper import JSON, TURTLE, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import SPARQLWrapperException

# SPARQLWrapper and rdflib's SPARQLStore leave their urllib sockets to the garbage collector
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

LUPUS_LABELS = """PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?label WHERE { <https://w3id.org/scad/id/lupus> skos:altLabel ?label }"""
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?x . ?b ?q ?y . ?c ?r ?z }"


@pytest.fixture(scope="module")
def served() -> object:
    with kg_server() as s:
        yield s


def test_sparqlwrapper_select_ask_construct(served: object) -> None:
    endpoint = f"{served.url}/sparql"  # type: ignore[attr-defined]
    client = SPARQLWrapper(endpoint)
    client.setQuery(LUPUS_LABELS)
    client.setReturnFormat(JSON)
    result = client.query().convert()
    assert {b["label"]["value"] for b in result["results"]["bindings"]} == {"SLE", "systemic lupus erythematosus"}  # type: ignore[index]
    client.setQuery("ASK { <https://w3id.org/scad/id/lupus> ?p ?o }")
    assert client.query().convert()["boolean"] is True  # type: ignore[index]
    client.setQuery("CONSTRUCT WHERE { <https://w3id.org/scad/id/lupus> ?p ?o }")
    client.setReturnFormat(TURTLE)
    graph = rdflib.Graph().parse(data=client.query().convert(), format="turtle")  # type: ignore[arg-type]
    assert (
        rdflib.URIRef("https://w3id.org/scad/id/lupus"),
        rdflib.SKOS.prefLabel,
        rdflib.Literal("lupus", lang="en"),
    ) in graph


def test_sparqlwrapper_post_and_update_refused(served: object) -> None:
    client = SPARQLWrapper(f"{served.url}/sparql")  # type: ignore[attr-defined]
    client.setMethod("POST")
    client.setQuery(LUPUS_LABELS)
    client.setReturnFormat(JSON)
    assert len(client.query().convert()["results"]["bindings"]) == 2  # type: ignore[index]
    updater = SPARQLWrapper(f"{served.url}/sparql")  # type: ignore[attr-defined]
    updater.setMethod("POST")
    updater.setQuery("INSERT DATA { <http://e/a> <http://e/b> <http://e/c> }")
    with pytest.raises((SPARQLWrapperException, Exception)) as raised:
        updater.query()
    assert "403" in str(raised.value) or "Forbidden" in str(raised.value)
    count = httpx.get(f"{served.url}/sparql", params={"query": "ASK { <http://e/a> ?p ?o }"}).json()  # type: ignore[attr-defined]
    assert count["boolean"] is False


def test_rdflib_sparqlstore(served: object) -> None:
    store = SPARQLStore(f"{served.url}/sparql", returnFormat="json")  # type: ignore[attr-defined]
    graph = rdflib.Graph(store=store)
    rows = list(graph.query(LUPUS_LABELS))
    assert {str(r[0]) for r in rows} == {"SLE", "systemic lupus erythematosus"}  # type: ignore[index]


def test_named_query_over_real_http(served: object) -> None:
    response = httpx.get(f"{served.url}/queries/autoimmune_diseases", headers={"Accept": "text/csv"})  # type: ignore[attr-defined]
    assert response.status_code == 200
    lines = response.text.strip().splitlines()
    assert lines[0].startswith("disease,diseaseLabel,sources") and len(lines) == 9


def test_runaway_query_on_two_workers_kills_a_sandbox_not_a_worker(built_store: Path, tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    with kg_server("--store", str(built_store), "--workers", "2", env={"KG_QUERY_TIMEOUT": "2"}, log=log) as s:
        before = workers(s.process.pid)
        assert len(before) == 2
        outcome: dict[str, object] = {}

        def runaway() -> None:
            response = httpx.post(f"{s.url}/sparql", data={"query": RUNAWAY}, timeout=60)
            outcome.update(status=response.status_code)

        thread = threading.Thread(target=runaway)
        thread.start()
        time.sleep(0.5)
        for _ in range(5):  # a simple query keeps being answered meanwhile
            assert httpx.get(f"{s.url}/sparql", params={"query": LUPUS_LABELS}, timeout=10).status_code == 200
            time.sleep(0.1)
        thread.join(timeout=60)
        assert outcome["status"] == 503
        assert workers(s.process.pid) == before  # no worker retired
        assert httpx.get(f"{s.url}/healthz", timeout=10).status_code == 200
    text = log.read_text()
    assert "its sandbox was killed" in text and "retires" not in text


def kg_serve_exit(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kg", "serve", "--port", "0", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_missing_or_corrupt_store_is_a_clear_startup_error(tmp_path: Path, built_store: Path) -> None:
    missing = kg_serve_exit("--store", str(tmp_path / "nowhere"))
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    no_record = tmp_path / "no-record"
    (no_record / "data").mkdir(parents=True)
    result = kg_serve_exit("--store", str(no_record))
    assert result.returncode == 2 and "build.json is missing" in result.stderr
    corrupt = tmp_path / "corrupt"
    (corrupt / "data").mkdir(parents=True)
    (corrupt / "build.json").write_text(json.dumps({"release": "x"}))
    (corrupt / "data" / "CURRENT").write_text("garbage\n")
    result = kg_serve_exit("--store", str(corrupt))
    assert result.returncode == 2 and "cannot be opened as an Oxigraph store" in result.stderr


def test_server_in_front_of_a_remote_oxigraph(oxigraph_url: str) -> None:
    with kg_server("--sparql-url", oxigraph_url, env={"KG_RELEASE_ID": "remote-test"}) as s:
        response = httpx.get(
            f"{s.url}/queries/diseases_for_therapy",
            params={"therapy": "kgr:msc-therapy"},
            headers={"Accept": "text/csv"},
        )
        assert response.status_code == 200 and response.headers["x-kg-release"] == "remote-test"
        diseases = {line.split(",")[1] for line in response.text.strip().splitlines()[1:]}
        assert "https://w3id.org/scad/id/crohns-disease" in diseases and len(diseases) == 5
        refused = httpx.post(f"{s.url}/sparql", data={"update": "DROP ALL"})
        assert refused.status_code == 403


def test_a_worker_killed_mid_query_answers_503_and_the_pool_recovers(built_store: Path, tmp_path: Path) -> None:
    """Behind the proxy rules of deploy/nginx/kg-proxy.conf, a worker killed in the middle of a query leaves its
    request a 503 with Retry-After (not a dropped connection); the supervisor starts a replacement and the service
    goes on. Without a proxy, `kg serve` alone can only drop that connection: no process is left to answer it."""
    with (
        kg_server("--store", str(built_store), "--workers", "1", env={"KG_QUERY_TIMEOUT": "30"}) as s,
        nginx_proxy(s.url.removeprefix("http://"), tmp_path) as proxy,
    ):
        (victim,) = workers(s.process.pid)
        outcome: dict[str, httpx.Response] = {}

        def slow() -> None:
            outcome["response"] = httpx.post(f"{proxy}/sparql", data={"query": RUNAWAY}, timeout=60)

        thread = threading.Thread(target=slow)
        thread.start()
        time.sleep(1.0)
        os.kill(victim, signal.SIGKILL)
        thread.join(timeout=60)
        response = outcome["response"]
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] == "1"
        assert response.headers["content-type"] == "application/problem+json"
        assert "retry" in response.json()["detail"]
        deadline = time.monotonic() + 60  # kg serve gives a new worker 60 s to start (its sandboxes first)
        while time.monotonic() < deadline and (workers(s.process.pid) - {victim}) == set():
            time.sleep(0.2)
        assert workers(s.process.pid) - {victim}
        answered = 0
        deadline = time.monotonic() + 30
        while answered < 5 and time.monotonic() < deadline:
            reply = httpx.get(f"{proxy}/sparql", params={"query": LUPUS_LABELS}, timeout=10)
            answered = answered + 1 if reply.status_code == 200 else 0
            if reply.status_code != 200:
                assert reply.status_code == 503  # the replacement is still starting: retry, as the client is told
                time.sleep(0.2)
        assert answered == 5
