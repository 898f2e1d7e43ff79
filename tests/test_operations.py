"""Operations: health and readiness, metrics, request ids and the access log, and reloading the data without
downtime (validated first; a broken reload keeps the previous release; requests in flight keep theirs)."""

from __future__ import annotations

import http.client
import json
import logging
import os
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from conftest import ROOT
from prometheus_client.parser import text_string_to_metric_families
from servers import kg_server, workers
from starlette.testclient import TestClient

from kg.app import create_app
from kg.settings import Settings

TOKEN = "s3cret-token"
LABELS = "SELECT ?l WHERE { kgr:lupus skos:altLabel ?l }"


@pytest.fixture
def ontology(tmp_path: Path) -> Path:
    copy = tmp_path / "ontology"
    shutil.copytree(ROOT / "ontology", copy)
    return copy


@pytest.fixture
def client(ontology: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(ontology_dir=ontology, admin_token=TOKEN))) as c:
        yield c


def add_synonym(ontology: Path, text: str) -> None:
    path = ontology / "data" / "entities" / "diseases.ttl"
    source = path.read_text()
    path.write_text(
        source.replace('skos:altLabel "SLE"@en ;', f'skos:altLabel "SLE"@en ;\n    skos:altLabel "{text}"@en ;', 1)
    )


def test_health_readiness_and_metrics(client: TestClient) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    client.get("/sparql", params={"query": LABELS})
    client.get("/queries/negated_claims")
    client.get("/queries/negated_claims")
    text = client.get("/metrics").text
    assert 'kg_http_requests_total{method="GET",route="/sparql",status="200"}' in text
    assert 'route="/queries/{name}"' in text and "kg_http_request_seconds_bucket" in text
    assert "kg_store_queries_total" in text and 'kg_cache_lookups_total{result="hit"}' in text
    assert 'route="other"' not in text or "/nowhere" not in text  # paths never become labels


def test_request_ids_and_access_log(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="kg.access"):
        response = client.get("/healthz", headers={"X-Request-Id": "abc-123"})
        other = client.get("/healthz", headers={"X-Request-Id": "bad id with spaces"})
    assert response.headers["x-request-id"] == "abc-123"
    assert other.headers["x-request-id"] != "bad id with spaces" and len(other.headers["x-request-id"]) == 32
    record = next(r for r in caplog.records if getattr(r, "request_id", None) == "abc-123")
    assert record.status == 200 and record.route == "/healthz" and record.method == "GET"  # type: ignore[attr-defined]


def test_admin_reload_requires_the_token(client: TestClient) -> None:
    assert client.post("/admin/reload").status_code == 401
    assert client.post("/admin/reload", headers={"Authorization": "Bearer wrong"}).status_code == 403
    with TestClient(create_app(Settings())) as no_token:
        refused = no_token.post("/admin/reload", headers={"Authorization": "Bearer anything"})
        assert refused.status_code == 403 and "KG_ADMIN_TOKEN" in refused.json()["detail"]


