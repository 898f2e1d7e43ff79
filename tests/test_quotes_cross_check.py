"""Every quote, confirmed by a second judge: linkml-reference-validator reads the source texts as local ``file:``
references (offline) and must find each claim's quote in its source, so `kg validate`'s own check is not the only one.

The claims are read here with pyoxigraph and SPARQL written in this file, not with the project's quote query."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
from conftest import DATA, ROOT, SOURCES, needs_shared_sources
from linkml_reference_validator.models import ReferenceValidationConfig
from linkml_reference_validator.validation.supporting_text_validator import SupportingTextValidator

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
CLAIM = "https://w3id.org/scad/ontology#Claim"
QUOTES = """
PREFIX scad: <https://w3id.org/scad/ontology#>
SELECT ?claim ?quote ?file WHERE { ?claim scad:quote ?quote ; scad:statedIn ?s . ?s scad:fileName ?file }
"""


def quotes(files: list[Path]) -> list[tuple[str, str, str]]:
    store = ox.Store()
    for path in files:
        store.load(path=str(path), format=ox.RdfFormat.TURTLE)
    rows = store.query(QUOTES)
    assert isinstance(rows, ox.QuerySolutions)
    return [(r["claim"].value, r["quote"].value, r["file"].value) for r in rows]


def validator(tmp_path: Path) -> SupportingTextValidator:
    return SupportingTextValidator(ReferenceValidationConfig(cache_dir=tmp_path / "cache"))


def test_every_quote_of_the_graph_is_found_by_linkml_reference_validator(tmp_path: Path) -> None:
    needs_shared_sources()
    found = quotes(sorted((ROOT / "ontology").rglob("*.ttl")))
    claims = ox.Store()
    for path in (ROOT / "ontology").rglob("*.ttl"):
        claims.load(path=str(path), format=ox.RdfFormat.TURTLE)
    every_claim = {q.subject.value for q in claims.quads_for_pattern(None, ox.NamedNode(RDF_TYPE), ox.NamedNode(CLAIM))}
    assert every_claim and {claim for claim, _, _ in found} == every_claim  # every claim has its quote checked
    check = validator(tmp_path)
    failed = [
        (claim, result.message)
        for claim, quote, file in found
        if not (result := check.validate(quote, f"file:{SOURCES / file}")).is_valid
    ]
    assert failed == []


def test_the_second_judge_rejects_a_quote_that_is_not_in_the_source(tmp_path: Path) -> None:
    check = validator(tmp_path)
    source = f"file:{DATA / 'sources' / 'fixture-source.txt'}"
    ((_, good, _),) = quotes([DATA / "minimal.ttl"])
    ((_, bad, _),) = quotes([DATA / "bad" / "quote_not_verbatim.ttl"])
    assert check.validate(good, source).is_valid
    assert not check.validate(bad, source).is_valid
