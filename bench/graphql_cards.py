"""GraphQL side by side on 127.0.0.1 (wrk, 16 connections): the disease card over GraphQL, the same data through
the REST named-query route (`/queries/disease_card`), and the same GraphQL with batching and caches off; plus
search-as-you-type. On the real graph and on the synthetic ~1M-triple graph.

    python bench/graphql_cards.py                  # both graphs
    python bench/graphql_cards.py --graphs real --seconds 5
    BENCH_AGAINST=/work/main python bench/graphql_cards.py --graphs 1m     # and main's cold cases, side by side

Results: bench/out/graphql.json and a Markdown table on stdout. Every run is bounded by --seconds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.parse
from pathlib import Path

import httpx
import pyoxigraph as ox
from run import HOST, OUT, ROOT, free_port, on_each_graph, stop, wait_up, wrk

CARD = (ROOT / "queries" / "graphql" / "disease_card.graphql").read_text()
SEARCH = (ROOT / "queries" / "graphql" / "search.graphql").read_text()


def diseases(store_dir: Path) -> list[str]:
    store = ox.Store.read_only(str(store_dir / "data"))
    query = """SELECT DISTINCT ?d WHERE { ?c <https://w3id.org/scad/ontology#object> ?d .
        ?d a <https://w3id.org/scad/ontology#Disease> } LIMIT 300"""
    return [str(r[0].value) for r in store.query(query, use_default_graph_as_union=True)]  # type: ignore[union-attr]


def prefixes(store_dir: Path) -> list[str]:
    store = ox.Store.read_only(str(store_dir / "data"))
    query = "SELECT ?l WHERE { ?e <http://www.w3.org/2004/02/skos/core#prefLabel> ?l } LIMIT 500"
    labels = [str(r[0].value) for r in store.query(query, use_default_graph_as_union=True)]  # type: ignore[union-attr]
    return sorted({label[:n].lower() for label in labels for n in (2, 3, 5) if len(label) > n})


def post_script(path: Path, bodies: list[str]) -> None:
    items = ",\n".join(json.dumps(b) for b in bodies)
    path.write_text(
        f"""local bodies = {{
{items}
}}
function setup(thread) end
request = function()
  return wrk.format("POST", "/graphql", {{["Content-Type"] = "application/json"}}, bodies[math.random(#bodies)])
end
"""
    )


def get_script(path: Path, paths: list[str]) -> None:
    items = ",\n".join(json.dumps(p) for p in paths)
    path.write_text(
        f"""local paths = {{
{items}
}}
request = function()
  return wrk.format("GET", paths[math.random(#paths)], {{["Accept"] = "application/sparql-results+json"}})
end
"""
    )


AGAINST = Path(os.environ["BENCH_AGAINST"]).resolve() if os.environ.get("BENCH_AGAINST") else None
"""Another checkout (with its own .venv), e.g. main: its server runs the cold cases too, in the same run, with its own
documents, so a change shows as a ratio measured side by side (BENCH_AGAINST=/work/main python bench/...)."""
READY_SECONDS = 600
"""How long a server may take to start: at 1M triples on a loaded machine the release survey takes minutes."""


def serve(store_dir: Path, env: dict[str, str], checkout: Path = ROOT) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    python = sys.executable if checkout == ROOT else str(checkout / ".venv" / "bin" / "python")
    process = subprocess.Popen(
        [python, "-m", "kg", "serve", "--store", str(store_dir.resolve()), "--port", str(port), "--workers", "2"],
        cwd=checkout,
        env={**os.environ, "KG_MAX_ROWS": "100000", "KG_QUERY_TIMEOUT": "30", "KG_ACCESS_LOG": "false", **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://{HOST}:{port}"
    try:
        wait_up(base + "/healthz", READY_SECONDS)
    except TimeoutError:
        stop(process)
        raise
    return process, base


def document(checkout: Path, name: str) -> str:
    return (checkout / "queries" / "graphql" / f"{name}.graphql").read_text()


def store_queries(base: str, disease: str) -> int:
    response = httpx.post(
        base + "/graphql", json={"query": CARD, "variables": {"id": disease}}, headers={"X-KG-Debug": "1"}, timeout=60
    )
    return int(response.json()["extensions"]["storeQueries"])


def bench(name: str, store_dir: Path, seconds: int) -> list[dict[str, object]]:
    picks = diseases(store_dir)
    cards = [json.dumps({"query": CARD, "variables": {"id": d}}) for d in picks]
    rest = ["/queries/disease_card?" + urllib.parse.urlencode({"disease": d}) for d in picks]
    searches = [json.dumps({"query": SEARCH, "variables": {"text": p}}) for p in prefixes(store_dir)]
    rows: list[dict[str, object]] = []

    def run(label: str, base: str, script: Path) -> None:
        rps, p50, p99, errors = wrk(base, script, seconds, 16)
        rows.append(
            {
                "graph": name,
                "case": label,
                "rps": round(rps),
                "p50_ms": round(p50, 2),
                "p99_ms": round(p99, 2),
                "errors": errors,
            }
        )
        print(
            f"  {name:5} {label:28} {rps:8.0f} req/s  p50 {p50:7.2f} ms  p99 {p99:7.2f} ms  errors {errors}", flush=True
        )

    process, base = serve(store_dir, {})
    try:
        cold = store_queries(base, picks[0])
        rows.append({"graph": name, "case": "store queries per card (cold, depth 7)", "value": cold})
        post_script(OUT / f"{name}-gql-card.lua", cards)
        get_script(OUT / f"{name}-rest-card.lua", rest)
        post_script(OUT / f"{name}-gql-search.lua", searches)
        run("graphql card", base, OUT / f"{name}-gql-card.lua")
        run("rest named query card", base, OUT / f"{name}-rest-card.lua")
        run("graphql search", base, OUT / f"{name}-gql-search.lua")
    finally:
        stop(process)
    process, base = serve(store_dir, {"KG_CACHE_ENTRIES": "0"})
    try:
        run("graphql card, batching, no cache", base, OUT / f"{name}-gql-card.lua")
        run("rest card, no cache", base, OUT / f"{name}-rest-card.lua")
        run("graphql search, no cache", base, OUT / f"{name}-gql-search.lua")
    finally:
        stop(process)
    process, base = serve(store_dir, {"KG_GRAPHQL_BATCHING": "false", "KG_CACHE_ENTRIES": "0"})
    try:
        rows.append(
            {"graph": name, "case": "store queries per card (no batching)", "value": store_queries(base, picks[0])}
        )
        run("graphql card, no batching/cache", base, OUT / f"{name}-gql-card.lua")
    finally:
        stop(process)
    if AGAINST is not None:  # the cold cases on the other checkout, with its own card document
        theirs = [json.dumps({"query": document(AGAINST, "disease_card"), "variables": {"id": d}}) for d in picks]
        post_script(OUT / f"{name}-gql-card-against.lua", theirs)
        process, base = serve(store_dir, {"KG_CACHE_ENTRIES": "0"}, AGAINST)
        try:
            run(f"graphql card, no cache ({AGAINST.name})", base, OUT / f"{name}-gql-card-against.lua")
            run(f"rest card, no cache ({AGAINST.name})", base, OUT / f"{name}-rest-card.lua")
        finally:
            stop(process)
    return rows


def main() -> None:
    results = on_each_graph(__doc__ or "", bench, "graphql.json")
    print("| graph | case | req/s | p50 ms | p99 ms | errors |\n|---|---|---|---|---|---|")
    for r in results:
        if "value" in r:
            print(f"| {r['graph']} | {r['case']} | {r['value']} | | | |")
        else:
            print(f"| {r['graph']} | {r['case']} | {r['rps']} | {r['p50_ms']} | {r['p99_ms']} | {r['errors']} |")


if __name__ == "__main__":
    main()
