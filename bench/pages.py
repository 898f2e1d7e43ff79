"""Pages and linked data side by side on 127.0.0.1 (wrk, 16 connections, 2 workers on the on-disk store): an entity
page (HTML), the GraphQL document it is rendered from, and the entity's RDF description (Turtle), each over many
entities; with the caches on, and again with them off, so the cost of rendering a page shows as a ratio to the
GraphQL answer it is made from.

    python bench/pages.py                      # the real graph and the synthetic ~1M-triple graph
    python bench/pages.py --graphs real --seconds 5

Results: bench/out/pages.json and a Markdown table on stdout. Every run is bounded by --seconds.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pyoxigraph as ox
from graphql_cards import post_script, serve
from run import OUT, ROOT, prepare_store, stop, wrk

PAGE = (ROOT / "queries" / "graphql" / "entity_page.graphql").read_text()
KGR = "https://w3id.org/scad/id/"


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


def bench(name: str, store_dir: Path, seconds: int) -> list[dict[str, object]]:
    picks = entities(store_dir)
    pages = ["/id/" + e.removeprefix(KGR) for e in picks]
    get_script(OUT / f"{name}-page.lua", pages, "text/html")
    get_script(OUT / f"{name}-turtle.lua", pages, "text/turtle")
    post_script(OUT / f"{name}-gql-page.lua", [json.dumps({"query": PAGE, "variables": {"id": e}}) for e in picks])
    rows: list[dict[str, object]] = []
    for caches, env in (("on", {}), ("off", {"KG_CACHE_ENTRIES": "0"})):
        process, base = serve(store_dir, env)
        try:
            for label, script in (
                ("entity page (HTML)", "page"),
                ("its GraphQL document", "gql-page"),
                ("its description (Turtle)", "turtle"),
            ):
                rps, p50, p99, errors = wrk(base, OUT / f"{name}-{script}.lua", seconds, 16)
                row = {"graph": name, "caches": caches, "case": label, "rps": round(rps), "p50_ms": round(p50, 2)}
                rows.append(row | {"p99_ms": round(p99, 2), "errors": errors})
                print(f"  {name:5} caches {caches:3} {label:26} {rps:8.0f} req/s  p50 {p50:7.2f}  p99 {p99:7.2f}")
        finally:
            stop(process)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--graphs", default="real,1m")
    parser.add_argument("--seconds", type=int, default=8)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    results = []
    for graph in args.graphs.split(","):
        results += bench(graph, prepare_store(graph), args.seconds)
    (OUT / "pages.json").write_text(json.dumps(results, indent=2))
    print("| graph | caches | case | req/s | p50 ms | p99 ms | errors |\n|---|---|---|---|---|---|---|")
    for r in results:
        cells = [r[k] for k in ("graph", "caches", "case", "rps", "p50_ms", "p99_ms", "errors")]
        print("| " + " | ".join(str(c) for c in cells) + " |")


if __name__ == "__main__":
    main()
