"""What admitting a client query costs: one admission and its charge (kg.execution.budget), in memory and in the
table the workers of `kg serve` share (kg.execution.ledger), side by side in one run.

    python bench/budgets.py                  # 20,000 admissions of each kind
    python bench/budgets.py --count 5000

Figures, in µs per query (admission + charge), p50 / p99 / max:
1. in memory, one process (tests, a server without a runtime folder);
2. the shared table, one process;
3. the shared table, two processes admitting at once (two workers; each waits for the other's lock), their queries
   0.5 ms apart, then back to back (a stress no worker sees: there, one can find the table locked past 0.5 s);
4. with MAX_CLIENTS clients remembered, all in debt (none can be forgotten for a full bucket: the worst case), a new
   client at each query, in memory and shared.
Every loop is bounded by --count; the table lives in a temporary folder.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kg.errors import BackendUnavailable  # noqa: E402
from kg.execution.budget import MAX_CLIENTS, Admission, Budgets, _Client  # noqa: E402
from kg.execution.ledger import LEDGER, SharedBudgets, connect  # noqa: E402


def timings(budgets: Admission, count: int, clients: int, prefix: str = "c", gap: float = 0.0) -> list[float]:
    """µs of each of ``count`` admissions and charges as a query goes through them (on an event loop: a worker
    that finds the table locked by another tries again without blocking), over ``clients`` clients in turn, ``gap``
    seconds apart (the query itself). A query refused 503 (the table stayed locked) counts as -1."""

    async def run() -> list[float]:
        spent: list[float] = []
        for n in range(count):
            name = f"{prefix}{n % clients}"
            start = time.perf_counter()
            try:
                ticket = await budgets.acquire(name, 1.0)
            except BackendUnavailable:
                spent.append(-1)
                continue
            budgets.charge(name, ticket)
            spent.append((time.perf_counter() - start) * 1e6)
            if gap:
                await asyncio.sleep(gap)
        return spent

    return asyncio.run(run())


def figures(timed: list[float]) -> dict[str, float]:
    ordered = sorted(t for t in timed if t >= 0)
    return {
        "queries": len(timed),
        "refused_503": len(timed) - len(ordered),
        "p50_us": round(statistics.median(ordered), 1),
        "p99_us": round(ordered[int(len(ordered) * 0.99)], 1),
        "max_us": round(ordered[-1], 1),
    }


def shared(folder: Path) -> SharedBudgets:
    return SharedBudgets(folder / LEDGER, 1e9, 4, 10.0)


def contender(folder: str, count: int, prefix: str, gap: float, results: multiprocessing.Queue[list[float]]) -> None:
    results.put(timings(shared(Path(folder)), count, 100, prefix, gap))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=20_000)
    count = parser.parse_args().count
    out: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        connect(folder / LEDGER).close()
        table = shared(folder)
        memory = Budgets(1e9, 4)
        for budgets in (memory, table):  # warm up
            timings(budgets, 1000, 100)
        mem: list[float] = []
        one: list[float] = []
        for _ in range(10):  # interleaved, so both see the same machine
            mem += timings(memory, count // 10, 100)
            one += timings(table, count // 10, 100)
        out["in memory"] = figures(mem)
        out["shared, 1 process"] = figures(one)
        context = multiprocessing.get_context("spawn")
        results: multiprocessing.Queue[list[float]] = context.Queue()
        for gap, kind in ((0.0005, "0.5 ms apart (a query's sandbox hop)"), (0.0, "back to back (stress)")):
            processes = [
                context.Process(target=contender, args=(tmp, count // 4, prefix, gap, results)) for prefix in "ab"
            ]
            for process in processes:
                process.start()
            both = results.get(timeout=600) + results.get(timeout=600)
            for process in processes:
                process.join(timeout=60)
            out[f"shared, 2 processes at once, queries {kind}"] = figures(both)
        table.db.executemany(
            "INSERT INTO client VALUES (?, -1e12, ?)", ((f"old{n}", time.monotonic()) for n in range(MAX_CLIENTS))
        )
        memory = Budgets(1e9, 4)
        for n in range(MAX_CLIENTS):
            memory.clients[f"old{n}"] = _Client(-1e12, time.monotonic())
        new: dict[str, list[float]] = {"in memory": [], "shared": []}
        for n in range(10):
            new["in memory"] += timings(memory, min(count, 5000) // 10, 10**9, f"new{n}-")
            new["shared"] += timings(table, min(count, 5000) // 10, 10**9, f"new{n}-")
        for kind, spent in new.items():
            out[f"{kind}, {MAX_CLIENTS} clients in debt, each query a new one"] = figures(spent)
        table.close()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
