"""Evidence reasoning (issue 13): the curation fixes, the curator layer, the inferred graph, computed beliefs and
disagreements, on both backends.

Expected answers come from the source texts (quoted beside each test) and from the documented priors of
ontology/belief-priors.ttl worked out by hand; the two oracles (``oracle_*``) recompute beliefs and disagreements
from the Turtle files with rdflib, sharing no code with kg/curation/belief.py or queries/disagreements.rq."""

from __future__ import annotations

import shutil
from collections import defaultdict
from collections.abc import Callable
from itertools import product
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
import rdflib
from conftest import ROOT, SOURCES, Rows, needs_shared_sources
from starlette.testclient import TestClient

from kg.curation.validate import Options, check_rules, validate
from kg.rdf.dataset import Dataset, read_sources
from kg.settings import Settings
from kg.store.backends import Backend, open_backend

Select = Callable[..., Rows]
HSCT = "kgr:hematopoietic-stem-cell-transplantation"
SCT = "kgr:stem-cell-transplantation"
SCAD = rdflib.Namespace("https://w3id.org/scad/ontology#")
KGR = "https://w3id.org/scad/id/"


def short(iri: object) -> str:
    return "kgr:" + str(iri).removeprefix(KGR) if str(iri).startswith(KGR) else str(iri)


# -- curation fixes (priority 6) ------------------------------------------------------------------------------------


def test_cq_which_cells_sct_uses(select: Select) -> None:
    # 004: "SCT involves the collection of stem cells, which can be derived from the patient's own body"
    rows = select("evidence_for_statement", subject=SCT, predicate="scad:usesCellType", object="kgr:stem-cell")
    assert {r["claim"] for r in rows} == {"kgr:C004-039"}
    assert rows[0]["quote"] == "SCT involves the collection of stem cells"


def test_cq_claims_resting_on_preclinical_models(select: Select) -> None:
    # 001: "iPSCs offer the advantage of creating personalized treatments by generating a patient's own
    # immune-regulating cells, which minimizes the risk of rejection. This approach has shown potential in
    # preclinical models and is paving the way toward tailor-made therapies for autoimmune diseases."
    got = {r["claim"] for r in select("claims") if r["evidence"] == "kgr:preclinical-model"}
    # the use of iPSCs (021), generating immune-regulating cells (022, 023), minimizing rejection (024), the approach
    # itself (025) and the tailor-made therapies (026); C001-020 says only where iPSCs come from
    assert got == {f"kgr:C001-0{n}" for n in (21, 22, 23, 24, 25, 26)}


def test_every_quote_has_an_anchor_in_its_source(select: Select) -> None:
    needs_shared_sources()
    rows = select("quote_anchors")
    assert len(rows) == len(select("claim_quotes"))
    texts = {p.name: p.read_text(encoding="utf-8") for p in SOURCES.glob("*.txt")}
    for r in rows:
        text, start, end = texts[r["file"]], int(r["start"]), int(r["end"])
        assert text[start:end] == r["quote"] == r["exact"], r["claim"]
        assert text[:start].endswith(r["prefix"]) and text[end:].startswith(r["suffix"]), r["claim"]
    # 004's first claim opens its first sentence, after the title line "... A New Approach"
    first = next(r for r in rows if r["claim"] == "kgr:C004-001")
    assert first["prefix"].endswith("A New Approach\n") and first["suffix"].startswith(". This innovative approach")


# -- the curator layer (priority 1) ---------------------------------------------------------------------------------


def test_cq_curator_groupings_of_sct(select: Select) -> None:
    # 004 describes SCT as "collection of stem cells", "conditioning therapy", "infused back into the bloodstream",
    # "migrate to the bone marrow": the procedure 000, 001 and 003 call HSCT. A curator links them, not a source.
    rows = [r for r in select("curator_assertions") if SCT in (r["subject"], r["object"])]
    assert [(r["subject"], r["predicate"], r["object"]) for r in rows] == [(SCT, "scad:sameConceptAs", HSCT)]
    (row,) = rows
    assert row["method"] == "kgr:curator-inference" and row["agent"] == "kgr:curator-issue-13"
    assert row["rationale"].startswith("Curator's reasoning, not a source's words")
    assert {"kgr:C004-017", "kgr:C004-018"} <= {short(c) for c in row["derivedFrom"].split()}


