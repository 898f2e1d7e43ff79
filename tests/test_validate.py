"""`kg validate`: the repository is clean, and each failure mode has a fixture that gives a clear finding."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DATA, ROOT, SOURCES, needs_shared_sources

from kg.curation.validate import Options, validate
from kg.report import Severity
from kg.settings import Settings

ONTOLOGY = [ROOT / "ontology" / "scad.ttl", ROOT / "ontology" / "shapes.ttl"]


def options(settings: Settings, sources: Path | None = None) -> Options:
    return Options(settings.queries_dir, sources_dir=sources)


def kg(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kg", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_repository_validates_with_sources() -> None:
    needs_shared_sources()
    result = kg("validate", "--sources", str(SOURCES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok: 0 error(s)" in result.stdout


def test_repository_warnings_are_only_missing_identifiers(settings: Settings) -> None:
    report = validate([settings.ontology_dir], options(settings), settings.ontology_dir)
    assert report.ok, [f.text() for f in report.errors]
    # 44 entities have no identifier at all; rejection has only an unverified one, which is never asserted
    assert {f.rule for f in report.warnings} == {"scadsh:Entity-identifier"}
    assert len(report.warnings) == 45


def test_minimal_fixture_is_clean(settings: Settings) -> None:
    report = validate([*ONTOLOGY, DATA / "minimal.ttl"], options(settings, DATA / "sources"))
    assert report.findings == []


# fixture -> (rule, severity, words of the message, line of the finding)
CASES = {
    "syntax_missing_dot": ("syntax", Severity.ERROR, "'.' missing at the end of this line: line 14 starts a new", 12),
    "syntax_unknown_prefix": ("syntax", Severity.ERROR, "The prefix scadx: has not been declared", 61),
    "claim_without_quote": ("scadsh:Claim-quote", Severity.ERROR, "exactly one verbatim scad:quote", 54),
    "claim_bad_certainty": ("scadsh:Claim-certainty", Severity.ERROR, "exactly one certainty", 54),
    "claim_without_quote_role": ("scadsh:Claim-quoteRole", Severity.ERROR, "exactly one scad:quoteRole", 54),
    "claim_direction": ("claim_direction", Severity.ERROR, "has scad:negated true but the direction scad:Supports", 54),
    "claim_object_and_literal": ("scadsh:ClaimShape", Severity.ERROR, "either an object", 54),
    "source_without_title": ("scadsh:SourceShape", Severity.ERROR, "exactly one dcterms:title", 7),
    "entity_without_label": ("scadsh:Entity-prefLabel", Severity.ERROR, "exactly one English skos:prefLabel", 14),
    "identifier_pattern": ("scadsh:Disease-identifiers", Severity.ERROR, "a disease maps to MONDO, NCIT or MeSH", 14),
    "undefined_iri": ("undefined_iri", Severity.ERROR, "kgr:fx-diseas is used but never defined", 58),
    "duplicate_label": (
        "duplicate_label",
        Severity.ERROR,
        'the label "Fixture Disease", which kgr:fx-disease has too',
        29,
    ),
    "summary_without_claim": ("summary_without_claim", Severity.ERROR, "scad:consideredFor kgr:fx-disease has no", 27),
    "claim_subject_domain": ("claim_subject_domain", Severity.ERROR, "not in the domain of scad:investigatedFor", 54),
    "claim_object_range": ("claim_object_range", Severity.ERROR, "not in the range of scad:investigatedFor", 54),
    "claim_unknown_predicate": ("claim_unknown_predicate", Severity.ERROR, "scad:hasPrevalence is not a relation", 54),
    "hedge_without_cue": ("hedge_without_cue", Severity.WARNING, "scad:Hedged but names no scad:hedgeCue", 54),
    "promotional_flag": ("promotional_flag", Severity.ERROR, "scad:ClinicMarketing but scad:isPromotional false", 7),
    "unverified_match_asserted": (
        "unverified_match_asserted",
        Severity.ERROR,
        "unverified identifier obo:MONDO_0000001",
        19,
    ),
    "verified_mapping_without_source": ("verified_mapping_without_source", Severity.ERROR, "no scad:verifiedIn", 19),
    "mapping_without_record": (
        "mapping_without_record",
        Severity.ERROR,
        "obo:NCIT_C0001 has no scad:Mapping record",
        27,
    ),
    "verified_mapping_not_asserted": ("verified_mapping_not_asserted", Severity.ERROR, "is not asserted", 32),
    "broader_cycle": ("broader_cycle", Severity.ERROR, "broader than itself", 14),
    "broader_across_kinds": ("broader_across_kinds", Severity.ERROR, "links it to kgr:fx-disease, which is not", 27),
    "spun_wording": ("spun_wording", Severity.ERROR, 'spun wording "fixture illness" does not occur in the quote', 54),
    "unused_entity": ("unused_entity", Severity.WARNING, "kgr:fx-orphan is used by no claim", 41),
    "source_without_claims": ("source_without_claims", Severity.WARNING, "kgr:fx-source-2 has no claims", 14),
    "term_without_label": ("term_without_label", Severity.ERROR, "scad:fixtureProperty has no skos:definition", 65),
    "disjoint_classes": ("owl-consistency", Severity.ERROR, "Disjoint classes scad:Disease and scad:Therapy", 14),
    "quote_not_verbatim": (
        "quote-not-verbatim",
        Severity.ERROR,
        "quote is not verbatim in fixture-source.txt: character 24 of the quote is 'p', the closest passage of the"
        " source has 's' there: 'The fixture therapy is studied for the fixture disease'",
        60,
    ),
    "label_without_language": (
        "label_without_language",
        Severity.ERROR,
        'kgr:fx-therapy has the skos:prefLabel "fixture therapy" without a language tag; write "fixture therapy"@en',
        29,
    ),
    "synonym_is_other_label": (
        "synonym_is_other_label",
        Severity.WARNING,
        'kgr:fx-therapy has the synonym "Fixture Disease", which is the preferred label of kgr:fx-disease',
        30,
    ),
    "prefix_misspelled": (
        "prefix",
        Severity.ERROR,
        "the prefix kgr: is bound to <https://w3id.org/scad/idd/>; expected <https://w3id.org/scad/id/>",
        2,
    ),
    "quote_anchor_offset": ("quote-anchor", Severity.ERROR, "characters 39-93 of fixture-source.txt are", 56),
    "duplicate_definition": ("duplicate_definition", Severity.ERROR, "kgr:fx-disease is defined in", 6),
    "curator_across_kinds": (
        "curator_across_kinds",
        Severity.ERROR,
        "to kgr:fx-disease, which is not a scad:Therapy",
        82,
    ),
    "curator_restates_claim": ("curator_restates_claim", Severity.ERROR, "restates kgr:FX-001 of a source", 82),
    "curator_without_rationale": ("scadsh:CuratorAssertionShape", Severity.ERROR, "exactly one scad:rationale", 82),
}
# fixtures that only make sense beside the valid minimal graph
COMPANIONS = {"duplicate_definition": [DATA / "minimal.ttl"]}


def test_every_bad_fixture_has_a_case() -> None:
    assert {p.stem for p in (DATA / "bad").glob("*.ttl")} == set(CASES)


def test_every_quality_rule_has_a_failing_fixture(settings: Settings) -> None:
    rules = {p.stem for p in settings.checks_dir.glob("*.rq")}
    covered = {rule for rule, *_ in CASES.values()}
    assert rules - covered == set()


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_fixture_gives_its_finding(settings: Settings, name: str) -> None:
    rule, severity, words, line = CASES[name]
    path = DATA / "bad" / f"{name}.ttl"
    report = validate([*ONTOLOGY, path, *COMPANIONS.get(name, [])], options(settings, DATA / "sources"))
    matches = [f for f in report.findings if f.rule == rule and words in f.message]
    assert matches, [f.text() for f in report.findings]
    finding = matches[0]
    assert finding.severity is severity
    assert finding.file == path and finding.line == line, finding.text()
    assert report.ok is (severity is Severity.WARNING)


def test_syntax_errors_are_reported_for_every_file_with_column() -> None:
    bad = DATA / "bad"
    result = kg("validate", str(bad / "syntax_missing_dot.ttl"), str(bad / "syntax_unknown_prefix.ttl"))
    assert result.returncode == 1
    # paths are shown relative to the working directory, like a compiler's
    assert "tests/data/bad/syntax_missing_dot.ttl:12:29: error: '.' missing at the end of this line" in result.stdout
    assert (
        "tests/data/bad/syntax_unknown_prefix.ttl:61:20: error: The prefix scadx: has not been declared"
        in result.stdout
    )


def test_json_output_for_tools() -> None:
    path = DATA / "bad" / "duplicate_label.ttl"
    result = kg("validate", "--format", "json", *map(str, ONTOLOGY), str(path))
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False and report["errors"] == 1
    (finding,) = report["findings"]
    assert finding["rule"] == "duplicate_label" and finding["file"] == str(path) and finding["line"] == 29
    assert finding["focus"] == "kgr:fx-therapy"


def test_usage_and_io_problems_exit_2(tmp_path: Path) -> None:
    missing = kg("validate", str(tmp_path / "nowhere.ttl"))
    assert missing.returncode == 2 and "no such file or directory" in missing.stderr
    not_dir = kg("validate", "--sources", str(tmp_path / "nothing"))
    assert not_dir.returncode == 2 and "not a directory" in not_dir.stderr
    binary = tmp_path / "binary.ttl"
    binary.write_bytes(b"\xff\xfe\x00bad")
    unreadable = kg("validate", str(binary))
    assert unreadable.returncode == 2 and "cannot be read as UTF-8" in unreadable.stderr


def test_summary_file_out_of_date_is_an_error(settings: Settings, tmp_path: Path) -> None:
    text = (settings.ontology_dir / "data" / "summary.ttl").read_text(encoding="utf-8")
    line = "kgr:lupus\n    a"  # not in the file: remove one derived triple instead
    assert line not in text
    target = "    scad:investigatedFor kgr:lupus ;\n"
    assert target in text
    copy = tmp_path / "ontology"
    import shutil

    shutil.copytree(settings.ontology_dir, copy)
    (copy / "data" / "summary.ttl").write_text(text.replace(target, "", 1), encoding="utf-8")
    report = validate([copy], options(settings), copy)
    assert [f.rule for f in report.errors] == ["summary-out-of-date"]
    assert "scad:investigatedFor kgr:lupus" in report.errors[0].message and "kg derive" in report.errors[0].message
