"""Search-as-you-type under mixed load on 127.0.0.1, caches off (every answer computed): a wrk of ``--load``
connections sends cold disease cards (GraphQL), entity pages and `/sparql` 2-hop queries at random, while a second
wrk of ``--search`` connections sends the GraphQL search document with distinct prefixes; the search latency is the
figure (p50, p99), with the search alone on an idle server beside it.

With ``--baseline REF`` the same run is made first on the code of a git commit (exported to bench/out/, served with
this checkout's environment), so before and after are measured side by side in one run on the same store.

    python bench/search.py                           # 1M triples, this checkout
    python bench/search.py --baseline main --seconds 8

Results: bench/out/search.json and a Markdown table on stdout. Every run is bounded by --seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import urllib.parse
from pathlib import Path

import httpx
from graphql_cards import CARD, SEARCH, diseases, prefixes
from pages import KGR, entities
from run import HOST, OUT, QUERIES, ROOT, free_port, prepare_store, stop, wait_up, wrk

Request = tuple[str, str, str, str]
"""method, path, Accept or Content-Type header, body."""


def script(path: Path, requests: list[Request]) -> None:
    """A wrk script that sends ``requests`` at random."""
    items = ",\n".join(
        "{" + ", ".join(json.dumps(part) for part in request) + "}" for request in requests
    )  # method, path, header, body
    path.write_text(
        f"""local requests = {{
{items}
}}
request = function()
  local r = requests[math.random(#requests)]
  if r[1] == "POST" then
    return wrk.format("POST", r[2], {{["Content-Type"] = r[3]}}, r[4])
  end
  return wrk.format("GET", r[2], {{["Accept"] = r[3]}})
end
"""
    )


def exported(ref: str) -> Path:
    """The code of commit ``ref``, exported once under bench/out/ (``kg`` and ``queries``, all the server reads)."""
    commit = subprocess.run(
        ["git", "rev-parse", "--verify", ref + "^{commit}"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    target = OUT / f"baseline-{commit[:12]}"
    if not target.is_dir():
        partial = target.with_suffix(".partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        archive = subprocess.run(["git", "archive", commit, "kg", "queries", "ontology"], cwd=ROOT, capture_output=True)
        archive.check_returncode()
        subprocess.run(["tar", "-x", "-C", str(partial)], input=archive.stdout, check=True)
        partial.rename(target)
    return target


def serve(store_dir: Path, code: Path | None) -> tuple[subprocess.Popen[bytes], str]:
    """`kg serve --store` with 2 workers and the caches off; ``code`` is a checkout to run instead of this one."""
    port = free_port()
    env = {"KG_CACHE_ENTRIES": "0", "KG_QUERY_TIMEOUT": "30", "KG_ACCESS_LOG": "false"}
    if code is not None:
        env |= {"PYTHONPATH": str(code), "KG_QUERIES_DIR": str(code / "queries")}
    command = [sys.executable, "-m", "kg", "serve", "--store", str(store_dir), "--port", str(port), "--workers", "2"]
    process = subprocess.Popen(  # run from the checkout served: `python -m` puts the working directory first
        command, cwd=code or ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://{HOST}:{port}"
    wait_up(base + "/healthz", 600)
    return process, base


def run(label: str, store_dir: Path, code: Path | None, args: argparse.Namespace) -> list[dict[str, object]]:
    process, base = serve(store_dir, code)
    rows: list[dict[str, object]] = []
    try:
        httpx.post(base + "/graphql", json={"query": SEARCH, "variables": {"text": "ab"}}, timeout=60)  # first use
        idle = wrk(base, OUT / "search-search.lua", args.seconds, args.search)
        results: dict[str, tuple[float, float, float, int]] = {}

        def load() -> None:
            results["load"] = wrk(base, OUT / "search-load.lua", 2 * args.seconds + 3, args.load)

        background = threading.Thread(target=load)
        background.start()
        try:
            threading.Event().wait(1.0)  # the load is under way
            results["search"] = wrk(base, OUT / "search-search.lua", args.seconds, args.search)
            results["health"] = wrk(base, OUT / "search-health.lua", args.seconds, args.search)
        finally:
            background.join()
    finally:
        stop(process)
    for case, (rps, p50, p99, errors) in (
        ("search alone", idle),
        ("search under mixed load", results["search"]),
        ("/healthz under mixed load (the event loop's floor)", results["health"]),
        ("the mixed load (cards, pages, sparql)", results["load"]),
    ):
        row = {"code": label, "case": case, "rps": round(rps), "p50_ms": round(p50, 2), "p99_ms": round(p99, 2)}
        rows.append(row | {"errors": errors})
        print(f"  {label:10} {case:50} {rps:8.0f} req/s  p50 {p50:7.2f} ms  p99 {p99:7.2f} ms  errors {errors}")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--graph", default="1m", help="real, 1m, 10m ...")
    parser.add_argument("--seconds", type=int, default=8, help="length of each wrk run")
    parser.add_argument("--search", type=int, default=4, help="search connections")
    parser.add_argument("--load", type=int, default=12, help="connections of the mixed load")
    parser.add_argument("--baseline", help="a git commit to measure first, side by side")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench needs wrk: apt-get install wrk")
    OUT.mkdir(parents=True, exist_ok=True)
    store_dir = prepare_store(args.graph)
    searches = [json.dumps({"query": SEARCH, "variables": {"text": p}}) for p in prefixes(store_dir)]
    script(OUT / "search-search.lua", [("POST", "/graphql", "application/json", body) for body in searches])
    script(OUT / "search-health.lua", [("GET", "/healthz", "application/json", "")])
    cards = [json.dumps({"query": CARD, "variables": {"id": d}}) for d in diseases(store_dir)]
    picks = entities(store_dir)
    sparql = [QUERIES["two_hop"].format(entity=e) for e in picks]
    script(
        OUT / "search-load.lua",
        [("POST", "/graphql", "application/json", body) for body in cards]
        + [("GET", "/id/" + e.removeprefix(KGR), "text/html", "") for e in picks]
        + [("GET", "/sparql?query=" + urllib.parse.quote(q), "application/sparql-results+json", "") for q in sparql],
    )
    rows: list[dict[str, object]] = []
    if args.baseline:
        rows += run(args.baseline, store_dir, exported(args.baseline), args)
    rows += run("this", store_dir, None, args)
    (OUT / "search.json").write_text(json.dumps(rows, indent=2))
    print("| code | case | req/s | p50 ms | p99 ms | errors |\n|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['code']} | {r['case']} | {r['rps']} | {r['p50_ms']} | {r['p99_ms']} | {r['errors']} |")


if __name__ == "__main__":
    main()
