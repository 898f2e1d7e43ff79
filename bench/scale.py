"""The scale run on 127.0.0.1: the synthetic graph of bench/generate.py at ``--triples`` (10M by default), written
as N-Quads in chunks and bulk-loaded by the build step of `kg build`; then `kg serve --store` on it. Measures

- the build: wall time and peak memory of the whole process tree (PSS and RSS summed over the processes, polled
  from /proc every 0.25 s), beside the writing of the N-Quads file;
- the server: ready time (start to the first 200 on /healthz: the store opened, the sandboxes started, the sizes
  recorded by the build read), the whole server's memory once every worker has settled (PSS summed over the
  supervisor, the workers and their sandboxes, from /proc/PID/smaps_rollup, so the store's pages that the
  processes share count once), and its peak under the `/sparql` benchmark of bench/run.py (point, 2-hop, label
  search, aggregate; distinct and repeated; beside `oxigraph serve-read-only` on the same store), short runs.

    python bench/scale.py                              # 10M triples: build (unless built), serve, load
    python bench/scale.py --triples 1000000 --seconds 3
    python bench/scale.py --rebuild                    # build again even if the store is there

Results: bench/out/scale-<size>.json and bench/out/scale-<size>.md (the table, also printed). The build figures are
kept with the store, so a later run that reuses the store reports them from the run that built it.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
from run import (
    HOST,
    OUT,
    ROOT,
    GraphResult,
    MemoryWatch,
    bench_graph,
    free_port,
    memory_mb,
    serve_command,
    start,
    stop,
    table,
    tree,
)

from kg.graphql.recorded import SIZES_FILE

BUILD_FIGURES = "scale-build.json"
"""The build's figures, kept in the store directory they describe."""


def size_name(triples: int) -> str:
    return f"{triples // 1_000_000}m" if triples % 1_000_000 == 0 else f"{triples // 1000}k"


def timed_tree(cmd: list[str]) -> dict[str, float]:
    """Run ``cmd`` to its end; its wall time and the peak PSS and RSS of its process tree in MB."""
    started = time.monotonic()
    process = subprocess.Popen(cmd, cwd=ROOT)
    watch = MemoryWatch(process.pid)
    watch.start()
    try:
        code = process.wait(timeout=6 * 3600)
    finally:
        watch.stop.set()
    if code != 0:
        sys.exit(f"{' '.join(cmd)} failed ({code})")
    return {"seconds": round(time.monotonic() - started, 1), "peak_pss_mb": round(watch.peak_pss)} | {
        "peak_rss_mb": round(watch.peak_rss)
    }


def survey(store_dir: Path, figures: dict[str, object]) -> dict[str, object]:
    """A store built before `kg build` recorded the GraphQL sizes: record them now, timed as a step of its own."""
    if (store_dir / SIZES_FILE).is_file():
        return figures
    print(f"recording the GraphQL sizes of {store_dir}", flush=True)
    code = f"from kg.graphql.recorded import record; from kg.settings import Settings; \
record(__import__('pathlib').Path({str(store_dir)!r}), Settings().queries_dir)"
    figures = figures | {"survey": timed_tree([sys.executable, "-c", code])}
    (store_dir / BUILD_FIGURES).write_text(json.dumps(figures, indent=2) + "\n")
    return figures


def build(triples: int, store_dir: Path, rebuild: bool) -> dict[str, object]:
    figures_file = store_dir / BUILD_FIGURES
    if figures_file.is_file() and not rebuild:
        figures: dict[str, object] = json.loads(figures_file.read_text())
        if figures.get("triples") == triples:
            print(f"{store_dir}: built earlier, its figures reused (--rebuild to build again)", flush=True)
            return survey(store_dir, figures)
    nquads = OUT / f"synthetic-{size_name(triples)}.nq"
    generator = [sys.executable, "bench/generate.py"]
    print(f"writing {nquads}", flush=True)
    written = timed_tree([*generator, "--triples", str(triples), "--nquads", str(nquads)])
    print(f"building {store_dir}", flush=True)
    built = timed_tree([*generator, "--nquads", str(nquads), "--reuse", "--store", str(store_dir)])
    record = json.loads((store_dir / "build.json").read_text())
    figures = {
        "triples": triples,
        "quads": record["quads"],
        "nquads_bytes": nquads.stat().st_size,
        "write": written,
        "build": built,
        "store_bytes": sum(f.stat().st_size for f in store_dir.rglob("*") if f.is_file()),
    }
    figures_file.write_text(json.dumps(figures, indent=2) + "\n")
    nquads.unlink()
    return figures


