"""A corpus of hostile input sent to a real `kg serve` on 127.0.0.1: SPARQL (SERVICE evasions, nesting, updates,
malformed text), GraphQL (fragment bombs, huge integers, odd JSON), HTTP framing and headers over raw sockets, pages,
named queries, and the CLI. Each input has its expected refusal; the run fails on any 5xx, crashed or replaced
worker, hang past the deadline, wrong success, or outbound connection (a listener on 127.0.0.1 counts them), and on a
worker above its memory cap or growing over a run of distinct requests."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hostile_inputs import Case, Raw, cli_cases, graphql_cases, http_cases, named_query_cases, page_cases, sparql_cases
from servers import HOST, kg_server, workers
from typer.testing import CliRunner

from kg.cli import app as cli

DEADLINE = 5.0
MEMORY_CAP = 1_500_000_000
"""Bytes of resident memory no server process may pass during the corpus."""


class Listener(threading.Thread):
    """A TCP listener on 127.0.0.1 that counts every connection made to it: SERVICE must never reach it."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.sock = socket.socket()
        self.sock.bind((HOST, 0))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.port = int(self.sock.getsockname()[1])
        self.hits = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.hits += 1
            conn.close()


def send_raw(base: str, case: Raw, timeout: float) -> int:
    """The status of the server's answer to raw bytes (0: the connection closed with no answer)."""
    port = int(base.rsplit(":", 1)[1])
    with socket.create_connection((HOST, port), timeout=timeout) as sock:
        try:
            if case.trickle:
                for i in range(0, len(case.data), 4):
                    sock.sendall(case.data[i : i + 4])
                    time.sleep(0.5)
            else:
                sock.sendall(case.data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server refused before reading everything; its answer is still there to read
        answer = b""
        try:
            while b"\r\n" not in answer:
                part = sock.recv(4096)
                if not part:
                    break
                answer += part
        except ConnectionResetError:
            pass
    if not answer.startswith(b"HTTP/1."):
        return 0
    return int(answer.split(b" ", 2)[1])


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    found = Listener()
    found.start()
    yield found
    found.stopped.set()
    found.sock.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, Path]]:
    log = tmp_path_factory.mktemp("hostile") / "serve.log"
    env = {
        "KG_QUERY_TIMEOUT": str(DEADLINE),
        "KG_HEADER_TIMEOUT": "2",
        "KG_BODY_TIMEOUT": "2",
        "KG_KEEP_ALIVE_TIMEOUT": "1",
        "KG_CACHE_ENTRIES": "64",
        "KG_CACHE_BYTES": "2000000",
    }
    with kg_server(env=env, log=log) as served:
        yield served.url, served.process.pid, log


def check(response: httpx.Response, case: Case) -> str | None:
    """What is wrong with ``response`` as the answer to ``case`` (None: it is the expected refusal)."""
    status = response.status_code
    if status >= 500:
        return f"5xx: {status} {response.text[:200]}"
    if "Traceback" in response.text or 'File "' in response.text:
        return "a stack trace reached the client"
    if status not in case.expect:
        return f"status {status}, expected {sorted(case.expect)}: {response.text[:200]}"
    if status == 200 and case.graphql_error:
        body = response.json()
        if not body.get("errors") or any(v is not None for v in (body.get("data") or {}).values()):
            return f"a wrong success: {response.text[:200]}"
    elif status != 200 and not response.text.strip():
        return "a refusal that does not say why"
    return None


def test_hostile_corpus(server: tuple[str, int, Path], listener: Listener) -> None:
    base, supervisor, log = server
    before = workers(supervisor)
    assert before, "kg serve has a worker"
    target = f"http://{HOST}:{listener.port}/sparql"
    cases = sparql_cases(target) + graphql_cases() + page_cases() + named_query_cases()
    raws = http_cases()
    names = [(c.family, c.name) for c in cases] + [("http", r.name) for r in raws]
    assert len(set(names)) == len(names), "every input is distinct"
    failures: list[str] = []
    outcomes: dict[str, dict[int, int]] = {}
    peak = 0
    with httpx.Client(base_url=base, timeout=DEADLINE + 5) as client:
        for case in cases:
            try:
                response = client.request(case.method, case.path, **case.kwargs)
            except httpx.TimeoutException:
                failures.append(f"{case.family} {case.name}: no answer within {DEADLINE + 5} s")
                continue
            except (httpx.TransportError, UnicodeError) as exc:
                failures.append(f"{case.family} {case.name}: the connection failed ({exc!r})")
                continue
            problem = check(response, case)
            if problem:
                failures.append(f"{case.family} {case.name}: {problem}")
            counts = outcomes.setdefault(case.family, {})
            counts[response.status_code] = counts.get(response.status_code, 0) + 1
            peak = max(peak, *(rss(pid) for pid in workers(supervisor) | {supervisor}))
    for raw in raws:
        status = send_raw(base, raw, timeout=DEADLINE + 5)
        if status not in raw.expect:
            failures.append(f"http {raw.name}: status {status}, expected {sorted(raw.expect)}")
        counts = outcomes.setdefault("http", {})
        counts[status] = counts.get(status, 0) + 1
        peak = max(peak, *(rss(pid) for pid in workers(supervisor) | {supervisor}))
    print(f"{len(names)} hostile inputs; statuses per family: {outcomes}; peak RSS {peak / 1e6:.0f} MB")
    if listener.hits:
        failures.append(f"{listener.hits} outbound connections reached the listener")
    if workers(supervisor) != before:
        failures.append("a worker crashed or was replaced during the corpus")
    crashes = [line for line in log.read_text(errors="replace").splitlines() if "unexpected error" in line]
    failures += [f"logged as a crash: {line[:300]}" for line in crashes]
    if peak >= MEMORY_CAP:
        failures.append(f"a server process reached {peak} bytes")
    assert len(names) >= 200
    assert not failures, "\n".join(failures)


