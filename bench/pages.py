"""Pages and linked data side by side on 127.0.0.1 (wrk, 16 connections, 2 workers on the on-disk store): an entity
page (HTML), the GraphQL document it is rendered from, and the entity's RDF description (Turtle), each over many
entities; with the caches on (after one warm-up pass: the steady state) and again with them off, so the cost of
rendering a page shows as a ratio to the GraphQL answer it is made from. With caches, each case runs on a fresh
server; without, the cases take turns on one server for three rounds and the medians are reported.

    python bench/pages.py                      # the real graph and the synthetic ~1M-triple graph
    python bench/pages.py --graphs real --seconds 5
    BENCH_AGAINST=/work/main python bench/pages.py --graphs 1m     # and main's uncached cases, side by side

Results: bench/out/pages.json and a Markdown table on stdout. Every run is bounded by --seconds.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

import httpx
import pyoxigraph as ox
from graphql_cards import AGAINST, document, post_script, serve
from run import OUT, ROOT, on_each_graph, stop, wrk

PAGE = (ROOT / "queries" / "graphql" / "entity_page.graphql").read_text()
KGR = "https://w3id.org/scad/id/"
ROUNDS = 3


def entities(store_dir: Path, limit: int = 300) -> list[str]:
    store = ox.Store.read_only(str(store_dir / "data"))
    query = f"""SELECT DISTINCT ?e WHERE {{ ?c <https://w3id.org/scad/ontology#subject> ?e .
        FILTER (STRSTARTS(STR(?e), "{KGR}")) }} LIMIT {limit}"""
    return [str(r[0].value) for r in store.query(query, use_default_graph_as_union=True)]  # type: ignore[union-attr]


def get_script(path: Path, paths: list[str], accept: str) -> None:
    items = ",\n".join(json.dumps(p) for p in paths)
    path.write_text(
        f"""local paths = {{
{items}
}}
request = function()
  return wrk.format("GET", paths[math.random(#paths)], {{["Accept"] = {json.dumps(accept)}}})
end
"""
    )


def warm(base: str, paths: list[str], bodies: list[str], seconds: float = 90) -> None:
    """One pass over every request of the run (bounded in time), so each case is measured in its steady state."""
    deadline = time.monotonic() + seconds
    with httpx.Client(base_url=base, timeout=60) as client:
        for path in paths:
            if time.monotonic() > deadline:
                return
            for accept in ("text/html", "text/turtle"):
                for _ in range(4):  # requests spread over the workers
                    client.get(path, headers={"Accept": accept})
        for body in bodies:
            if time.monotonic() > deadline:
                return
            for _ in range(4):
                client.post("/graphql", content=body, headers={"Content-Type": "application/json"})


def bench(name: str, store_dir: Path, seconds: int) -> list[dict[str, object]]:
    picks = entities(store_dir)
    pages = ["/id/" + e.removeprefix(KGR) for e in picks]
    bodies = [json.dumps({"query": PAGE, "variables": {"id": e}}) for e in picks]
    get_script(OUT / f"{name}-page.lua", pages, "text/html")
    get_script(OUT / f"{name}-turtle.lua", pages, "text/turtle")
    post_script(OUT / f"{name}-gql-page.lua", bodies)
    cases = [
        ("entity page (HTML)", "page"),
        ("its GraphQL document", "gql-page"),
        ("its description (Turtle)", "turtle"),
    ]
    rows: list[dict[str, object]] = []

    def record(caches: str, label: str, runs: list[tuple[float, float, float, int]]) -> None:
        rps, p50, p99, errors = (statistics.median(r[i] for r in runs) for i in range(4))
        row = {"graph": name, "caches": caches, "case": label, "rps": round(rps), "p50_ms": round(p50, 2)}
        rows.append(row | {"p99_ms": round(p99, 2), "errors": int(errors), "runs": len(runs)})
        print(f"  {name:5} caches {caches:3} {label:26} {rps:8.0f} req/s  p50 {p50:7.2f}  p99 {p99:7.2f}")

    for label, script in cases:  # caches on: a fresh, warmed server per case, so no case warms another's caches
        process, base = serve(store_dir, {})
        try:
            warm(base, pages if script != "gql-page" else [], bodies if script == "gql-page" else [])
            record("on", label, [wrk(base, OUT / f"{name}-{script}.lua", seconds, 16)])
        finally:
            stop(process)
    # caches off: nothing carries over, so one server runs the cases in turn, three rounds; medians are kept
    process, base = serve(store_dir, {"KG_CACHE_ENTRIES": "0"})
    try:
        runs: dict[str, list[tuple[float, float, float, int]]] = {script: [] for _, script in cases}
        for _ in range(ROUNDS):
            for _, script in cases:
                runs[script].append(wrk(base, OUT / f"{name}-{script}.lua", seconds, 16))
    finally:
        stop(process)
    for label, script in cases:
        record("off", label, runs[script])
    if AGAINST is not None:  # the uncached cases on the other checkout (its own page and document), same rounds
        theirs = [json.dumps({"query": document(AGAINST, "entity_page"), "variables": {"id": e}}) for e in picks]
        post_script(OUT / f"{name}-gql-page-against.lua", theirs)
        against = [("page", "page"), ("gql-page", "gql-page-against")]
        process, base = serve(store_dir, {"KG_CACHE_ENTRIES": "0"}, AGAINST)
        try:
            runs = {script: [] for script, _ in against}
            for _ in range(ROUNDS):
                for script, lua in against:
                    runs[script].append(wrk(base, OUT / f"{name}-{lua}.lua", seconds, 16))
        finally:
            stop(process)
        for label, script in cases[:2]:
            record("off", f"{label} ({AGAINST.name})", runs[script])
    return rows


def main() -> None:
    results = on_each_graph(__doc__ or "", bench, "pages.json")
    print("| graph | caches | case | req/s | p50 ms | p99 ms | errors |\n|---|---|---|---|---|---|---|")
    for r in results:
        cells = [r[k] for k in ("graph", "caches", "case", "rps", "p50_ms", "p99_ms", "errors")]
        print("| " + " | ".join(str(c) for c in cells) + " |")


if __name__ == "__main__":
    main()
