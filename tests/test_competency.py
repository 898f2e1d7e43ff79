"""Each public competency question (../shared/cq/public.md), answered by its named query on the real graph.

The expected answers are transcribed from the competency questions, which were derived from the five articles;
they are not copied from query output. Sources are written as their three-digit prefixes.
"""

from __future__ import annotations

from collections.abc import Callable

import pyoxigraph as ox
from conftest import Rows

from kg.store.backends import run

Select = Callable[..., Rows]

HSCT = "kgr:hematopoietic-stem-cell-transplantation"
SCT = "kgr:stem-cell-transplantation"
MSC_THERAPY = "kgr:msc-therapy"


def src(curie: str) -> str:
    return curie.removeprefix("kgr:source-")


def test_cq01_transplant_indications(select: Select) -> None:
    rows = select("transplant_indications")
    got = {(r["disease"], r["therapy"], src(r["source"])) for r in rows}
    assert got == {
        ("kgr:multiple-sclerosis", HSCT, "000"),
        ("kgr:multiple-sclerosis", HSCT, "003"),
        ("kgr:multiple-sclerosis", SCT, "004"),
        ("kgr:systemic-sclerosis", HSCT, "000"),
        ("kgr:systemic-sclerosis", HSCT, "003"),
        ("kgr:lupus", HSCT, "003"),
        ("kgr:lupus", SCT, "002"),
        ("kgr:autoimmune-disease", HSCT, "000"),
        ("kgr:autoimmune-disease", HSCT, "001"),
        ("kgr:autoimmune-disease", SCT, "004"),
    }
    # 000 calls HSCT "particularly successful" for MS: asserted, not merely reported
    assert any(r["claim"] == "kgr:C000-039" and r["certainty"] == "scad:Asserted" for r in rows)


def test_cq02_diseases_studied_for_msc_therapy(select: Select) -> None:
    got = {(r["disease"], src(r["source"])) for r in select("diseases_for_therapy", therapy=MSC_THERAPY)}
    assert got == {
        ("kgr:rheumatoid-arthritis", "000"),
        ("kgr:rheumatoid-arthritis", "001"),
        ("kgr:rheumatoid-arthritis", "003"),
        ("kgr:lupus", "000"),
        ("kgr:lupus", "001"),
        ("kgr:lupus", "003"),
        ("kgr:crohns-disease", "000"),
        ("kgr:crohns-disease", "003"),
        ("kgr:multiple-sclerosis", "001"),
        ("kgr:other-inflammatory-disorders", "003"),
    }


def test_cq03_tissues_of_msc(select: Select) -> None:
    got = {
        (r["tissue"], src(r["source"])) for r in select("tissues_of_cell_type", cell_type="kgr:mesenchymal-stem-cell")
    }
    tissues = {"kgr:bone-marrow", "kgr:adipose-tissue", "kgr:umbilical-cord"}
    assert got == {(t, s) for t in tissues for s in ("000", "003")}


def test_cq07_adverse_effects_of_transplants(select: Select) -> None:
    hsct = select("adverse_effects_of_therapy", root=HSCT)
    on_hsct = {(r["effect"], src(r["source"])) for r in hsct if r["therapy"] == HSCT}
    assert on_hsct == {
        ("kgr:infection", "003"),
        ("kgr:fatigue", "003"),
        ("kgr:bleeding", "003"),
        ("kgr:infertility", "003"),
        ("kgr:chemoradiation-side-effects", "000"),
    }
    sct = select("adverse_effects_of_therapy", root=SCT)
    on_sct = {(r["effect"], src(r["source"])) for r in sct if r["therapy"] == SCT}
    assert on_sct == {
        ("kgr:infection", "004"),
        ("kgr:organ-damage", "004"),
        ("kgr:complications", "004"),
        ("kgr:graft-versus-host-disease", "004"),
    }
    # GVHD "especially in allogeneic transplants": 004 also ties it to the allogeneic variant
    assert ("kgr:allogeneic-hsct", "kgr:graft-versus-host-disease") in {(r["therapy"], r["effect"]) for r in sct}
    # every item is hedged except 000's chemotherapy/radiation statement
    unhedged = {r["effect"] for r in hsct + sct if r["certainty"] != "scad:Hedged"}
    assert unhedged == {"kgr:chemoradiation-side-effects"}