def test_curator_assertions_are_not_claims(backend: Backend) -> None:
    rows = backend.query(
        """SELECT ?a ?method WHERE { ?a a scad:CuratorAssertion ; scad:assertionMethod/skos:exactMatch ?method .
           FILTER NOT EXISTS { ?a scad:quote ?q } FILTER NOT EXISTS { ?a scad:statedIn ?s }
           FILTER NOT EXISTS { ?a a scad:Claim } }"""
    )
    assert isinstance(rows, ox.QuerySolutions)
    found = {(short(r["a"].value), r["method"].value) for r in rows}
    eco = "http://purl.obolibrary.org/obo/ECO_0000305"
    assert found == {(f"kgr:CUR-00{n}", eco) for n in range(1, 6)}


def test_cq_the_immune_reset_family(backend: Backend) -> None:
    # 003: "by first destroying the old, misbehaving immune cells" ... "then rebuilding it with new, functional
    # ones"; 004: "to eliminate the faulty immune system" ... "begin to regenerate a healthy immune system"
    rows = backend.query("SELECT ?member WHERE { ?member skos:broader kgr:immune-reset }")
    assert isinstance(rows, ox.QuerySolutions)
    assert {short(r["member"].value) for r in rows} == {
        "kgr:immunoablation",
        "kgr:immune-reconstitution",
        "kgr:lasting-immune-change",
    }


# -- the inferred graph (priority 2) --------------------------------------------------------------------------------


def asserted_types(dataset: Dataset) -> dict[str, set[str]]:
    graph = rdflib.Graph()
    for f in dataset.files:
        if f.path.name != "inferred.ttl":
            graph.parse(data=f.text, format="turtle")
    types: dict[str, set[str]] = defaultdict(set)
    for s, o in graph.subject_objects(rdflib.RDF.type):
        types[str(s)].add(str(o))
    return types


def test_superclass_types_find_every_therapy(backend: Backend, dataset: Dataset) -> None:
    rows = backend.query("SELECT ?t WHERE { ?t a scad:Therapy }")
    assert isinstance(rows, ox.QuerySolutions)
    kinds = {SCAD[k] for k in ("Therapy", "StemCellTherapy", "ProcedureStep", "ConventionalTreatment")}
    kinds |= {SCAD["CombinationTherapy"], SCAD["AdjunctTherapy"]}
    expected = {s for s, t in asserted_types(dataset).items() if t & {str(k) for k in kinds}}
    assert {r["t"].value for r in rows} == expected and KGR + "msc-therapy" in expected


def test_inverse_super_property_and_transitive_broader(backend: Backend) -> None:
    ask = {
        # 000: "MSC therapy ... for autoimmune diseases such as lupus" read back from the disease
        "inverse": "ASK { kgr:lupus scad:hasInvestigationalTherapy kgr:msc-therapy }",
        # 002: "Regenerative Medicine for osteoarthritis" (offered for) is a therapy related to it
        "super-property": "ASK { kgr:regenerative-medicine scad:therapyRelatedTo kgr:osteoarthritis }",
        # 000: "adult stem cells, particularly hematopoietic stem cells (HSCs)"; adult stem cells are stem cells
        "transitive": "ASK { kgr:hematopoietic-stem-cell skos:broaderTransitive kgr:stem-cell }",
        # 004: "The procedure can lead to severe complications, including infections, organ damage" (of SCT), so
        # through the curator grouping SCT = HSCT, only in the inferred graph
        "grouping": """ASK { GRAPH <https://w3id.org/scad/graph/inferred.ttl> {
            kgr:hematopoietic-stem-cell-transplantation scad:hasAdverseEffect kgr:organ-damage }
            FILTER NOT EXISTS { GRAPH <https://w3id.org/scad/graph/data/summary.ttl> {
            kgr:hematopoietic-stem-cell-transplantation scad:hasAdverseEffect kgr:organ-damage } } }""",
    }
    assert {name: bool(backend.query(q)) for name, q in ask.items()} == dict.fromkeys(ask, True)


def test_the_inferred_graph_can_be_left_out() -> None:
    backend = open_backend(Settings(inferred=False))
    try:
        rows = backend.query("SELECT ?t WHERE { ?t a scad:Therapy }")
        assert isinstance(rows, ox.QuerySolutions) and list(rows) == []
        assert backend.release != open_backend(Settings()).release
    finally:
        backend.close()