def test_memory_stays_flat_over_distinct_requests(server: tuple[str, int, Path]) -> None:
    """Distinct requests fill the (small, for this server) caches and then push out old entries: a worker's memory
    stops growing once they are full."""
    base, supervisor, _ = server
    (worker,) = workers(supervisor)

    def burst(start: int, count: int) -> None:
        with httpx.Client(base_url=base, timeout=DEADLINE + 5) as client:
            for i in range(start, start + count):
                client.get("/sparql", params={"query": f"SELECT * WHERE {{ ?s ?p ?o }} LIMIT 20 OFFSET {i}"})
                client.post("/graphql", json={"query": f'{{ search(text: "lup{i}") {{ matched }} }}'})
                client.get(f"/id/lupus?n={i}", headers={"Accept": "text/turtle"})

    burst(0, 150)
    settled = rss(worker)
    burst(150, 150)
    grown = rss(worker) - settled
    assert grown < 20_000_000, f"the worker grew by {grown} bytes over 450 distinct requests"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store written by `kg build` (the command, in process)."""
    store = tmp_path_factory.mktemp("built") / "store"
    result = CliRunner().invoke(cli, ["build", "--store", str(store), "--no-reasoner"])
    assert result.exit_code == 0, result.output
    return store


def test_cli_refuses_hostile_input_with_exit_2(tmp_path: Path, built: Path) -> None:
    runner = CliRunner()
    failures = []
    for name, args, stdin, code in cli_cases(tmp_path):
        result = runner.invoke(cli, args, input=stdin, env={"KG_STORE_DIR": str(built)})
        if result.exit_code != code or (result.exception and not isinstance(result.exception, SystemExit)):
            failures.append(
                f"{name}: exit {result.exit_code}, expected {code}: {result.output[-300:]!r} {result.exception!r}"
            )
    assert (tmp_path / "precious" / "thesis.txt").read_text() == "do not delete"
    assert not failures, "\n".join(failures)


def test_huge_headers_never_grow_the_worker(server: tuple[str, int, Path]) -> None:
    """uvicorn's httptools protocol buffers a header until it ends (4 x 64 MB took a plain worker from 41 to 310 MB):
    here the head is refused with 431 once it passes KG_MAX_HEADER_BYTES, before it is buffered."""
    base, supervisor, _ = server
    (worker,) = workers(supervisor)
    port = int(base.rsplit(":", 1)[1])
    before = rss(worker)
    answers = []
    for _ in range(4):
        with socket.create_connection((HOST, port), timeout=DEADLINE) as sock:
            try:
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ")
                for _ in range(64):
                    sock.sendall(b"a" * 1_000_000)
            except OSError:
                pass  # refused and closed: the rest is never read
            try:
                answers.append(sock.recv(200).split(b" ", 2)[1])
            except (OSError, IndexError):
                answers.append(b"closed")
    grown = rss(worker) - before
    assert set(answers) <= {b"431", b"closed"} and b"431" in answers, answers
    assert grown < 30_000_000, f"the worker grew by {grown} bytes"


def test_idle_connections_are_closed_after_the_keep_alive_timeout(server: tuple[str, int, Path]) -> None:
    base, _, _ = server
    port = int(base.rsplit(":", 1)[1])
    with socket.create_connection((HOST, port), timeout=DEADLINE + 10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = sock.recv(4096)
        assert answer.startswith(b"HTTP/1.1 200"), answer[:100]
        started = time.monotonic()
        while sock.recv(4096):  # the rest of the answer, then the server's close
            pass
        assert time.monotonic() - started < DEADLINE + 5  # KG_KEEP_ALIVE_TIMEOUT=1 for this server


def test_a_slow_body_gets_408_at_its_deadline_and_the_server_serves_on(server: tuple[str, int, Path]) -> None:
    """A body that stops, or trickles a chunk every 0.3 s forever, holds its connection only KG_BODY_TIMEOUT (2 s for
    this server) after its headers: then 408, and the connection is closed. (Without the deadline both waited out
    the whole test's patience: the server never answered.)"""
    base, _, _ = server
    port = int(base.rsplit(":", 1)[1])
    head = b"POST /sparql HTTP/1.1\r\nHost: x\r\ncontent-type: application/sparql-query\r\n"
    for name, framing, drip in (
        ("stopped", b"content-length: 1000\r\n\r\nASK {", b""),
        ("trickled", b"transfer-encoding: chunked\r\n\r\n", b"1\r\n \r\n"),
    ):
        with socket.create_connection((HOST, port), timeout=1) as sock:
            started = time.monotonic()
            sock.sendall(head + framing)
            answer = b""
            while time.monotonic() - started < 15 and not answer:
                with contextlib.suppress(TimeoutError):
                    answer = sock.recv(4096)
                if drip and not answer:
                    with contextlib.suppress(OSError):
                        sock.sendall(drip)
                    time.sleep(0.3)
            waited = time.monotonic() - started
        assert answer.startswith(b"HTTP/1.1 408"), (name, answer[:200])
        assert b"request body was not received within 2 s" in answer, (name, answer)
        assert 1.5 < waited < 6, (name, waited)
    with httpx.Client(base_url=base, timeout=DEADLINE + 10) as client:  # a whole body at once is answered
        response = client.post("/sparql", content="ASK {}", headers={"content-type": "application/sparql-query"})
    assert response.status_code == 200 and response.json()["boolean"] is True


def test_a_body_left_unread_after_its_answer_does_not_hold_the_connection(server: tuple[str, int, Path]) -> None:
    """A route that answers without reading the body (404 here) leaves the rest of it to come; a client trickling a
    byte every 0.3 s would keep the connection open for ever, since each byte restarts the keep-alive wait. Once the
    body's deadline (2 s) has passed with the answer sent, the server closes the connection."""
    base, _, _ = server
    port = int(base.rsplit(":", 1)[1])
    with socket.create_connection((HOST, port), timeout=0.3) as sock:
        started = time.monotonic()
        sock.sendall(b"POST /no-such-route HTTP/1.1\r\nHost: x\r\ncontent-length: 1000\r\n\r\n ")
        received, closed = b"", False
        while time.monotonic() - started < 12 and not closed:
            try:
                chunk = sock.recv(4096)
            except TimeoutError:
                chunk = None
            if chunk == b"":
                closed = True
            elif chunk:
                received += chunk
            try:
                sock.sendall(b" ")
            except OSError:
                closed = True
        waited = time.monotonic() - started
    assert received.startswith(b"HTTP/1.1 404"), received[:200]
    assert closed, f"the connection was still open after {waited:.1f} s of trickled body"
    assert 1.5 < waited < 6, waited


def exchange(port: int, sock: socket.socket | None = None) -> bytes:
    """One GET /healthz on ``sock`` (a new connection if None) and everything the server sends until it closes the
    connection or stops sending for a second."""
    own = sock is None
    sock = sock or socket.create_connection((HOST, port), timeout=10)
    try:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = b""
        sock.settimeout(1)
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except TimeoutError:
            pass
        return answer
    finally:
        if own:
            sock.close()


def test_connections_past_the_limit_get_a_clear_503_and_the_server_serves_on() -> None:
    """KG_MAX_CONNECTIONS=4 (uvicorn's limit_concurrency): uvicorn counts every connection the worker holds, idle
    keep-alive ones and the asking one included, so with 4 idle connections open a request on a fifth, and on an
    idle one too, is refused: 503, a problem document that names the setting, Retry-After, and the connection closed
    (which frees its place). Once the idle connections close, the server answers again."""
    env = {"KG_MAX_CONNECTIONS": "4", "KG_KEEP_ALIVE_TIMEOUT": "60", "KG_HEADER_TIMEOUT": "60"}
    with kg_server(env=env) as s:
        port = int(s.url.rsplit(":", 1)[1])
        idle = [socket.create_connection((HOST, port), timeout=10) for _ in range(4)]
        try:
            time.sleep(0.5)  # the worker has accepted them
            for answer in (exchange(port), exchange(port, idle[0])):
                head, _, body = answer.partition(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
                assert lines[0].startswith("HTTP/1.1 503"), answer[:200]
                assert headers["retry-after"] == "1" and headers["connection"] == "close"
                assert headers["content-type"] == "application/problem+json"
                assert b"KG_MAX_CONNECTIONS" in body
        finally:
            for sock in idle:
                sock.close()
        answers = []
        for _ in range(50):  # the worker notices the closed connections
            answers.append(exchange(port))
            if answers[-1].startswith(b"HTTP/1.1 200"):
                break
            time.sleep(0.1)
        assert answers[-1].startswith(b"HTTP/1.1 200"), answers[-1][:200]
        assert workers(s.process.pid)  # still serving, with its workers