def test_reload_swaps_in_a_valid_change(client: TestClient, ontology: Path) -> None:
    before = client.get("/healthz").json()["release"]
    add_synonym(ontology, "lupus disease")
    response = client.post("/admin/reload", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    assert response.json()["previous"] == before and response.json()["release"] != before
    labels = {b["l"]["value"] for b in client.get("/sparql", params={"query": LABELS}).json()["results"]["bindings"]}
    assert "lupus disease" in labels
    assert 'kg_reloads_total{outcome="reloaded"}' in client.get("/metrics").text


def test_a_broken_reload_keeps_the_previous_release(client: TestClient, ontology: Path) -> None:
    before = client.get("/healthz").json()["release"]
    (ontology / "data" / "broken.ttl").write_text("@prefix kgr: <https://w3id.org/scad/id/> .\nkgr:x kgr:y \n")
    response = client.post("/admin/reload", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 422
    body = response.json()
    assert body["status"] == "kept" and body["release"] == before
    assert any("broken.ttl:3" in e for e in body["errors"])
    assert client.get("/healthz").json()["release"] == before
    assert client.get("/sparql", params={"query": LABELS}).status_code == 200
    assert 'kg_reloads_total{outcome="refused"}' in client.get("/metrics").text


def test_requests_in_flight_finish_on_their_release(client: TestClient, ontology: Path) -> None:
    before = client.get("/healthz").json()["release"]
    # a second or two alone, well under the 10 s timeout; bounded, so that it does not grow with the graph
    slow = "SELECT (COUNT(*) AS ?n) WHERE { { SELECT * { ?a ?p ?x } LIMIT 4000 } { SELECT * { ?b ?q ?y } LIMIT 4000 } }"
    seen: dict[str, str] = {}

    def run_slow() -> None:
        response = client.get("/sparql", params={"query": slow})
        seen["status"], seen["release"] = str(response.status_code), response.headers.get("x-kg-release", "")

    thread = threading.Thread(target=run_slow)
    thread.start()
    time.sleep(0.2)
    add_synonym(ontology, "lupus again")
    assert client.post("/admin/reload", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    thread.join(timeout=60)
    after = client.get("/healthz").json()["release"]
    assert after != before
    assert seen == {"status": "200", "release": before}


def test_watch_reloads_valid_changes_and_keeps_serving_on_broken_ones(ontology: Path, tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    with kg_server("--watch", env={"KG_ONTOLOGY_DIR": str(ontology)}, log=log) as served:
        before = httpx.get(f"{served.url}/healthz").json()["release"]
        add_synonym(ontology, "watched lupus")
        deadline = time.monotonic() + 40
        release = before
        while time.monotonic() < deadline and release == before:
            time.sleep(0.5)
            try:
                release = httpx.get(f"{served.url}/healthz", timeout=5).json()["release"]
            except httpx.HTTPError:
                continue
        assert release != before, log.read_text()[-2000:]
        (ontology / "data" / "broken.ttl").write_text("this is not turtle\n")
        time.sleep(4)
        assert httpx.get(f"{served.url}/healthz", timeout=5).json()["release"] == release
    assert "do not validate" in log.read_text()


def test_a_reload_under_kg_serve_keeps_idle_keep_alive_connections(ontology: Path, tmp_path: Path) -> None:
    """A reload swaps the data inside the running workers: a keep-alive connection opened before it is still open
    after it, and the next request on it is answered with the new release (by whichever worker holds it)."""
    env = {"KG_ONTOLOGY_DIR": str(ontology), "KG_ADMIN_TOKEN": TOKEN, "KG_KEEP_ALIVE_TIMEOUT": "300"}
    log = tmp_path / "serve.log"
    with kg_server("--workers", "2", env=env, log=log) as served:
        host, port = served.url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=60)
        connection.connect()
        connection.auto_open = 0  # a closed connection is an error here, never silently opened again

        def release() -> str:
            connection.request("GET", "/healthz")
            response = connection.getresponse()
            body = json.loads(response.read())
            assert response.status == 200 and not response.will_close, body
            return str(body["release"])

        before = release()
        opened = connection.sock
        serving = workers(served.process.pid)
        add_synonym(ontology, "kept-alive lupus")
        reloaded = httpx.post(f"{served.url}/admin/reload", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=120)
        assert reloaded.status_code == 200 and reloaded.json()["status"] == "reloaded", reloaded.text
        after = reloaded.json()["release"]
        assert after != before
        seen = [release()]
        deadline = time.monotonic() + 60
        while seen[-1] != after and time.monotonic() < deadline:  # the other worker follows within a second or so
            time.sleep(0.2)
            seen.append(release())
        assert seen[-1] == after and set(seen) <= {before, after}
        assert connection.sock is opened  # the same connection all along
        connection.request("GET", "/sparql?" + urlencode({"query": LABELS}), headers={"Accept": "text/csv"})
        answer = connection.getresponse()
        assert answer.status == 200 and "kept-alive lupus" in answer.read().decode()
        time.sleep(2)  # a supervisor told to replace its workers would have said so by now
        assert release() == after and connection.sock is opened
        assert workers(served.process.pid) == serving  # no worker was replaced
        connection.close()
    assert "restarting processes" not in log.read_text() and "retires" not in log.read_text()


def scraped_readyz(url: str) -> float:
    """The /readyz requests counted in one scrape of /metrics (over a new connection: any worker may answer)."""
    families = text_string_to_metric_families(httpx.get(f"{url}/metrics", timeout=10).text)
    requests = next(f for f in families if f.name == "kg_http_requests")
    return sum(s.value for s in requests.samples if s.name.endswith("_total") and s.labels["route"] == "/readyz")


def test_metrics_add_up_every_worker_and_keep_a_replaced_workers_counts() -> None:
    """Requests served by each of two workers (the other one stopped meanwhile, so it cannot accept them) all appear
    in a scrape answered by either worker, and are still there after one worker ended and was replaced."""
    with kg_server("--workers", "2") as served:
        deadline = time.monotonic() + 60
        while len(workers(served.process.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        first, second = sorted(workers(served.process.pid))
        sent = {first: 7, second: 5}
        for serving, idle in ((first, second), (second, first)):
            os.kill(idle, signal.SIGSTOP)
            try:
                for _ in range(sent[serving]):
                    assert httpx.get(f"{served.url}/readyz", timeout=10).status_code == 200
            finally:
                os.kill(idle, signal.SIGCONT)
        total = sum(sent.values())

        def settled() -> list[float]:
            seen = [scraped_readyz(served.url) for _ in range(6)]
            deadline = time.monotonic() + 15  # each worker writes its numbers about once a second
            while set(seen) != {total} and time.monotonic() < deadline:
                time.sleep(0.3)
                seen = [scraped_readyz(served.url) for _ in range(6)]
            return seen

        assert settled() == [total] * 6
        os.kill(first, signal.SIGTERM)  # it stops gracefully; the supervisor starts another
        deadline = time.monotonic() + 60
        while (first in workers(served.process.pid) or len(workers(served.process.pid)) < 2) and (
            time.monotonic() < deadline
        ):
            time.sleep(0.2)
        assert first not in workers(served.process.pid) and len(workers(served.process.pid)) == 2
        assert settled() == [total] * 6