def test_quality_rules_see_only_the_asserted_graphs(settings: Settings, dataset: Dataset) -> None:
    from kg.store.backends import memory_store

    everything = memory_store(dataset.quads)
    # the inferred SCT skos:broader stem cell therapy has no claim: a finding if the rules saw the inferred graph
    findings = [f.rule for f in check_rules(everything, dataset, settings.checks_dir)]
    assert "summary_without_claim" in findings
    report = validate([settings.ontology_dir], Options(settings.queries_dir, reasoner=False), settings.ontology_dir)
    assert report.ok, [f.text() for f in report.errors]


def test_validate_finds_a_stale_inferred_graph(tmp_path: Path, settings: Settings) -> None:
    copy = tmp_path / "ontology"
    shutil.copytree(settings.ontology_dir, copy)
    inferred = copy / "inferred.ttl"
    text = inferred.read_text(encoding="utf-8")
    # a triple that follows from nothing, as a hand edit of the generated file would leave
    inferred.write_text(text + "\nkgr:lupus scad:hasRelatedTherapy kgr:osteoarthritis .\n", encoding="utf-8")
    report = validate([copy], Options(settings.queries_dir, reasoner=False), copy)
    assert [f.rule for f in report.errors] == ["inferred-out-of-date"]
    assert "holds 1 that no longer follow" in report.errors[0].message


# -- beliefs (priority 4) -------------------------------------------------------------------------------------------


def test_cq_belief_in_long_term_remission_after_hsct(select: Select) -> None:
    # 000 (SEO promotional, prior 0.15): "Medical trials have shown that HSCT can lead to long-term remission in
    # some patients" (reported finding, weight 1); 001 (neutral, 0.5): "with many experiencing prolonged remission"
    # (reported finding, 1). Through the curator grouping CUR-001 (SCT = HSCT), 004 (neutral, 0.5) counts too, once:
    # "patients with multiple sclerosis who receive SCT may experience prolonged remission" and "With the potential to
    # reset the immune system and promote long-term remission" (both hedged, 0.6): 0.5 * 0.6 = 0.3.
    # Noisy-OR: 1 - (1 - 0.15) * (1 - 0.5) * (1 - 0.3) = 1 - 0.85 * 0.5 * 0.7 = 0.7025
    rows = select("belief", subject=HSCT, predicate="scad:hasOutcome", object="kgr:long-term-remission")
    got = {r["claim"]: (r["probability"], r["via"]) for r in rows}
    assert got == {
        "kgr:C000-042": ("0.15", ""),
        "kgr:C001-019": ("0.5", ""),
        "kgr:C004-022": ("0.3", KGR + "CUR-001"),
        "kgr:C004-036": ("0.3", KGR + "CUR-001"),
    }
    assert [float(r["score"]) for r in rows] == [pytest.approx(0.7025)] * 4
    # one source, one vote: of 004's two claims only one counts
    assert sorted(r["counted"] for r in rows if r["source"] == "kgr:source-004") == ["false", "true"]


def test_cq_belief_of_an_edge_only_a_grouping_implies(select: Select) -> None:
    # no source says HSCT causes organ damage; 004 says it of SCT: "The procedure can lead to severe complications,
    # including infections, organ damage" (hedged, 0.6; neutral source, 0.5). Through CUR-001 the implied edge of the
    # inferred graph gets a belief of 0.5 * 0.6 = 0.3 from that one claim, marked as carried across the grouping
    rows = select("belief", subject=HSCT, predicate="scad:hasAdverseEffect", object="kgr:organ-damage")
    assert [(r["claim"], r["via"], float(r["score"])) for r in rows] == [
        ("kgr:C004-028", KGR + "CUR-001", pytest.approx(0.3))
    ]
    # and the same edge of SCT itself holds the claim directly
    direct = select("belief", subject=SCT, predicate="scad:hasAdverseEffect", object="kgr:organ-damage")
    assert [(r["claim"], r["via"]) for r in direct] == [("kgr:C004-028", "")]


