"""`kg release` writes files that parse back to the graph (KGX, SSSOM, closure included), and `kg diff` shows a
curator's change grouped by entity label."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from conftest import ROOT, SOURCES, needs_shared_sources


def kg(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kg", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    needs_shared_sources()
    target = tmp_path_factory.mktemp("dist")
    result = kg("release", "--output", str(target), "--sources", str(SOURCES))
    assert result.returncode == 0, result.stderr
    return target


def test_release_files_and_manifest(dist: Path) -> None:
    import hashlib
    import os

    manifest = json.loads((dist / "manifest.json").read_text())
    assert manifest["version"] == "0.1.0" and manifest["release"].startswith("0.1.0+")
    assert manifest["quotes_checked"] is True and manifest["allow_dirty"] is False
    umask = os.umask(0o022)
    os.umask(umask)
    for path in dist.iterdir():  # the mode the umask gives, as any other file a person writes (not 0600)
        assert path.stat().st_mode & 0o777 == 0o666 & ~umask, path.name
    for name, info in manifest["files"].items():
        assert hashlib.sha256((dist / name).read_bytes()).hexdigest() == info["sha256"], name


def test_rdf_files_hold_the_graph(dist: Path) -> None:
    quads = list(ox.parse(path=str(dist / "graph.nq"), format=ox.RdfFormat.N_QUADS))
    triples = {(q.subject, q.predicate, q.object) for q in quads}
    turtle = {
        (t.subject, t.predicate, t.object) for t in ox.parse(path=str(dist / "graph.ttl"), format=ox.RdfFormat.TURTLE)
    }
    jsonld = {
        (t.subject, t.predicate, t.object)
        for t in ox.parse(path=str(dist / "graph.jsonld"), format=ox.RdfFormat.JSON_LD)
    }

    def without_blanks(found: set[tuple[object, object, object]]) -> set[tuple[object, object, object]]:
        return {t for t in found if not isinstance(t[0], ox.BlankNode) and not isinstance(t[2], ox.BlankNode)}

    named = without_blanks(triples)  # type: ignore[arg-type]
    assert without_blanks(turtle) == named  # type: ignore[arg-type]
    assert without_blanks(jsonld) == named  # type: ignore[arg-type]
    # one named graph per Turtle file: 20, and the curation files (2), the belief priors, the inferred graph and
    # the quote anchors (5)
    assert len({q.graph_name for q in quads}) == 29
    closure = {
        (t.subject, t.predicate, t.object)
        for t in ox.parse(path=str(dist / "closure.nt"), format=ox.RdfFormat.N_TRIPLES)
    }
    assert named - closure == set() and len(closure) > len(named)
    inferred = (
        ox.NamedNode("https://w3id.org/scad/id/lupus"),
        ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
        ox.NamedNode("https://w3id.org/scad/ontology#Entity"),
    )
    graph = ox.NamedNode("https://w3id.org/scad/graph/inferred.ttl")
    asserted = {(q.subject, q.predicate, q.object) for q in quads if q.graph_name != graph}
    assert inferred in closure and inferred not in asserted
    assert inferred in named  # the release carries the inferred graph of `kg derive` too


def test_kgx_and_sssom(dist: Path) -> None:
    nodes = list(csv.DictReader((dist / "nodes.tsv").read_text().splitlines(), delimiter="\t"))
    assert len(nodes) == 154  # 153 and kgr:curator-inference
    lupus = next(n for n in nodes if n["id"] == "kgr:lupus")
    assert lupus["category"] == "biolink:Disease" and "SLE" in lupus["synonym"].split("|")
    edges = list(csv.DictReader((dist / "edges.tsv").read_text().splitlines(), delimiter="\t"))
    assert len(edges) == 275  # the claims with an entity object (5 relate their subject to a value)
    infertility = next(e for e in edges if e["id"] == "kgr:C003-084")
    assert infertility["predicate"] == "biolink:has_adverse_event" and infertility["knowledge_level"] == "prediction"
    assert infertility["supporting_text"].startswith("Potential side effects")
    lines = (dist / "mappings.sssom.tsv").read_text().splitlines()
    assert lines[0].startswith("#mapping_set_id:")
    mappings = list(csv.DictReader((line for line in lines if not line.startswith("#")), delimiter="\t"))
    assert len(mappings) == 188  # 187 and ECO:0000305 of kgr:curator-inference
    unverified = [m for m in mappings if m["comment"].startswith("Unverified")]
    assert len(unverified) == 6 and all(float(m["confidence"]) < 0.5 for m in unverified)


def test_kgx_edges_carry_biolink_text_mining_evidence(dist: Path) -> None:
    nodes = list(csv.DictReader((dist / "nodes.tsv").read_text().splitlines(), delimiter="\t"))
    labels = {n["id"]: {x.casefold() for x in [n["name"], *n["synonym"].split("|")] if x} for n in nodes}
    edges = list(csv.DictReader((dist / "edges.tsv").read_text().splitlines(), delimiter="\t"))
    assert {e["primary_knowledge_source"] for e in edges} == {"infores:scad-kg"}
    assert {e["publications"] for e in edges} == {f"kgr:source-00{n}" for n in range(5)}
    located = 0
    for edge in edges:
        for end in ("subject", "object"):
            span = edge[f"{end}_location_in_text"]
            if span:
                start, stop = (int(x) for x in span.split("|"))
                assert edge["supporting_text"][start:stop].casefold() in labels[edge[end]], (edge["id"], end)
                located += 1
    assert located > len(edges) // 2
    infertility = next(e for e in edges if e["id"] == "kgr:C003-084")
    quote = infertility["supporting_text"]
    spans = [[int(x) for x in infertility[f"{end}_location_in_text"].split("|")] for end in ("subject", "object")]
    assert [quote[a:b] for a, b in spans] == ["HSCT", "infertility"]
    # source-002 states its date (2024-09-12); the other sources state none
    assert {e["supporting_document_year"] for e in edges if e["publications"] == "kgr:source-002"} == {"2024"}
    assert {e["supporting_document_year"] for e in edges if e["publications"] != "kgr:source-002"} == {""}


def test_release_writes_void_and_examples(dist: Path) -> None:
    from test_metadata import EXAMPLES, check_void, named_queries

    data = rdflib.Graph()
    for path in sorted((ROOT / "ontology").rglob("*.ttl")):
        data.parse(path, format="turtle")
    check_void(rdflib.Graph().parse(dist / "void.ttl", format="turtle"), data)
    examples = rdflib.Graph().parse(dist / "examples.ttl", format="turtle")
    assert len(list(examples.query(EXAMPLES))) == len(named_queries())
    graphs = {q.graph_name.value for q in ox.parse(path=str(dist / "metadata.nq"), format=ox.RdfFormat.N_QUADS)}  # type: ignore[union-attr]
    assert graphs == {"https://w3id.org/scad/graph/void", "https://w3id.org/scad/graph/examples"}


def test_diff_groups_changes_by_entity(tmp_path: Path, dist: Path) -> None:
    changed = tmp_path / "changed.ttl"
    text = (
        (dist / "graph.ttl")
        .read_text()
        .replace('skos:altLabel "SLE"@en ;', 'skos:altLabel "SLE"@en ;\n    skos:altLabel "lupus disease"@en ;', 1)
    )
    changed.write_text(text)
    result = kg("diff", str(dist / "graph.ttl"), str(changed))
    assert result.returncode == 0, result.stderr
    assert 'lupus (kgr:lupus)\n  + skos:altLabel "lupus disease"@en' in result.stdout
    assert "1 entities changed: 1 statements added, 0 removed" in result.stdout
    bad = kg("diff", "no-such-revision", str(changed))
    assert bad.returncode == 2 and "neither a release file nor a git revision" in bad.stderr


def test_diff_against_a_git_revision() -> None:
    head = kg("diff", "HEAD")
    if head.returncode == 2 and "git" in head.stderr:
        pytest.skip("not a git checkout")
    assert head.returncode == 0, head.stderr
    assert "entities changed" in head.stdout.splitlines()[-1]
