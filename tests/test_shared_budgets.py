"""Client budgets under `kg serve --workers 2`: one budget per client whichever worker its connections land on
(kg.execution.ledger), against real servers on 127.0.0.1. Which worker holds a connection is read from the kernel
(/proc/net/tcp and the workers' file descriptors), not from the server."""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import signal
import sqlite3
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from servers import kg_server, workers

from kg.errors import BackendUnavailable
from kg.execution.budget import Budgets, TooManyRequests
from kg.execution.ledger import SharedBudgets

RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?x . ?b ?q ?y . ?c ?r ?z }"
"""A cross product of the whole graph three times: it runs until its deadline."""
LUPUS_LABELS = "SELECT ?label WHERE { kgr:lupus skos:altLabel ?label }"
LUPUS_ALT_LABELS = {"SLE", "systemic lupus erythematosus"}
"""From ontology/data/entities/disease.ttl: the altLabels of kgr:lupus."""
IDLE = {"KG_KEEP_ALIVE_TIMEOUT": "120", "KG_HEADER_TIMEOUT": "120"}
"""Connections opened ahead of their first request stay open."""


def server_socket_inode(port: int, client: tuple[str, int]) -> int | None:
    """The inode of the server's end of the TCP connection from ``client`` to ``port`` on 127.0.0.1."""
    host, client_port = client

    def written(address: str, port: int) -> str:  # as /proc/net/tcp writes it: the IPv4 bytes reversed, in hex
        return "".join(f"{int(b):02X}" for b in reversed(address.split("."))) + f":{port:04X}"

    wanted_local, wanted_remote = written("127.0.0.1", port), written(host, client_port)
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == wanted_local and fields[2] == wanted_remote:
            return int(fields[9])
    return None


def holder(inode: int, pids: set[int]) -> int | None:
    """Which of ``pids`` holds the socket ``inode`` open."""
    target = f"socket:[{inode}]"
    for pid in pids:
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                try:
                    if os.readlink(f"/proc/{pid}/fd/{fd}") == target:
                        return pid
                except OSError:
                    continue
        except OSError:
            continue
    return None


@contextmanager
def connections_on_each_worker(
    url: str, pids: set[int], source: str = "127.0.0.1"
) -> Iterator[dict[int, http.client.HTTPConnection]]:
    """One idle keep-alive connection (from ``source``) held by each worker in ``pids``: connections are opened, at
    most 60, until every worker has accepted one; the others are closed."""
    port = urllib.parse.urlsplit(url).port
    assert port is not None
    found: dict[int, http.client.HTTPConnection] = {}
    with ExitStack() as stack:
        for _ in range(60):
            if set(found) == pids:
                break
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60, source_address=(source, 0))
            connection.connect()
            stack.callback(connection.close)
            inode = server_socket_inode(port, connection.sock.getsockname())
            pid = None
            deadline = time.monotonic() + 5
            while inode is not None and pid is None and time.monotonic() < deadline:  # until a worker accepts it
                pid = holder(inode, pids)
                time.sleep(0.01)
            if pid is not None and pid not in found:
                found[pid] = connection
        assert set(found) == pids, f"60 connections landed on workers {set(found)} only, of {pids}"
        yield found


def sparql(connection: http.client.HTTPConnection, query: str) -> tuple[int, dict[str, str], bytes]:
    """POST ``query`` to /sparql on ``connection``: status, headers (lower-cased names) and body."""
    body = urllib.parse.urlencode({"query": query})
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/sparql-results+json"}
    connection.request("POST", "/sparql", body=body, headers=headers)
    response = connection.getresponse()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()


def labels(answer: tuple[int, dict[str, str], bytes]) -> set[str]:
    status, _, body = answer
    assert status == 200, body
    return {b["label"]["value"] for b in json.loads(body)["results"]["bindings"]}