def test_cq_belief_in_a_cure_is_lowered_by_the_negation(select: Select) -> None:
    # 000 (0.15): "even potential cures for autoimmune diseases" (hedged, 0.6) and "we could one day see the end of
    # autoimmune illnesses" (speculative, 0.3): one source, its strongest claim counts, 0.15 * 0.6 = 0.09.
    # 003 (site self-promotion, 0.4): "While it is not yet a universal cure" (negated, asserted): refutes with 0.4.
    rows = select("belief", subject="kgr:stem-cell-therapy", predicate="scad:hasOutcome", object="kgr:cure")
    assert [float(r["score"]) for r in rows] == [pytest.approx(0.09 * (1 - 0.4))] * 3
    inputs = {r["claim"]: (r["direction"], r["counted"]) for r in rows}
    assert inputs == {
        "kgr:C000-012": ("supports", "true"),
        "kgr:C000-079": ("supports", "false"),
        "kgr:C003-090": ("refutes", "true"),
    }


def same_concept(g: rdflib.Graph) -> Callable[[object], set[object]]:
    """Each node's curator grouping (scad:sameConceptAs, symmetric and transitive), itself included, by search."""
    linked: dict[object, set[object]] = defaultdict(set)
    for a in g.subjects(rdflib.RDF.type, SCAD.CuratorAssertion):
        if g.value(a, SCAD.predicate) == SCAD.sameConceptAs:
            s, o = g.value(a, SCAD.subject), g.value(a, SCAD.object)
            linked[s].add(o)
            linked[o].add(s)

    def members(node: object) -> set[object]:
        seen, todo = {node}, [node]
        while todo:
            for n in linked[todo.pop()] - seen:
                seen.add(n)
                todo.append(n)
        return seen

    return members


def oracle_beliefs() -> dict[tuple[str, str, str], float]:
    """Beliefs recomputed from the Turtle files with rdflib and floats, from the formula in the README: a claim about
    one member of a curator grouping counts for the same statement about each other member."""
    g = rdflib.Graph()
    for path in [
        *ROOT.glob("ontology/data/claims/*.ttl"),
        *ROOT.glob("ontology/data/curation/*.ttl"),
        ROOT / "ontology/data/sources.ttl",
    ]:
        g.parse(path, format="turtle")
    g.parse(ROOT / "ontology/belief-priors.ttl", format="turtle")
    prior = {g.value(p, SCAD.priorFor): float(g.value(p, SCAD.priorValue)) for p in g.subjects(None, SCAD.BeliefPrior)}
    members = same_concept(g)
    per: dict[tuple[str, str, str], dict[tuple[bool, str], float]] = defaultdict(dict)
    for c in g.subjects(rdflib.RDF.type, SCAD.Claim):
        obj = g.value(c, SCAD.object) or g.value(c, SCAD.objectLiteral)
        source = g.value(c, SCAD.statedIn)
        p = prior[g.value(source, SCAD.contentType)] * prior[g.value(c, SCAD.certainty)]
        side = (g.value(c, SCAD.negated).toPython(), str(source))
        for s, o in product(members(g.value(c, SCAD.subject)), members(obj)):
            key = (str(s), str(g.value(c, SCAD.predicate)), str(o))
            per[key][side] = max(p, per[key].get(side, 0.0))
    result = {}
    for key, sides in per.items():
        miss = {True: 1.0, False: 1.0}
        for (negated, _), p in sides.items():
            miss[negated] *= 1 - p
        if any(not negated for negated, _ in sides):
            result[key] = (1 - miss[False]) * miss[True]
    return result


def test_every_belief_matches_the_oracle(select: Select) -> None:
    got = {(r["subject"], r["predicate"], r["object"]): float(r["score"]) for r in select("belief")}
    expected = {(short(s), p, short(o)): v for (s, p, o), v in oracle_beliefs().items()}
    got = {(s, p.replace("scad:", str(SCAD)).replace("skos:", str(rdflib.SKOS)), o): v for (s, p, o), v in got.items()}
    assert got.keys() == expected.keys()
    assert all(got[k] == pytest.approx(expected[k], abs=1e-4) for k in got)


