"""Side-by-side benchmark on 127.0.0.1: our `/sparql` (kg serve --store, N workers) and `oxigraph serve-read-only`
over the same store, with wrk (16 connections), for a point lookup, a 2-hop join, a label search and an aggregate,
each as distinct queries (every request a new query text) and as one repeated query.

    python bench/run.py                       # real graph and the synthetic 1M-triple graph
    python bench/run.py --graphs real --seconds 5
    python bench/run.py --baseline /tmp/base    # also the `kg serve` of another checkout (git worktree add /tmp/base
                                                # main), run side by side: a before/after in one run

Needs wrk (Debian package) and the `oxigraph` server (PyPI). Every load loop is bounded by --seconds; only
127.0.0.1 is targeted. The server runs with metrics on and the access log off (KG_ACCESS_LOG=false), as the
access log alone costs about a third of the cached throughput. Results: bench/out/results.json and a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx
import pyoxigraph as ox

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
HOST = "127.0.0.1"
PREFIXES = """PREFIX scad: <https://w3id.org/scad/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
"""
QUERIES = {
    "point": "SELECT ?p ?o WHERE {{ <{entity}> ?p ?o }}",
    "two_hop": PREFIXES
    + "SELECT ?claim ?object ?label WHERE {{ ?claim scad:subject <{entity}> ; scad:object ?object . "
    "?object skos:prefLabel ?label }}",
    "label_search": PREFIXES
    + "SELECT ?e ?label WHERE {{ ?e skos:prefLabel ?label "
    + 'FILTER (STRSTARTS(LCASE(STR(?label)), "{prefix}")) }} LIMIT 10',
    "aggregate": PREFIXES
    + "SELECT ?certainty (COUNT(?claim) AS ?n) WHERE {{ ?claim scad:statedIn <{source}> ; scad:certainty ?certainty }} "
    "GROUP BY ?certainty",
}


@dataclass
class Run:
    graph: str
    server: str
    query: str
    mode: str
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int


@dataclass
class GraphResult:
    graph: str
    quads: int
    kg_ready_s: float
    kg_peak_pss_mb: float = 0.0
    kg_peak_rss_mb: float = 0.0
    oxigraph_peak_rss_mb: float = 0.0
    runs: list[Run] = field(default_factory=list)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def wait_up(url: str, seconds: float = 60) -> float:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.02)
    raise TimeoutError(url)


def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (workers, and the workers' sandboxes)."""
    pids = [pid]
    for p in pids:  # grows while it is walked, so grandchildren are reached too
        path = Path(f"/proc/{p}/task/{p}/children")
        if path.exists():
            pids += [int(c) for c in path.read_text().split()]
    return pids


def memory_mb(pid: int) -> tuple[float, float]:
    """(PSS, RSS) of a process and its children in MB; PSS counts pages shared between workers once."""
    pss = rss = 0
    for p in tree(pid):
        try:
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    pss += int(line.split()[1])
                elif line.startswith("Rss:"):
                    rss += int(line.split()[1])
        except OSError:
            continue
    return pss / 1024, rss / 1024


class MemoryWatch(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak_pss, self.peak_rss, self.stop = pid, 0.0, 0.0, threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.25):
            pss, rss = memory_mb(self.pid)
            self.peak_pss, self.peak_rss = max(self.peak_pss, pss), max(self.peak_rss, rss)


def samples(store_dir: Path) -> dict[str, list[str]]:
    store = ox.Store.read_only(str(store_dir / "data"))

    def values(query: str) -> list[str]:
        return [str(r[0].value) for r in store.query(query, use_default_graph_as_union=True)]  # type: ignore[union-attr]

    subjects = values(PREFIXES + "SELECT DISTINCT ?s WHERE { ?c scad:subject ?s } LIMIT 500")
    sources = values(PREFIXES + "SELECT DISTINCT ?s WHERE { ?s a scad:Source } LIMIT 200")
    labels = values(PREFIXES + "SELECT ?l WHERE { ?e skos:prefLabel ?l } LIMIT 300")
    prefixes = sorted({label.lower()[:4] for label in labels if len(label) >= 4})
    return {"entity": subjects, "source": sources, "prefix": prefixes}


def lua_script(path: Path, endpoint: str, texts: list[str], distinct: bool) -> None:
    """A wrk script that sends the queries at random; with ``distinct``, every request gets a new comment, so each
    query text is new (no cache can answer it)."""
    paths = [endpoint + "?query=" + urllib.parse.quote(t) for t in texts]
    items = ",\n".join(json.dumps(p) for p in paths)
    suffix = 'path = path .. "%0A%23" .. id .. "-" .. counter' if distinct else ""
    path.write_text(
        f"""local paths = {{
{items}
}}
local counter = 0
local id = 0
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
function init(args)
  math.randomseed(id * 7919)
end
request = function()
  counter = counter + 1
  local path = paths[math.random(#paths)]
  {suffix}
  return wrk.format("GET", path, {{["Accept"] = "application/sparql-results+json"}})
end
"""
    )


