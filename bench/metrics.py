"""What the metrics cost a request: the counting one request does (its request counter and latency histogram, the
answer-cache lookup counter), prometheus_client's multiprocess mode (the previous design: a memory-mapped file per
process, written at every increment) against kg.metrics (plain numbers in memory, a snapshot written once a second
while this runs), side by side in alternating rounds, each in a fresh process, in CPU time. Also the time of one scrape.

    python bench/metrics.py                   # 7 rounds of 200,000 requests each way
    python bench/metrics.py --rounds 3 --requests 100000

Results: bench/out/metrics.json and a Markdown table (median of the rounds, and the fastest round).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
ROUTES = ("/sparql", "/graphql", "/id/{name}", "/search")


def old(requests: int) -> tuple[float, float]:
    """The previous kg.metrics: prometheus_client in multiprocess mode (PROMETHEUS_MULTIPROC_DIR is set)."""
    from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
    from prometheus_client import multiprocess as prometheus_multiprocess

    counter = Counter("kg_http_requests_total", "HTTP requests answered", ["route", "method", "status"])
    latency = Histogram("kg_http_request_seconds", "Time to answer an HTTP request", ["route"], buckets=BUCKETS)
    cache = Counter("kg_cache_lookups_total", "Answer cache lookups", ["result"])
    started = time.process_time()  # CPU time: on a shared machine, wall time counts other processes' turns
    for n in range(requests):
        route = ROUTES[n & 3]
        cache.labels("hit").inc()
        counter.labels(route, "GET", "200").inc()
        latency.labels(route).observe(0.0012)
    per_request = (time.process_time() - started) / requests
    started = time.perf_counter()
    registry = CollectorRegistry()
    prometheus_multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    generate_latest(registry)
    return per_request, time.perf_counter() - started


def new(requests: int, runtime: Path) -> tuple[float, float]:
    from kg.metrics import CACHE, LATENCY, REQUESTS, metrics_text, share

    snapshots = share(runtime)
    started = time.process_time()  # CPU time: on a shared machine, wall time counts other processes' turns
    for n in range(requests):
        route = ROUTES[n & 3]
        CACHE.labels("hit").inc()
        REQUESTS.labels(route, "GET", "200").inc()
        LATENCY.labels(route).observe(0.0012)
    per_request = (time.process_time() - started) / requests
    snapshots.write()
    started = time.perf_counter()
    metrics_text()
    return per_request, time.perf_counter() - started


def round_of(mode: str, requests: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory(prefix="kg-bench-metrics-") as folder:
        env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": folder} if mode == "old" else dict(os.environ)
        if mode == "new":  # a second process's snapshot, as under `kg serve --workers 2`
            subprocess.run(
                [sys.executable, __file__, "--one", "new", "--requests", "1000", "--runtime", folder],
                env=env,
                check=True,
                capture_output=True,
                timeout=120,
            )
        out = subprocess.run(
            [sys.executable, __file__, "--one", mode, "--requests", str(requests), "--runtime", folder],
            env=env,
            check=True,
            capture_output=True,
            text=True,
            timeout=300,
        ).stdout
        per_request, scrape = json.loads(out)
        return float(per_request), float(scrape)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--requests", type=int, default=200_000)
    parser.add_argument("--one", choices=["old", "new"], help=argparse.SUPPRESS)
    parser.add_argument("--runtime", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one == "old":
        print(json.dumps(old(args.requests)))
        return
    if args.one == "new":
        print(json.dumps(new(args.requests, args.runtime)))
        return
    seen: dict[str, list[tuple[float, float]]] = {"old": [], "new": []}
    for _ in range(args.rounds):
        for mode in ("old", "new"):
            seen[mode].append(round_of(mode, args.requests))
    rows = {
        mode: {
            "us_per_request_median": round(statistics.median(r[0] for r in runs) * 1e6, 2),
            "us_per_request_best": round(min(r[0] for r in runs) * 1e6, 2),
            "scrape_ms_median": round(statistics.median(r[1] for r in runs) * 1e3, 2),
        }
        for mode, runs in seen.items()
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "metrics.json").write_text(json.dumps(rows, indent=2))
    print("| metrics | µs a request (median) | µs a request (best round) | one scrape, ms (median) |")
    print("|---|---|---|---|")
    names = {"old": "prometheus_client multiprocess (before)", "new": "kg.metrics in memory + snapshots (now)"}
    for mode, row in rows.items():
        print(
            f"| {names[mode]} | {row['us_per_request_median']} | {row['us_per_request_best']} | "
            f"{row['scrape_ms_median']} |"
        )


if __name__ == "__main__":
    main()