def test_cq09_transplant_steps(select: Select) -> None:
    hsct = {(r["step"], src(r["source"])) for r in select("procedure_steps", procedure=HSCT)}
    sct = {(r["step"], src(r["source"])) for r in select("procedure_steps", procedure=SCT)}
    # 1. harvest: 000, 003 (HSCT), 004 (SCT)
    assert {("kgr:stem-cell-harvesting", s) for s in ("000", "003")} <= hsct
    assert ("kgr:stem-cell-harvesting", "004") in sct
    # 2. conditioning with chemotherapy or radiation: 000 (HSCT); 004 conditioning, usually chemo or radiation
    assert {("kgr:chemotherapy", "000"), ("kgr:radiation-therapy", "000")} <= hsct
    assert {("kgr:conditioning-therapy", "004"), ("kgr:chemotherapy", "004"), ("kgr:radiation-therapy", "004")} <= sct
    # 3. re-infusion: 000, 004
    assert ("kgr:reinfusion-of-stem-cells", "000") in hsct
    assert ("kgr:reinfusion-of-stem-cells", "004") in sct
    # 4. the cells home to the marrow and regenerate the immune system (004, C004-018/019)
    mechanisms = select("evidence_for_statement", subject=SCT, predicate="scad:hasMechanism")
    assert {("kgr:homing-to-bone-marrow", "kgr:C004-018"), ("kgr:immune-reconstitution", "kgr:C004-019")} <= {
        (r["object"], r["claim"]) for r in mechanisms
    }


def test_cq11_autoimmune_diseases_by_source_count(select: Select) -> None:
    got = {r["disease"]: int(r["sources"]) for r in select("autoimmune_diseases")}
    assert got == {
        "kgr:multiple-sclerosis": 5,
        "kgr:rheumatoid-arthritis": 5,
        "kgr:lupus": 4,
        "kgr:type-1-diabetes-mellitus": 3,
        "kgr:crohns-disease": 2,
        "kgr:celiac-disease": 1,
        "kgr:psoriasis": 1,
        "kgr:guillain-barre-syndrome": 1,
    }


def test_cq12_risks_of_cord_derived_therapies(select: Select) -> None:
    cord = select("risks_by_tissue", tissue="kgr:umbilical-cord")
    assert {(r["cell"], r["therapy"], r["effect"]) for r in cord} == {
        ("kgr:mesenchymal-stem-cell", MSC_THERAPY, ""),  # no risk stated; the negated C003-066 is not a risk
    }
    blood = select("risks_by_tissue", tissue="kgr:umbilical-cord-blood")
    assert {(r["cell"], r["therapy"]) for r in blood} == {("kgr:hematopoietic-stem-cell", HSCT)}
    effects = {(r["effect"], src(r["effectSource"])) for r in blood}
    assert {
        ("kgr:infection", "003"),
        ("kgr:fatigue", "003"),
        ("kgr:bleeding", "003"),
        ("kgr:infertility", "003"),
        ("kgr:chemoradiation-side-effects", "000"),
    } <= effects
    # the allogeneic variant (cord-blood HSCs come "of a donor") brings 004's GVHD
    assert ("kgr:graft-versus-host-disease", "004") in effects