def gql(client: TestClient, query: str) -> dict[str, Any]:
    response = client.post("/graphql", json={"query": query})
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def test_graphql_belief_and_min_belief(app_client: TestClient) -> None:
    data = gql(
        app_client,
        """{ entity(id: "kgr:hematopoietic-stem-cell-transplantation") { ... on Therapy {
             all: outcomes(first: 100) { totalCount edges {
               node { curie } evidence { belief { score inputs { claim direction counted } } } } }
             strong: outcomes(filter: { minBelief: 0.5 }, first: 100) { totalCount edges { node { curie } } }
             ranked: outcomes(orderBy: BELIEF_DESC, first: 100) { edges { node { curie } evidence { belief { score } } } }
        } } }""",
    )["entity"]
    everything, strong = data["all"]["edges"], data["strong"]["edges"]
    assert len(everything) == data["all"]["totalCount"] and len(strong) == data["strong"]["totalCount"]
    scores = {e["node"]["curie"]: e["evidence"]["belief"]["score"] for e in everything}
    assert scores["kgr:long-term-remission"] == pytest.approx(0.7025)  # worked in the CQ above
    assert {e["node"]["curie"] for e in strong} == {c for c, s in scores.items() if s >= 0.5}
    assert 0 < len(strong) < len(everything)
    ranked = [e["evidence"]["belief"]["score"] for e in data["ranked"]["edges"]]
    assert ranked == sorted(scores.values(), reverse=True)


# -- disagreements (priority 5) -------------------------------------------------------------------------------------


def oracle_disagreements() -> set[tuple[str, str, str]]:
    """(kind, first claim, second claim) from the Turtle files with rdflib, counting scad:sameConceptAs groupings."""
    g = rdflib.Graph()
    for path in [*ROOT.glob("ontology/data/claims/*.ttl"), *ROOT.glob("ontology/data/curation/*.ttl")]:
        g.parse(path, format="turtle")
    same = same_concept(g)
    strong = {SCAD.Asserted, SCAD.ReportedFinding}
    claims = [c for c in g.subjects(rdflib.RDF.type, SCAD.Claim) if g.value(c, SCAD.object) is not None]
    found = set()
    for c, d in product(claims, claims):
        if g.value(c, SCAD.statedIn) == g.value(d, SCAD.statedIn) or g.value(c, SCAD.predicate) != g.value(
            d, SCAD.predicate
        ):
            continue
        ends = [(g.value(x, SCAD.subject), g.value(x, SCAD.object)) for x in (c, d)]
        if not all(b in same(a) for a, b in zip(ends[0], ends[1], strict=True)):
            continue
        neg_c, neg_d = (g.value(x, SCAD.negated).toPython() for x in (c, d))
        if neg_c != neg_d and not neg_c:
            found.add(("direction", short(c), short(d)))
        elif neg_c == neg_d and g.value(c, SCAD.certainty) in strong and g.value(d, SCAD.certainty) not in strong:
            found.add(("strength", short(c), short(d)))
    return found


def test_cq_disagreements(select: Select) -> None:
    got = {(r["disagreement"], r["claim"], r["other"]) for r in select("disagreements")}
    # 000 "even potential cures for autoimmune diseases" against 003 "While it is not yet a universal cure"
    assert ("direction", "kgr:C000-012", "kgr:C003-090") in got
    # 003 asserts that conventional treatment does not address the root cause; 004 hedges it: "they may not
    # address the underlying problem effectively"
    assert ("strength", "kgr:C003-007", "kgr:C004-009") in got
    # 001 "with many experiencing prolonged remission" (HSCT) against 004 "patients with multiple sclerosis who
    # receive SCT may experience prolonged remission": only through the curator grouping SCT = HSCT
    assert ("strength", "kgr:C001-019", "kgr:C004-022") in got
    assert got == oracle_disagreements()


