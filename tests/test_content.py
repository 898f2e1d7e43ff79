"""The content: every claim quotes its source verbatim, the worksheet's claims are all in the graph, sources are
flagged as the texts warrant, and unverified identifiers are never asserted as matches."""

from __future__ import annotations

import csv
from collections import Counter

import pyoxigraph as ox
from conftest import SHARED, SOURCES, needs_shared_sources

from kg.queries.catalog import term_text
from kg.store.backends import run


def rows(store: ox.Store, query: str) -> list[dict[str, str]]:
    solutions = run(store, query)
    assert isinstance(solutions, ox.QuerySolutions)
    names = [v.value for v in solutions.variables]
    return [{n: term_text(r[n]) for n in names} for r in solutions]


ADDED_IN_REVIEW = {"C004-039"}
"""Claims added after the worksheet, in review (issue 13): 004 "SCT involves the collection of stem cells"."""


def test_counts(store: ox.Store) -> None:
    (counts,) = rows(
        store,
        """SELECT (COUNT(DISTINCT ?claim) AS ?claims) (COUNT(DISTINCT ?source) AS ?sources) WHERE {
            ?claim a scad:Claim ; scad:statedIn ?source }""",
    )
    # 279 claims of the worksheet (../shared/curation/claims.tsv), plus the ones added in review (ADDED_IN_REVIEW)
    assert counts == {"claims": str(279 + len(ADDED_IN_REVIEW)), "sources": "5"}
    (entities,) = rows(store, "SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE { ?e a/rdfs:subClassOf* scad:Entity }")
    assert entities["n"] == "154"  # 153 and kgr:curator-inference, the assertion method of curator assertions


def test_every_quote_is_verbatim_in_its_source(store: ox.Store) -> None:
    needs_shared_sources()
    texts = {p.name: p.read_text(encoding="utf-8") for p in SOURCES.glob("*.txt")}
    claims = rows(
        store, "SELECT ?claim ?quote ?file WHERE { ?claim scad:quote ?quote ; scad:statedIn/scad:fileName ?file }"
    )
    assert len(claims) == 279 + len(ADDED_IN_REVIEW)
    missing = [c["claim"] for c in claims if c["quote"] not in texts[c["file"]]]
    assert missing == []


def test_the_worksheet_claims_are_all_in_the_graph(store: ox.Store) -> None:
    needs_shared_sources()
    sheet = SHARED / "curation" / "claims.tsv"
    with sheet.open(encoding="utf-8", newline="") as handle:
        worksheet = {r["claim_id"]: r for r in csv.DictReader(handle, delimiter="\t")}
    graph = {
        r["claim"].removeprefix("kgr:"): r
        for r in rows(
            store,
            """SELECT ?claim ?quote ?certainty ?negated WHERE {
                ?claim a scad:Claim ; scad:quote ?quote ; scad:certainty ?certainty ; scad:negated ?negated }""",
        )
    }
    assert set(graph) == set(worksheet) | ADDED_IN_REVIEW
    certainty = {
        "A": "scad:Asserted",
        "R": "scad:ReportedFinding",
        "P": "scad:Hedged",
        "F": "scad:Speculative",
        "N": "scad:Asserted",
    }
    for claim_id, row in worksheet.items():
        assert graph[claim_id]["quote"] == row["quote"], claim_id
        assert graph[claim_id]["certainty"] == certainty[row["certainty"]], claim_id
        assert graph[claim_id]["negated"] == ("true" if row["certainty"] == "N" else "false"), claim_id


def test_promotional_sources_are_000_and_002(store: ox.Store) -> None:
    flags = {
        r["source"]: r["promo"]
        for r in rows(store, "SELECT ?source ?promo WHERE { ?source scad:isPromotional ?promo }")
    }
    assert flags == {
        "kgr:source-000": "true",
        "kgr:source-001": "false",
        "kgr:source-002": "true",
        "kgr:source-003": "false",
        "kgr:source-004": "false",
    }


def test_unverified_identifiers_are_recorded_never_asserted(store: ox.Store) -> None:
    unverified = rows(
        store,
        """SELECT ?subject ?predicate ?object ?asserted WHERE {
            ?m scad:verificationStatus scad:Unverified ; scad:mappingSubject ?subject ;
               scad:mappingPredicate ?predicate ; scad:mappingObject ?object .
            BIND (EXISTS { ?subject ?predicate ?object } AS ?asserted) }""",
    )
    assert {r["object"] for r in unverified} == {
        "obo:NCIT_C16039",
        "mesh:D057026",
        "mesh:D036102",
        "mesh:D019172",
        "mesh:D015316",
        "mesh:D006084",
    }
    assert {r["asserted"] for r in unverified} == {"false"}


def test_mapping_statuses_match_the_inventory(store: ox.Store) -> None:
    statuses = Counter(
        r["s"] for r in rows(store, "SELECT ?s WHERE { ?m a scad:Mapping ; scad:verificationStatus ?s }")
    )
    # facts.md section 5: 154 P, 21 M, 6 S, 7 U (plus one S added for the curator layer); the seventh U has no identifier to record (a GO label only)
    assert statuses == {
        "scad:VerifiedInOntology": 154,
        "scad:VerifiedInCuratedMappings": 21,
        "scad:VerifiedSecondary": 7,  # and ECO:0000305 of kgr:curator-inference (not in facts.md; secondary)
        "scad:Unverified": 6,
    }


def test_every_hedged_claim_names_its_cue(store: ox.Store) -> None:
    unhedged = rows(
        store,
        """SELECT ?claim WHERE { ?claim scad:certainty ?c . FILTER (?c IN (scad:Hedged, scad:Speculative))
           FILTER NOT EXISTS { ?claim scad:hedgeCue ?cue } }""",
    )
    assert unhedged == []


def test_no_blank_nodes_in_curated_data(store: ox.Store) -> None:
    blanks = rows(
        store,
        """SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } FILTER ((isBlank(?s) || isBlank(?o))
           && CONTAINS(STR(?g), "/graph/data/")) }""",
    )
    assert blanks == []
