"""The `kg` command for curators and researchers: exit codes and output of query, sparql, stats, derive, build."""

from __future__ import annotations

import csv
import io
import json
import socket
import subprocess
import sys
from pathlib import Path

from conftest import ROOT
from servers import HOST, kg_server

from kg.queries.catalog import Catalog


def kg(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kg", *args], cwd=ROOT, capture_output=True, text=True, input=stdin, timeout=120
    )


def test_query_with_parameters_as_csv() -> None:
    result = kg("query", "diseases_for_therapy", "--param", "therapy=kgr:msc-therapy", "--format", "csv")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {r["diseaseLabel"] for r in rows} == {
        "Crohn's disease",
        "lupus",
        "multiple sclerosis",
        "other inflammatory disorders",
        "rheumatoid arthritis",
    }


def test_query_errors_exit_2_with_the_reason() -> None:
    bad = kg("query", "diseases_for_therapy", "--param", "therapy=SLE")
    assert bad.returncode == 2 and "parameter 'therapy' has value 'SLE'; expected an IRI" in bad.stderr
    unknown = kg("query", "nope")
    assert unknown.returncode == 2 and "no named query 'nope'" in unknown.stderr
    malformed = kg("query", "diseases_for_therapy", "--param", "therapy")
    assert malformed.returncode == 2 and "expected key=value" in malformed.stderr


def test_sparql_from_stdin_and_refused_updates() -> None:
    result = kg("sparql", "-", "--format", "json", stdin="SELECT ?l WHERE { kgr:lupus skos:prefLabel ?l }")
    assert result.returncode == 0
    assert json.loads(result.stdout)["results"]["bindings"][0]["l"]["value"] == "lupus"
    update = kg("sparql", "DELETE WHERE { ?s ?p ?o }")
    assert update.returncode == 2 and "edit those instead" in update.stderr
    malformed = kg("sparql", "SELECT ?x WHERE {")
    assert malformed.returncode == 2 and "malformed query" in malformed.stderr


def test_stats_json() -> None:
    result = kg("stats", "--format", "json")
    assert result.returncode == 0
    stats = json.loads(result.stdout)
    assert sum(stats["claims_per_source"].values()) == 280  # the worksheet's 279 and C004-039, added in review
    assert stats["claims_per_certainty"] == {
        "scad:Asserted": 183,  # and C004-039, added in review
        "scad:Hedged": 53,
        "scad:ReportedFinding": 33,
        "scad:Speculative": 11,
    }
    assert stats["negated_claims"] == 2
    # 003's two denials ("without the heavy side effects", "not yet a universal cure") refute; the rest support
    assert stats["claims_per_direction"] == {"scad:Refutes": 2, "scad:Supports": 278}
    # the roles judged by reading each quote in its source (README, "Quote roles")
    assert stats["claims_per_quote_role"] == {
        "scad:Background": 145,
        "scad:Marketing": 7,
        "scad:PrimaryResult": 32,
        "scad:ReviewOrSynthesis": 96,
    }


def test_stats_count_the_asserted_graphs_and_the_inferred_one_apart() -> None:
    import rdflib

    stats = json.loads(kg("stats", "--format", "json").stdout)
    files = sorted((ROOT / "ontology").rglob("*.ttl"))
    counted = {p.name == "inferred.ttl": 0 for p in files}
    for path in files:
        counted[path.name == "inferred.ttl"] += len(rdflib.Graph().parse(path, format="turtle"))
    assert stats["triples"] == counted[False] and stats["inferred_triples"] == counted[True] > 0
    # scad:Therapy and scad:Assertion are only ever inferred (superclass types): no asserted instance to count
    assert "scad:Therapy" not in stats["entities_per_class"] and "scad:Assertion" not in stats["entities_per_class"]
    assert stats["entities_per_class"]["scad:Claim"] == 280


def test_derive_check_is_current() -> None:
    result = kg("derive", "--check")
    assert result.returncode == 0 and "is current (212 summary triples)" in result.stdout


def test_build_writes_a_store_with_its_record(tmp_path: Path) -> None:
    target = tmp_path / "store"
    result = kg("build", "--store", str(target), "--no-reasoner")
    assert result.returncode == 0, result.stderr
    record = json.loads((target / "build.json").read_text())
    assert record["quads"] > 6000 and record["release"].startswith("0.1.0+")
    assert set(record["files"]) >= {"scad.ttl", "shapes.ttl", "data/summary.ttl"}
    rebuilt = kg("build", "--store", str(target), "--no-reasoner")
    assert rebuilt.returncode == 0
    assert json.loads((target / "build.json").read_text())["release"] == record["release"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store"]  # no half-built or old store left


def test_query_list_names_every_query_in_full_when_piped(catalog: Catalog) -> None:
    result = kg("query", "--list")
    assert result.returncode == 0, result.stderr
    rows = {line.split("│")[1].strip(): line for line in result.stdout.splitlines() if line.startswith("│")}
    assert set(rows) == {q.name for q in catalog}
    for query in catalog:  # piped, a table is not cut to 80 columns: every summary is there whole
        assert query.summary in rows[query.name], query.name
        assert all(f"{p.name}=" in rows[query.name] for p in query.params)
    assert kg("query").returncode == 2


def test_serve_prints_one_banner_line(built_store: Path, tmp_path: Path) -> None:
    record = json.loads((built_store / "build.json").read_text())
    log = tmp_path / "serve.log"
    with kg_server("--store", str(built_store), log=log) as served:
        port = served.url.rsplit(":", 1)[1]
    banner = log.read_text(encoding="utf-8").splitlines()[0]
    assert banner == (
        f"kg: serving http://127.0.0.1:{port}/ · backend on-disk store {built_store} · release {record['release']}"
        " · 1 worker · validation: done by kg build"
    )


def test_serve_names_a_busy_port(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind((HOST, 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = kg("serve", "--host", HOST, "--port", str(port))
    assert result.returncode == 2
    assert result.stderr.startswith(f"kg: cannot listen on {HOST}:{port} (Address already in use)")
    assert "pick another with --port" in result.stderr and "Traceback" not in result.stderr