def test_graphql_and_page_disagreements(app_client: TestClient) -> None:
    data = gql(
        app_client,
        """{ disagreements(kind: DIRECTION) { kind grouped first { curie quote } second { curie quote negated } }
             curatorAssertions(entity: "kgr:infection") { curie predicate rationale subject { curie } } }""",
    )
    pairs = {(d["first"]["curie"], d["second"]["curie"]) for d in data["disagreements"]}
    assert pairs == {("kgr:C000-012", "kgr:C003-090"), ("kgr:C000-079", "kgr:C003-090")}
    assert all(d["second"]["negated"] and not d["grouped"] for d in data["disagreements"])
    assert [a["curie"] for a in data["curatorAssertions"]] == ["kgr:CUR-002"]
    page = app_client.get("/disagreements", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert "even potential cures for autoimmune diseases" in page.text
    assert "While it is not yet a universal cure" in page.text


def test_kgx_edges_carry_the_belief(settings: Settings) -> None:
    from kg.curation.release import kgx_edges
    from kg.queries.catalog import Catalog
    from kg.store.backends import memory_store

    data = read_sources([settings.ontology_dir], settings.ontology_dir)
    text = kgx_edges(memory_store(data.quads), Catalog(settings.queries_dir))
    header, *lines = [line.split("\t") for line in text.splitlines() if not line.startswith("#")]
    rows = {r[header.index("id")]: r[header.index("belief")] for r in lines}
    assert float(rows["kgr:C001-019"]) == pytest.approx(0.7025)  # the statement's belief, shared by its claims


# -- evidence items: direction and quote role (priority 3) ------------------------------------------------------------


def test_cq_which_claims_refute_their_statement(select: Select) -> None:
    # 003: "It not only aids in tissue repair but also brings immune activity back into balance—without the heavy
    # side effects of traditional immunosuppressants" and "While it is not yet a universal cure": the only two
    # statements any source denies
    rows = select("claims", evidenceDirection="scad:Refutes")
    assert {r["claim"]: r["quote"] for r in rows} == {
        "kgr:C003-066": "without the heavy side effects of traditional immunosuppressants",
        "kgr:C003-090": "While it is not yet a universal cure",
    }
    assert {r["negated"] for r in rows} == {"true"}
    assert select("claims", evidenceDirection="scad:NoEvidence") == []


def test_cq_which_quotes_are_marketing(select: Select) -> None:
    # 002, a clinic's page: "At Stemedix we provide access to Regenerative Medicine for osteoarthritis, also known as
    # stem cell therapy for Osteoarthritis. Regenerative medicine has the natural potential to help improve
    # symptoms" (three claims), and its pitch "it's becoming clear that stem cell therapy could be the solution for
    # treating or potentially slowing down the progression of autoimmune conditions" (two); 000, which ends "you can
    # contact us at our own website": "even potential cures for autoimmune diseases" and "we could one day see the
    # end of autoimmune illnesses as we know them"
    rows = select("claims", quoteRole="scad:Marketing")
    assert {r["claim"] for r in rows} == {
        *("kgr:C000-012", "kgr:C000-079"),
        *("kgr:C002-010", "kgr:C002-011", "kgr:C002-028", "kgr:C002-029", "kgr:C002-030"),
    }
    # the documented rule: only a promotional source's quote is marketing
    assert {r["promotional"] for r in rows} == {"true"}


def test_cq_which_results_are_reported_for_hsct(select: Select) -> None:
    # 000: "Medical trials have shown that HSCT can lead to long-term remission in some patients, halting the
    # progression of the illness and even reversing a few of the damage"; 001: "Patients with aggressive types of
    # autoimmune diseases have reported significant improvements following HSCT, with many experiencing prolonged
    # remission". 001's "HSCT has shown promise in treating certain severe autoimmune conditions" and 000's "HSCT has
    # been particularly successful in treating ..." name no result: review or synthesis
    rows = select("claims", subject=HSCT, quoteRole="scad:PrimaryResult")
    assert {(r["claim"], r["object"]) for r in rows} == {
        ("kgr:C000-042", "kgr:long-term-remission"),
        ("kgr:C000-043", "kgr:halted-disease-progression"),
        ("kgr:C000-044", "kgr:damage-reversal"),
        ("kgr:C001-018", "kgr:significant-improvement"),
        ("kgr:C001-019", "kgr:long-term-remission"),
    }
    others = {r["claim"]: r["quoteRole"] for r in select("claims", subject=HSCT)}
    assert others["kgr:C001-016"] == others["kgr:C000-039"] == "scad:ReviewOrSynthesis"


def test_evidence_for_a_statement_carries_direction_and_role(select: Select) -> None:
    # CQ24's query, for the cure: 000 hedges it in its pitch, 003 denies it in its closing synthesis
    rows = select(
        "evidence_for_statement", subject="kgr:stem-cell-therapy", predicate="scad:hasOutcome", object="kgr:cure"
    )
    assert {r["claim"]: (r["evidenceDirection"], r["quoteRole"]) for r in rows} == {
        "kgr:C000-012": ("scad:Supports", "scad:Marketing"),
        "kgr:C000-079": ("scad:Supports", "scad:Marketing"),
        "kgr:C003-090": ("scad:Refutes", "scad:ReviewOrSynthesis"),
    }


def oracle_evidence_items() -> dict[str, tuple[set[str], set[str], bool]]:
    """Each claim's directions, roles and negation, read from the claim files with rdflib."""
    g = rdflib.Graph()
    for path in ROOT.glob("ontology/data/claims/*.ttl"):
        g.parse(path, format="turtle")
    return {
        short(c): (
            {str(d) for d in g.objects(c, SCAD.evidenceDirection)},
            {str(r) for r in g.objects(c, SCAD.quoteRole)},
            bool(g.value(c, SCAD.negated).toPython()),
        )
        for c in g.subjects(rdflib.RDF.type, SCAD.Claim)
    }


def test_every_claim_has_one_direction_and_one_role(select: Select) -> None:
    items = oracle_evidence_items()
    assert len(items) == 280
    roles = {SCAD[r] for r in ("PrimaryResult", "Background", "ReviewOrSynthesis", "Marketing")}
    for claim, (directions, claim_roles, negated) in items.items():
        assert directions == {str(SCAD.Refutes if negated else SCAD.Supports)}, claim
        assert len(claim_roles) == 1 and claim_roles <= {str(r) for r in roles}, claim
    got = {r["claim"]: (r["evidenceDirection"], r["quoteRole"]) for r in select("claims")}
    expected = {
        c: (next(iter(d)).replace(str(SCAD), "scad:"), next(iter(r)).replace(str(SCAD), "scad:"))
        for c, (d, r, _) in items.items()
    }
    assert got == expected


def test_graphql_evidence_items_and_grouped_belief_inputs(app_client: TestClient) -> None:
    data = gql(
        app_client,
        """{ refuting: claims(filter: { evidenceDirection: REFUTES }) { totalCount edges { node { curie negated } } }
             marketing: claims(filter: { quoteRole: MARKETING, source: "kgr:source-002" }) { totalCount }
             entity(id: "kgr:hematopoietic-stem-cell-transplantation") { ... on Therapy {
               outcomes(first: 100) { edges { node { curie } evidence {
                 claims(first: 100) { edges { node { curie evidenceDirection quoteRole } } }
                 belief { score inputs { claimCurie viaGrouping counted } } } } } } } }""",
    )
    assert data["refuting"]["totalCount"] == 2
    assert all(e["node"]["negated"] for e in data["refuting"]["edges"])
    assert data["marketing"]["totalCount"] == 5  # 002's pitch (2 claims) and its Stemedix advertisement (3)
    outcomes = data["entity"]["outcomes"]["edges"]
    (remission,) = [e for e in outcomes if e["node"]["curie"] == "kgr:long-term-remission"]
    claims = [c["node"] for c in remission["evidence"]["claims"]["edges"]]
    roles = {c["curie"]: (c["evidenceDirection"], c["quoteRole"]) for c in claims}
    assert roles == {"kgr:C000-042": ("SUPPORTS", "PRIMARY_RESULT"), "kgr:C001-019": ("SUPPORTS", "PRIMARY_RESULT")}
    via = {i["claimCurie"]: i["viaGrouping"] for i in remission["evidence"]["belief"]["inputs"]}
    assert via == {
        "kgr:C000-042": [],
        "kgr:C001-019": [],
        "kgr:C004-022": [KGR + "CUR-001"],
        "kgr:C004-036": [KGR + "CUR-001"],
    }
    page = app_client.get("/id/C003-090", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert "direction: refutes" in page.text and "quote role: review or synthesis" in page.text


def test_kgx_edges_carry_direction_and_role(settings: Settings) -> None:
    from kg.curation.release import kgx_edges
    from kg.queries.catalog import Catalog
    from kg.store.backends import memory_store

    data = read_sources([settings.ontology_dir], settings.ontology_dir)
    text = kgx_edges(memory_store(data.quads), Catalog(settings.queries_dir))
    header, *lines = [line.split("\t") for line in text.splitlines() if not line.startswith("#")]
    rows = {
        r[header.index("id")]: (r[header.index("evidence_direction")], r[header.index("quote_role")]) for r in lines
    }
    assert rows["kgr:C003-090"] == ("scad:Refutes", "scad:ReviewOrSynthesis")
    assert rows["kgr:C002-028"] == ("scad:Supports", "scad:Marketing")