def test_cq13_mechanisms_of_lupus_therapies(select: Select) -> None:
    rows = select("mechanisms_for_disease", disease="kgr:lupus")
    got = {(r["therapy"], r["mechanism"], src(r["source"])) for r in rows}
    assert {(HSCT, "kgr:immune-reset", s) for s in ("000", "003")} <= got
    assert {(HSCT, "kgr:immunoablation", s) for s in ("000", "003")} <= got
    assert {(HSCT, "kgr:immune-reconstitution", s) for s in ("001", "003")} <= got
    assert {m for t, m, _ in got if t == SCT} == {
        "kgr:immune-reset",
        "kgr:immunoablation",
        "kgr:homing-to-bone-marrow",
        "kgr:immune-reconstitution",
        "kgr:lasting-immune-change",
    }
    assert {(m, s) for t, m, s in got if t == MSC_THERAPY} == {
        ("kgr:immunomodulation", "000"),
        ("kgr:anti-inflammation", "000"),
        ("kgr:immune-suppression", "000"),
        ("kgr:tissue-repair", "003"),
        ("kgr:restoring-immune-balance", "003"),
    }
    # only the MSC suppression claim (C000-061) is stated specifically for lupus
    assert {r["claim"] for r in rows if r["forDisease"] == "true"} == {"kgr:C000-061"}


def test_cq15_multiple_sclerosis_outcomes(select: Select) -> None:
    rows = select("outcomes_for_disease", disease="kgr:multiple-sclerosis")
    got = {(r["therapy"], r["outcome"], src(r["source"]), r["certainty"]) for r in rows}
    assert got == {
        (HSCT, "kgr:long-term-remission", "000", "scad:ReportedFinding"),
        (HSCT, "kgr:halted-disease-progression", "000", "scad:ReportedFinding"),
        (HSCT, "kgr:damage-reversal", "000", "scad:ReportedFinding"),
        (SCT, "kgr:long-term-remission", "004", "scad:Hedged"),
        (SCT, "kgr:reduced-disease-activity", "004", "scad:Hedged"),
        ("kgr:stem-cell-therapy", "kgr:halted-disease-progression", "003", "scad:ReportedFinding"),
    }


def test_cq19_sources_mentioning_infertility(select: Select) -> None:
    rows = select("sources_mentioning", entity="kgr:infertility")
    assert {src(r["source"]) for r in rows} == {"003"}


def test_cq21_promotional_sources(select: Select) -> None:
    rows = {src(r["source"]): r for r in select("promotional_sources")}
    assert set(rows) == {"000", "002", "003"}
    assert rows["000"]["isPromotional"] == "true" and rows["000"]["creator"] == "rhysmcc489"
    assert "contact us at our own website" in rows["000"]["callToAction"]
    assert rows["002"]["contentType"] == "scad:ClinicMarketing" and rows["002"]["promotes"] == "kgr:stemedix"
    assert rows["002"]["creator"] == "a medical professional at Stemedix Inc."
    assert rows["003"]["isPromotional"] == "false" and rows["003"]["promotes"] == "kgr:nestfact"


def test_cq22_statements_only_from_promotional_sources(select: Select) -> None:
    rows = select("promotional_only_statements")
    assert len(rows) == 68  # "68 of 212 distinct (subject, relation, object) triples"
    assert all(
        set(r["sources"].split()) <= {"https://w3id.org/scad/id/source-000", "https://w3id.org/scad/id/source-002"}
        for r in rows
    )
    statements = {(r["subject"], r["predicate"], r["object"]) for r in rows}
    assert (
        "kgr:hematopoietic-stem-cell",
        "scad:hasCapability",
        "kgr:hematopoiesis",
    ) in statements  # HSCs produce all blood cells
    assert (MSC_THERAPY, "scad:hasOutcome", "kgr:safety") in statements  # "safe" in initial trials
    assert ("kgr:lupus", "scad:affectsOrgan", "kgr:kidney") in statements
    assert ("kgr:celiac-disease", "scad:affectsOrgan", "kgr:small-intestine") in statements
    assert ("kgr:regenerative-medicine", "scad:offeredFor", "kgr:osteoarthritis") in statements
    assert ("kgr:rheumatoid-arthritis", "scad:affectsOrgan", "kgr:joint") in statements
    assert (MSC_THERAPY, "scad:investigatedFor", "kgr:lupus") not in statements  # also in 001 and 003