def parse_duration_ms(text: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s|m)", text)
    if not m:
        return float("nan")
    value, unit = float(m.group(1)), m.group(2)
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(base: str, script: Path, seconds: int, connections: int) -> tuple[float, float, float, int]:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "--latency", "-s", str(script), base],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = parse_duration_ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = parse_duration_ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    errors = sum(int(x) for x in re.findall(r"Non-2xx or 3xx responses:\s+(\d+)", out))
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if socket_errors:
        errors += sum(int(x) for x in socket_errors.groups())
    return rps, p50, p99, errors


def start(cmd: list[str], env: dict[str, str] | None = None, cwd: Path = ROOT) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        cmd, cwd=cwd, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def serve_command(store_dir: Path, port: int, workers: int) -> list[str]:
    """`kg serve --store` on 127.0.0.1 (its default host) with this Python."""
    return [
        sys.executable,
        "-m",
        "kg",
        "serve",
        "--store",
        str(store_dir),
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]


def start_kg(store_dir: Path, port: int, workers: int, cwd: Path = ROOT) -> subprocess.Popen[bytes]:
    """`kg serve --store` of the checkout at ``cwd``, once it answers (stopped again if it never does)."""
    kg = start(
        serve_command(store_dir, port, workers),
        env={
            "KG_MAX_ROWS": "100000",
            "KG_QUERY_TIMEOUT": "30",
            "KG_ACCESS_LOG": "false",
            # wrk's connections stand for as many clients, but all come from 127.0.0.1, which the server would count
            # as one client (2 queries at once, 60 s of query time a minute): the fairness rules are measured apart
            # (bench/budgets.py, bench/hostile.py), not here
            "KG_CLIENT_QUERIES": "64",
            "KG_CLIENT_BUDGET": "1000000",
        },
        cwd=cwd,
    )
    try:
        wait_up(f"http://{HOST}:{port}/healthz", 300)  # at 1M on a loaded machine a worker takes over a minute
    except BaseException:
        stop(kg)
        raise
    return kg


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


def bench_graph(name: str, store_dir: Path, args: argparse.Namespace) -> GraphResult:
    record = json.loads((store_dir / "build.json").read_text())
    pick = samples(store_dir)
    kg_port, ox_port = free_port(), free_port()
    started = time.monotonic()
    kg = start_kg(store_dir, kg_port, args.workers)
    ready = time.monotonic() - started
    oxigraph = start(
        [
            shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph"),
            "serve-read-only",
            "--location",
            str(store_dir / "data"),
            "--bind",
            f"{HOST}:{ox_port}",
            "--union-default-graph",
        ]
    )
    wait_up(f"http://{HOST}:{ox_port}/query?query=ASK%7B%7D")
    result = GraphResult(graph=name, quads=int(record["quads"]), kg_ready_s=round(ready, 2))
    kg_memory, ox_memory = MemoryWatch(kg.pid), MemoryWatch(oxigraph.pid)
    kg_memory.start()
    ox_memory.start()
    servers = {"kg": (f"http://{HOST}:{kg_port}", "/sparql"), "oxigraph": (f"http://{HOST}:{ox_port}", "/query")}
    baseline = None
    try:
        if args.baseline is not None:
            base_port = free_port()
            baseline = start_kg(store_dir, base_port, args.workers, args.baseline)
            servers = {"kg-baseline": (f"http://{HOST}:{base_port}", "/sparql"), **servers}
        for query, template in QUERIES.items():
            texts = [
                template.format(entity=e, source=s, prefix=p)
                for e, s, p in zip(pick["entity"] * 4, pick["source"] * 100, pick["prefix"] * 100, strict=False)
            ][:400]
            for mode in ("distinct", "repeated"):
                chosen = texts if mode == "distinct" else texts[:1]
                for server, (base, endpoint) in servers.items():
                    script = OUT / f"{name}-{server}-{query}-{mode}.lua"
                    lua_script(script, endpoint, chosen, distinct=mode == "distinct")
                    rps, p50, p99, errors = wrk(base, script, args.seconds, args.connections)
                    run = Run(name, server, query, mode, round(rps), round(p50, 2), round(p99, 2), errors)
                    result.runs.append(run)
                    print(
                        f"  {name:5} {query:12} {mode:8} {server:8} {rps:9.0f} req/s"
                        f"  p50 {p50:7.2f} ms  p99 {p99:7.2f} ms  errors {errors}",
                        flush=True,
                    )
    finally:
        kg_memory.stop.set()
        ox_memory.stop.set()
        stop(kg)
        stop(oxigraph)
        if baseline is not None:
            stop(baseline)
    result.kg_peak_pss_mb = round(kg_memory.peak_pss)
    result.kg_peak_rss_mb = round(kg_memory.peak_rss)
    result.oxigraph_peak_rss_mb = round(ox_memory.peak_rss)
    return result


