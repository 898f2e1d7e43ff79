"""Load: 64 concurrent connections for 20 s on a mix of GraphQL, SPARQL, named queries and pages (a quarter each of
GraphQL and pages, half SPARQL and named queries), against `kg serve` on 127.0.0.1 with wrk (bounded in time,
loopback only). Zero errors allowed; the figures are printed."""

from __future__ import annotations

import json
import re
import subprocess
import urllib.parse
from pathlib import Path

import pytest
from conftest import ROOT
from servers import kg_server, needs_program

pytestmark = pytest.mark.slow

CARD = (ROOT / "queries" / "graphql" / "disease_card.graphql").read_text()
DISEASES = ["lupus", "multiple-sclerosis", "rheumatoid-arthritis", "crohns-disease", "systemic-sclerosis"]


def mix_script(path: Path) -> None:
    gets = ["/sparql?" + urllib.parse.urlencode({"query": f"SELECT ?p ?o WHERE {{ kgr:{d} ?p ?o }}"}) for d in DISEASES]
    gets += ["/queries/diseases_for_therapy?therapy=kgr%3Amsc-therapy", "/queries/autoimmune_diseases"]
    gets += ["/queries/outcomes_for_disease?disease=kgr%3A" + d for d in DISEASES]
    bodies = [json.dumps({"query": CARD, "variables": {"id": f"kgr:{d}"}}) for d in DISEASES]
    pages = [f"/id/{d}" for d in DISEASES] + [f"/explore/{d}" for d in DISEASES] + [f"/id/{d}.ttl" for d in DISEASES]
    pages += ["/", "/matrix", "/ontology", "/search?q=stem", "/id/source-003", "/id/C003-084"]
    path.write_text(
        "local gets = {" + ",".join(json.dumps(g) for g in gets) + "}\n"
        "local bodies = {" + ",".join(json.dumps(b) for b in bodies) + "}\n"
        "local pages = {" + ",".join(json.dumps(p) for p in pages) + "}\n"
        "local n = 0\n"
        "request = function()\n"
        "  n = n + 1\n"
        "  if n % 4 == 0 then\n"
        '    return wrk.format("POST", "/graphql", {["Content-Type"] = "application/json"}, bodies[math.random(#bodies)])\n'
        "  end\n"
        "  if n % 4 == 1 then\n"
        '    return wrk.format("GET", pages[math.random(#pages)], {["Accept"] = "text/html,*/*;q=0.8"})\n'
        "  end\n"
        "  local path = gets[math.random(#gets)]\n"
        '  if string.sub(path, 1, 7) == "/sparql" then path = path .. "%0A%23" .. n end\n'
        '  return wrk.format("GET", path, {["Accept"] = "application/sparql-results+json"})\n'
        "end\n"
    )


def test_sixty_four_clients_for_twenty_seconds_without_errors(built_store: Path, tmp_path: Path) -> None:
    needs_program("wrk", "wrk")
    script = tmp_path / "mix.lua"
    mix_script(script)
    # the 64 connections stand for 64 clients, though all come from 127.0.0.1: lift the per-client limits
    env = {"KG_ACCESS_LOG": "false", "KG_CLIENT_QUERIES": "64", "KG_CLIENT_BUDGET": "100000"}
    with kg_server("--store", str(built_store), "--workers", "2", env=env) as served:
        out = subprocess.run(
            ["wrk", "-t2", "-c64", "-d20s", "--timeout", "10s", "--latency", "-s", str(script), served.url],
            capture_output=True,
            text=True,
            timeout=90,
            check=True,
        ).stdout
    print(out)
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    assert requests > 1000, out
    assert "Non-2xx or 3xx responses" not in out, out
    assert "Socket errors" not in out, out