def two_workers(pid: int) -> set[int]:
    deadline = time.monotonic() + 60
    while len(found := workers(pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(found) == 2
    return found


def test_a_client_has_one_budget_across_the_workers() -> None:
    """A budget of 2.5 s per minute and runaways that each use at least their 1 s deadline: the client's fourth
    runaway finds 3 s spent of 2.5 s (and about 0.15 s refilled) and is refused, whichever worker it is sent to. Each
    worker keeping a budget of its own would admit three on each, six in all."""
    env = {**IDLE, "KG_QUERY_TIMEOUT": "1", "KG_CLIENT_BUDGET": "2.5", "KG_CLIENT_QUERIES": "1"}
    with kg_server("--workers", "2", env=env) as s, connections_on_each_worker(s.url, two_workers(s.process.pid)) as on:
        first, second = on.values()
        admitted: list[int] = []
        refusal = None
        for n in range(8):
            connection = (first, second)[n % 2]
            status, headers, body = sparql(connection, f"{RUNAWAY} LIMIT {n + 1}")
            if status == 429:
                refusal = (headers, body)
                break
            assert status == 503, body  # stopped at its deadline
            admitted.append(n % 2)
        assert refusal is not None, f"{len(admitted)} runaways admitted and none refused"
        assert len(admitted) <= 3 and set(admitted) == {0, 1}, admitted  # some ran on each worker
        assert b"KG_CLIENT_BUDGET" in refusal[1] and int(refusal[0]["retry-after"]) >= 1
        for n, connection in enumerate((first, second)):  # spent on both workers
            status, _, body = sparql(connection, f"{LUPUS_LABELS} LIMIT {20 + n}")
            assert status == 429 and b"KG_CLIENT_BUDGET" in body
        with connections_on_each_worker(s.url, set(on), source="127.0.0.2") as other:
            for n, connection in enumerate(other.values()):  # another client has its whole budget on both
                assert labels(sparql(connection, f"{LUPUS_LABELS} LIMIT {30 + n}")) == LUPUS_ALT_LABELS


def test_a_worker_killed_with_queries_running_does_not_keep_them_charged() -> None:
    """A client may run one query at once (KG_CLIENT_QUERIES=1). Its runaway runs on one worker, which is killed: the
    other worker finds the query's row with no living worker behind it, charges it and lets the client in, instead of
    counting it as running for ever (which would refuse the client every query after waiting its deadline)."""
    env = {**IDLE, "KG_QUERY_TIMEOUT": "5", "KG_CLIENT_QUERIES": "1"}
    with kg_server("--workers", "2", env=env) as s:
        pids = two_workers(s.process.pid)
        with connections_on_each_worker(s.url, pids) as on:
            (doomed, doomed_connection), (survivor, connection) = on.items()
            body = urllib.parse.urlencode({"query": RUNAWAY})
            doomed_connection.request(
                "POST", "/sparql", body=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
            )
            time.sleep(1)  # the runaway is admitted and running
            os.kill(doomed, signal.SIGKILL)
            for n in range(3):
                assert labels(sparql(connection, f"{LUPUS_LABELS} LIMIT {40 + n}")) == LUPUS_ALT_LABELS
            assert survivor in workers(s.process.pid)


def test_shared_and_in_memory_budgets_keep_the_same_rules(tmp_path: Path) -> None:
    """The refill, the number at once and forgetting clients, step by step on one clock, in memory and shared: the
    figures come from the rules (a bucket of 6 s refilled at 6 s per minute), not from either table."""
    now = [0.0]
    for budgets in (
        Budgets(6.0, 2, clock=lambda: now[0], most=3),
        SharedBudgets(tmp_path / "budgets.sqlite3", 6.0, 2, 10.0, clock=lambda: now[0], most=3),
    ):
        now[0] = 0.0
        first = budgets.admit("a")
        second = budgets.admit("a")
        with pytest.raises(TooManyRequests, match="KG_CLIENT_QUERIES"):
            budgets.admit("a")  # a third at once
        now[0] = 4.0
        budgets.charge("a", first)
        with pytest.raises(TooManyRequests, match="KG_CLIENT_BUDGET") as refused:
            budgets.admit("a")  # 6 s - 4 s charged - 4 s running = -2 s
        assert refused.value.retry_after == 20  # 2 s missing, refilled at 0.1 s per second
        budgets.charge("a", second)  # 6 s - 8 s: 2 s in debt, running nothing
        for name in ("b", "c", "d"):  # a fourth client: "b" and "c" (full, idle) are forgotten, "a" (in debt) is not
            budgets.charge(name, budgets.admit(name))
        with pytest.raises(TooManyRequests, match="KG_CLIENT_BUDGET"):
            budgets.admit("a")  # still in debt: remembered
        now[0] = 24.0  # 2 s refilled: the bucket is empty, not yet above zero
        with pytest.raises(TooManyRequests, match="KG_CLIENT_BUDGET"):
            budgets.admit("a")
        now[0] = 25.0
        budgets.admit("a")
        budgets.close()


def test_a_locked_table_never_stalls_the_event_loop_and_loses_no_charge(tmp_path: Path) -> None:
    """Another worker holds the table's write lock: an admission waits without blocking the event loop (a ticker
    keeps running) and is answered 503 at the end; a charge made meanwhile is written once the lock is free, so the
    query does not stay running."""
    path = tmp_path / "budgets.sqlite3"
    budgets = SharedBudgets(path, 60.0, 2, 10.0)
    other = sqlite3.connect(path, isolation_level=None)

    async def main() -> int:
        ticket = await budgets.acquire("a", 1)
        other.execute("BEGIN IMMEDIATE")  # the other worker's transaction
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        ticking = asyncio.create_task(ticker())
        budgets.charge("a", ticket)  # cannot be written yet
        with pytest.raises(BackendUnavailable, match="budgets is busy"):
            await budgets.acquire("a", 1)
        seen = ticks
        other.execute("COMMIT")
        for _ in range(200):  # the charge's retry writes it
            if other.execute("SELECT COUNT(*) FROM running").fetchone() == (0,):
                break
            await asyncio.sleep(0.01)
        ticking.cancel()
        return seen

    assert asyncio.run(main()) > 5  # the loop kept serving while the admission waited
    assert other.execute("SELECT COUNT(*) FROM running").fetchone() == (0,)
    (balance,) = other.execute("SELECT balance FROM client WHERE name = 'a'").fetchone()
    assert balance < 60.0  # the query's time was taken from the bucket
    budgets.close()
    other.close()
