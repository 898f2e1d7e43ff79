"""Availability under attack, and what the sandbox costs, against real `kg serve` processes on 127.0.0.1.

    python bench/hostile.py                   # both figures, on the default `kg serve` and with --workers 2
    python bench/hostile.py --seconds 10      # shorter attack

1. Availability: one runaway query per second (from 127.0.0.2, a client of its own) for --seconds, while a light,
   distinct query is sent every 100 ms (from 127.0.0.1): the share of light queries answered 200 within 1 s.
2. The sandbox's cost: distinct /sparql point lookups, one at a time, against `kg serve` with the sandbox and with
   KG_SANDBOX=false, interleaved in one run; p50 and p99 latency of each and their ratio; then the throughput of
   8 concurrent clients (each from its own loopback address) on each.

Every loop is bounded in count and time; only 127.0.0.1 and 127.0.0.2 (loopback) are used.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?x . ?b ?q ?y . ?c ?r ?z }"
ENTITIES = ["lupus", "multiple-sclerosis", "type-1-diabetes", "rheumatoid-arthritis", "crohns-disease"]
ATTACKER = "127.0.0.2"


def light_query(n: int) -> str:
    """A point lookup whose text differs every time (no cache can answer it)."""
    return f"SELECT ?p ?o WHERE {{ kgr:{ENTITIES[n % len(ENTITIES)]} ?p ?o }} LIMIT {1000 + n}"


@dataclass
class Availability:
    light_sent: int
    light_ok_within_1s: int
    percent: float
    runaways_sent: int
    runaway_statuses: dict[str, int]
    light_p50_ms: float
    light_max_ms: float


async def attack(url: str, seconds: float) -> Availability:
    light: list[tuple[int, float]] = []
    runaway: list[int] = []

    async def one_light(client: httpx.AsyncClient, n: int) -> None:
        started = time.monotonic()
        try:
            response = await client.get(f"{url}/sparql", params={"query": light_query(n)}, timeout=5)
            status = response.status_code
        except httpx.HTTPError:
            status = 0
        light.append((status, time.monotonic() - started))

    async def one_runaway(client: httpx.AsyncClient) -> None:
        try:
            response = await client.post(f"{url}/sparql", data={"query": RUNAWAY}, timeout=60)
            runaway.append(response.status_code)
        except httpx.HTTPError:
            runaway.append(0)

    attacker_transport = httpx.AsyncHTTPTransport(local_address=ATTACKER)
    limits = httpx.Limits(max_connections=100)
    async with (
        httpx.AsyncClient(limits=limits) as client,
        httpx.AsyncClient(transport=attacker_transport, limits=limits) as attacker,
    ):
        tasks: list[asyncio.Task[None]] = []
        start = time.monotonic()
        ticks = int(seconds * 10)
        for tick in range(ticks):
            await asyncio.sleep(max(0.0, start + tick * 0.1 - time.monotonic()))
            if tick % 10 == 0:
                tasks.append(asyncio.create_task(one_runaway(attacker)))
            tasks.append(asyncio.create_task(one_light(client, tick)))
        await asyncio.wait_for(asyncio.gather(*tasks), 90)
    ok = sum(1 for status, took in light if status == 200 and took <= 1.0)
    times = sorted(took for _, took in light)
    statuses: dict[str, int] = {}
    for status in runaway:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    return Availability(
        light_sent=len(light),
        light_ok_within_1s=ok,
        percent=100.0 * ok / max(1, len(light)),
        runaways_sent=len(runaway),
        runaway_statuses=statuses,
        light_p50_ms=1000 * statistics.median(times),
        light_max_ms=1000 * times[-1],
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def kg_serve(*args: str, env: dict[str, str] | None = None) -> Iterator[str]:
    port = free_port()
    environment = {**os.environ, "KG_ACCESS_LOG": "false", **(env or {})}
    process = subprocess.Popen(
        [sys.executable, "-m", "kg", "serve", "--host", "127.0.0.1", "--port", str(port), *args],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"kg serve exited with {process.returncode}")
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def throughput(url: str, clients: int, requests: int) -> float:
    """Distinct point lookups per second from ``clients`` concurrent clients, each from its own loopback address
    (127.0.0.11, .12, ...: distinct clients for the per-client limits), ``requests`` in all."""
    counter = iter(range(requests))

    async def one_client(n: int) -> None:
        transport = httpx.AsyncHTTPTransport(local_address=f"127.0.0.{11 + n}")
        async with httpx.AsyncClient(transport=transport, timeout=30) as client:
            for i in counter:
                response = await client.get(f"{url}/sparql", params={"query": light_query(100_000 + i)})
                if response.status_code != 200:
                    raise RuntimeError(f"{response.status_code} {response.text[:200]}")

    started = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(one_client(n) for n in range(clients))), 300)
    return requests / (time.perf_counter() - started)


def sandbox_cost(requests: int) -> dict[str, float]:
    """p50/p99 (ms) of distinct point lookups one at a time, and their throughput from 8 concurrent clients, with the
    sandbox and without, in one run (latencies interleaved request by request)."""
    unsandboxed = {"KG_SANDBOX": "false", "KG_ACCEPT_NETWORK_RISK": "true"}
    with kg_serve() as with_url, kg_serve(env=unsandboxed) as without_url:
        times: dict[str, list[float]] = {"sandbox": [], "in_process": []}
        with httpx.Client() as client:
            for n in range(requests + 20):
                for name, url in (("sandbox", with_url), ("in_process", without_url)):
                    started = time.perf_counter()
                    response = client.get(f"{url}/sparql", params={"query": light_query(n)})
                    took = time.perf_counter() - started
                    if response.status_code != 200:
                        raise RuntimeError(f"{name}: {response.status_code} {response.text[:200]}")
                    if n >= 20:  # the first ones warm up connections and caches
                        times[name].append(took)
        rates = {
            name: asyncio.run(throughput(url, 8, requests))
            for name, url in (("sandbox", with_url), ("in_process", without_url))
        }
    figures = {f"{name}_per_second": rate for name, rate in rates.items()}
    for name, values in times.items():
        figures[f"{name}_p50_ms"] = 1000 * percentile(values, 0.5)
        figures[f"{name}_p99_ms"] = 1000 * percentile(values, 0.99)
    figures["ratio_p50"] = figures["sandbox_p50_ms"] / figures["in_process_p50_ms"]
    figures["ratio_p99"] = figures["sandbox_p99_ms"] / figures["in_process_p99_ms"]
    figures["ratio_throughput"] = figures["sandbox_per_second"] / figures["in_process_per_second"]
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each attack (at most 120)")
    parser.add_argument("--requests", type=int, default=500, help="point lookups per server for the cost figure")
    args = parser.parse_args()
    seconds = min(args.seconds, 120.0)
    results: dict[str, object] = {}
    for label, extra in (("default", ()), ("workers_2", ("--workers", "2"))):
        with kg_serve(*extra) as url:
            results[f"availability_{label}"] = asdict(asyncio.run(attack(url, seconds)))
        print(label, json.dumps(results[f"availability_{label}"]), flush=True)
    results["sandbox_cost"] = sandbox_cost(min(args.requests, 5000))
    print("sandbox cost", json.dumps(results["sandbox_cost"]), flush=True)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "hostile.json").write_text(json.dumps(results, indent=2) + "\n")
    print("| configuration | light queries | 200 within 1 s | % | runaway answers |")
    print("|---|---|---|---|---|")
    for label in ("default", "workers_2"):
        a = results[f"availability_{label}"]
        assert isinstance(a, dict)
        row = [label, a["light_sent"], a["light_ok_within_1s"], f"{a['percent']:.1f}", a["runaway_statuses"]]
        print("| " + " | ".join(map(str, row)) + " |")
    cost = results["sandbox_cost"]
    assert isinstance(cost, dict)
    print("\n| /sparql point lookup | p50 ms | p99 ms |\n|---|---|---|")
    print(f"| sandbox | {cost['sandbox_p50_ms']:.2f} | {cost['sandbox_p99_ms']:.2f} |")
    print(f"| in process | {cost['in_process_p50_ms']:.2f} | {cost['in_process_p99_ms']:.2f} |")
    print(f"| ratio | {cost['ratio_p50']:.2f} | {cost['ratio_p99']:.2f} |")
    print("\n| 8 clients, distinct point lookups | per second |\n|---|---|")
    print(f"| sandbox | {cost['sandbox_per_second']:.0f} |")
    print(f"| in process | {cost['in_process_per_second']:.0f} |")
    print(f"| ratio | {cost['ratio_throughput']:.2f} |")


if __name__ == "__main__":
    main()