def test_cq22_distinct_statement_total(store: ox.Store) -> None:
    rows = run(
        store,
        """SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE {
            ?c a scad:Claim ; scad:subject ?s ; scad:predicate ?p ; scad:object|scad:objectLiteral ?o } }""",
    )
    assert isinstance(rows, ox.QuerySolutions)
    # 212 in the worksheet, plus 004 "SCT involves the collection of stem cells" (C004-039, added in review)
    assert int(next(iter(rows))["n"].value) == 213


def test_cq24_evidence_for_long_term_remission(select: Select) -> None:
    rows = select("evidence_for_statement", object="kgr:long-term-remission", predicate="scad:hasOutcome")
    got = {r["claim"]: r for r in rows}
    assert set(got) == {"kgr:C000-042", "kgr:C001-019", "kgr:C004-022", "kgr:C004-036", "kgr:C003-038"}
    assert (
        got["kgr:C000-042"]["quote"]
        == "Medical trials have shown that HSCT can lead to long-term remission in some patients"
    )
    assert got["kgr:C000-042"]["certainty"] == "scad:ReportedFinding" and got["kgr:C000-042"]["isPromotional"] == "true"
    assert got["kgr:C001-019"]["evidence"] == "kgr:patient-reports"
    assert {c for c, r in got.items() if r["certainty"] == "scad:Hedged"} == {
        "kgr:C004-022",
        "kgr:C004-036",
        "kgr:C003-038",
    }
    assert got["kgr:C003-038"]["subject"] == "kgr:stem-cell-therapy"  # 003 says it of stem cell therapy in general


def test_cq25_claims_attributed_to_clinical_studies(select: Select) -> None:
    got = {r["claim"] for r in select("clinical_claims")}
    expected = {f"kgr:C000-0{n}" for n in (42, 43, 44, 63, 64)}
    expected |= {f"kgr:C003-0{n}" for n in (60, 61, 62, 63, 68, 69, 70, 71, 72, 73)}
    expected |= {"kgr:C004-020"}
    # 002: "As new results from trials emerge, it’s becoming clear that stem cell therapy could be"  # noqa: RUF003
    # "the solution for treating or potentially slowing down the progression of autoimmune conditions"
    # (claimed evidence added in review, issue 13)
    expected |= {"kgr:C002-010", "kgr:C002-011"}
    assert got == expected
    assert "kgr:C001-015" not in got  # 001 only says trials are "underway"


def test_cq29_therapies_per_disease(select: Select) -> None:
    got = {r["disease"]: int(r["therapies"]) for r in select("therapies_per_disease")}
    assert got == {
        "kgr:autoimmune-disease": 4,
        "kgr:multiple-sclerosis": 3,
        "kgr:lupus": 3,
        "kgr:rheumatoid-arthritis": 1,
        "kgr:systemic-sclerosis": 1,
        "kgr:crohns-disease": 1,
        "kgr:other-inflammatory-disorders": 1,
        "kgr:diabetes-mellitus": 1,
        "kgr:osteoarthritis": 1,
        "kgr:type-1-diabetes-mellitus": 0,
        "kgr:celiac-disease": 0,
        "kgr:psoriasis": 0,
        "kgr:guillain-barre-syndrome": 0,
        "kgr:scleroderma": 0,
    }


def test_cq31_diseases_mentioned_by_most_sources(select: Select) -> None:
    rows = select("diseases_by_source_count", limit_sources="3")
    assert {r["disease"]: int(r["sources"]) for r in rows} == {
        "kgr:autoimmune-disease": 5,
        "kgr:multiple-sclerosis": 5,
        "kgr:rheumatoid-arthritis": 5,
        "kgr:lupus": 5,
        "kgr:type-1-diabetes-mellitus": 3,
    }


def test_cq34_msc_evidence_without_transplant_evidence(select: Select) -> None:
    assert {r["disease"] for r in select("msc_not_transplant")} == {
        "kgr:rheumatoid-arthritis",
        "kgr:crohns-disease",
        "kgr:other-inflammatory-disorders",
    }