def settled(pid: int, seconds: float = 180) -> tuple[float, float, float]:
    """Wait (bounded) until the server's memory stops growing (every worker loaded); (seconds waited, PSS, RSS)."""
    started = time.monotonic()
    last = memory_mb(pid)
    while time.monotonic() - started < seconds:
        time.sleep(1.0)
        now = memory_mb(pid)
        if abs(now[0] - last[0]) < max(2.0, last[0] * 0.005):
            return time.monotonic() - started, now[0], now[1]
        last = now
    return time.monotonic() - started, last[0], last[1]


def cold_start(store_dir: Path, workers: int) -> dict[str, float]:
    """Start `kg serve --store`: the time to the first 200 on /healthz, then the settled memory of the whole tree."""
    port = free_port()
    started = time.monotonic()
    process = start(
        serve_command(store_dir, port, workers),
        env={"KG_ACCESS_LOG": "false"},
    )
    try:
        ready = None
        while time.monotonic() - started < 600:
            if process.poll() is not None:
                sys.exit(f"kg serve exited ({process.returncode}) before it was ready")
            try:
                if httpx.get(f"http://{HOST}:{port}/healthz", timeout=1).status_code == 200:
                    ready = time.monotonic() - started
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.02)
        if ready is None:
            sys.exit("kg serve was not ready within 600 s")
        waited, pss, rss = settled(process.pid)
        processes = len(tree(process.pid))
    finally:
        stop(process)
    return {
        "ready_s": round(ready, 2),
        "settled_after_s": round(ready + waited, 1),
        "pss_mb": round(pss),
        "rss_mb": round(rss),
        "processes": processes,
    }


def survey_rows(figures: dict[str, object]) -> list[str]:
    step = figures.get("survey")
    if isinstance(step, str):  # a note on a survey that was not run
        return [f"| GraphQL sizes survey | {step} |"]
    if not isinstance(step, dict):
        return ["| GraphQL sizes survey | within the build |"]
    return [
        f"| GraphQL sizes survey (a build step, run apart on a store built before it) | {step['seconds']} s, "
        f"peak {step['peak_pss_mb']} MB PSS ({step['peak_rss_mb']} MB RSS) |"
    ]


def report(name: str, figures: dict[str, object], cold: dict[str, float], load: GraphResult) -> str:
    write, built = figures["write"], figures["build"]
    assert isinstance(write, dict) and isinstance(built, dict)
    quads = int(str(figures["quads"]))
    per_million = float(built["seconds"]) / (quads / 1e6)
    lines = [
        f"## Scale run: {name} ({quads} quads)",
        "",
        "| step | figure |",
        "|---|---|",
        f"| write the N-Quads file ({int(str(figures['nquads_bytes'])) / 1e9:.1f} GB) | {write['seconds']} s |",
        f"| build (bulk load, VoID, optimise, label index) | {built['seconds']} s ({per_million:.1f} s per million) |",
        f"| build peak memory, process tree | {built['peak_pss_mb']} MB PSS ({built['peak_rss_mb']} MB RSS) |",
        *survey_rows(figures),
        f"| store on disk | {int(str(figures['store_bytes'])) / 1e9:.2f} GB |",
        f"| `kg serve --store` ready (first 200 on /healthz) | {cold['ready_s']} s |",
        f"| every worker settled | {cold['settled_after_s']} s |",
        f"| whole server after ready ({int(cold['processes'])} processes) | {cold['pss_mb']} MB PSS "
        f"({cold['rss_mb']} MB RSS) |",
        f"| whole server, peak under the /sparql load | {load.kg_peak_pss_mb} MB PSS ({load.kg_peak_rss_mb} MB RSS) |",
        f"| oxigraph serve-read-only, peak under the same load | {load.oxigraph_peak_rss_mb} MB RSS |",
        "",
        table([load]),
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--triples", type=int, default=10_000_000)
    parser.add_argument("--seconds", type=int, default=4, help="length of each wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--build-only", action="store_true", help="build (or reuse) the store and stop")
    parser.set_defaults(baseline=None)  # bench/run.py's side-by-side checkout: not part of the scale run
    args = parser.parse_args()
    if shutil.which("wrk") is None and not args.build_only:
        sys.exit("bench needs wrk: apt-get install wrk")
    OUT.mkdir(parents=True, exist_ok=True)
    name = size_name(args.triples)
    store_dir = OUT / f"store-{name}"
    figures = build(args.triples, store_dir, args.rebuild)
    print(json.dumps(figures), flush=True)
    if args.build_only:
        return
    cold = cold_start(store_dir, args.workers)
    print(json.dumps(cold), flush=True)
    load = bench_graph(name, store_dir, args)
    text = report(name, figures, cold, load)
    (OUT / f"scale-{name}.json").write_text(
        json.dumps({"build": figures, "serve": cold, "load": load.__dict__ | {"runs": [r.__dict__ for r in load.runs]}})
    )
    (OUT / f"scale-{name}.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