def table(results: list[GraphResult]) -> str:
    lines = [
        "| graph | query | mode | kg req/s | oxigraph req/s | ratio | kg p50 / p99 ms | oxigraph p50 / p99 ms "
        "| errors | baseline req/s, ratio, p50 / p99 ms |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for g in results:
        by = {(r.server, r.query, r.mode): r for r in g.runs}
        for query in QUERIES:
            for mode in ("distinct", "repeated"):
                a, b = by[("kg", query, mode)], by[("oxigraph", query, mode)]
                ratio = a.requests_per_s / b.requests_per_s if b.requests_per_s else float("nan")
                base = by.get(("kg-baseline", query, mode))
                before = (
                    f"{base.requests_per_s}, {base.requests_per_s / b.requests_per_s:.2f}, "
                    f"{base.p50_ms} / {base.p99_ms}"
                    if base is not None and b.requests_per_s
                    else ""
                )
                lines.append(
                    f"| {g.graph} | {query} | {mode} | {a.requests_per_s} | {b.requests_per_s} | {ratio:.2f} | "
                    f"{a.p50_ms} / {a.p99_ms} | {b.p50_ms} / {b.p99_ms} | {a.errors + b.errors} | {before} |"
                )
    lines.append("")
    for g in results:
        lines.append(
            f"- {g.graph}: {g.quads} quads; `kg serve --store` ready in {g.kg_ready_s} s; kg peak memory "
            f"{g.kg_peak_pss_mb} MB PSS ({g.kg_peak_rss_mb} MB RSS, all processes); "
            f"oxigraph {g.oxigraph_peak_rss_mb} MB RSS"
        )
    return "\n".join(lines)


def prepare_store(graph: str, triples: int | None = None) -> Path:
    """The store of a benchmark graph: the real one rebuilt with `kg build`, a synthetic one ("1m", "10m": millions
    of triples, unless ``triples`` says otherwise) generated once (bench/scale.py builds the same stores)."""
    store_dir = OUT / f"store-{graph}"
    if triples is None:
        triples = int(graph[:-1]) * 1_000_000 if graph.endswith("m") and graph[:-1].isdigit() else 1_000_000
    if graph == "real":
        subprocess.run([sys.executable, "-m", "kg", "build", "--store", str(store_dir)], cwd=ROOT, check=True)
        return store_dir
    record = store_dir / "build.json"
    if not record.exists() or json.loads(record.read_text())["quads"] < triples * 0.9:
        subprocess.run(
            [sys.executable, "bench/generate.py", "--triples", str(triples), "--store", str(store_dir)],
            cwd=ROOT,
            check=True,
        )
    return store_dir


Rows = list[dict[str, object]]


def on_each_graph(description: str, bench: Callable[[str, Path, int], Rows], out: str) -> Rows:
    """The command line the wrk benchmarks share (--graphs, --seconds): ``bench`` on each graph; rows kept in
    bench/out/``out``."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--graphs", default="real,1m", help="real, 1m, 10m ... (comma-separated)")
    parser.add_argument("--seconds", type=int, default=8, help="length of each wrk run")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench needs wrk: apt-get install wrk")
    OUT.mkdir(parents=True, exist_ok=True)
    results: Rows = []
    for graph in args.graphs.split(","):
        results += bench(graph, prepare_store(graph), args.seconds)
    (OUT / out).write_text(json.dumps(results, indent=2))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--graphs", default="real,1m", help="real, 1m, or both (comma-separated)")
    parser.add_argument("--seconds", type=int, default=8, help="length of each wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--triples", type=int, help="the size of a synthetic graph, if not the one its name says")
    parser.add_argument(
        "--baseline",
        type=Path,
        help="another checkout (e.g. `git worktree add /tmp/base main`) whose `kg serve` runs side by side",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench needs wrk: apt-get install wrk")
    OUT.mkdir(parents=True, exist_ok=True)
    results = []
    for graph in args.graphs.split(","):
        store_dir = prepare_store(graph, args.triples)
        print(f"{graph}: benchmarking", flush=True)
        results.append(bench_graph(graph, store_dir, args))
    (OUT / "results.json").write_text(json.dumps([asdict(r) for r in results], indent=2))
    print(table(results))


if __name__ == "__main__":
    main()