def test_cq37_stem_cell_therapies_without_adverse_effects(select: Select) -> None:
    rows = select("therapies_without_adverse_effects")
    discussed = {r["therapy"] for r in rows if not r["offeredBy"]}
    assert discussed == {MSC_THERAPY, "kgr:ipsc-derived-cell-therapy", "kgr:cord-blood-stem-cell-therapy"}
    # the only other one is the commercial offering of the Stemedix advert (002)
    assert {(r["therapy"], r["offeredBy"]) for r in rows if r["offeredBy"]} == {
        ("kgr:regenerative-medicine", "kgr:stemedix")
    }


def test_cq41_outcomes_only_potential(select: Select) -> None:
    assert {r["outcome"] for r in select("potential_only_outcomes")} == {
        "kgr:pain-relief",
        "kgr:reduced-immunosuppressant-dependency",
        "kgr:reduced-disease-activity",
        "kgr:reduced-severity-of-flares",
        "kgr:repair-of-joint-damage",
        "kgr:reduced-tissue-damage",
        "kgr:slowed-disease-progression",
        "kgr:higher-treatment-success",
        "kgr:improved-quality-of-life",
        "kgr:addresses-root-cause",
        "kgr:cure",
    }


def test_cq42_outcomes_limited_to_some_or_many_patients(select: Select) -> None:
    assert {r["claim"] for r in select("outcomes_in_some_patients")} == {
        "kgr:C000-042",
        "kgr:C000-043",
        "kgr:C000-064",
        "kgr:C001-019",
        "kgr:C003-068",
        "kgr:C003-073",
    }


def test_cq44_negated_claims(select: Select) -> None:
    rows = {r["claim"]: r for r in select("negated_claims")}
    assert set(rows) == {"kgr:C003-066", "kgr:C003-090"}
    assert rows["kgr:C003-090"]["quote"] == "While it is not yet a universal cure"


def test_cq46_entities_without_identifier(select: Select) -> None:
    rows = select("entities_without_identifier")
    assert len(rows) == 44
    per_kind: dict[str, int] = {}
    for r in rows:
        per_kind[r["kind"]] = per_kind.get(r["kind"], 0) + 1
    assert per_kind == {
        "scad:Challenge": 11,
        "scad:Outcome": 19,
        "scad:Therapy": 5,
        "scad:Mechanism": 3,
        "scad:AdverseEffect": 3,
        "scad:PathologicalProcess": 1,
        "scad:Organization": 2,
    }
    therapies = {r["entity"] for r in rows if r["kind"] == "scad:Therapy"}
    assert therapies == {
        "kgr:stem-cell-harvesting",
        "kgr:regenerative-medicine",
        "kgr:stem-cell-therapy-with-immunosuppressive-drugs",
        "kgr:stem-cell-therapy-with-gene-therapy",
        "kgr:stem-cell-therapy-with-biologics",
    }


def test_cq48_spun_wording(select: Select) -> None:
    got = {(r["claim"], r["wording"], r["reading"]) for r in select("spun_wording")}
    assert got == {
        ("kgr:C000-021", "accountable for", "responsible for"),
        ("kgr:C000-027", "distinguish into", "differentiate into"),
        ("kgr:C000-039", "a number of sclerosis", "multiple sclerosis"),
        ("kgr:C000-040", "a number of sclerosis", "multiple sclerosis"),
        ("kgr:C000-042", "Medical trials", "clinical trials"),
        ("kgr:C000-047", "different to", "alternative to"),
        ("kgr:C000-050", "irritation", "inflammation"),
        ("kgr:C000-057", "doubtlessly", "potentially"),
        ("kgr:C000-064", "signs", "symptoms"),
        ("kgr:C000-066", "advanced", "complex"),
        ("kgr:C000-068", "expertise issues", "experience complications"),
        ("kgr:C000-072", "scientific trials", "clinical trials"),
    }


def test_cq50_no_claim_quotes_boilerplate(select: Select) -> None:
    assert select("boilerplate_claims") == []
    # the calls to action are kept as commercial provenance on the source records instead
    rows = {src(r["source"]): r for r in select("promotional_sources")}
    assert "visit www.nestfact.com" in rows["003"]["callToAction"]
