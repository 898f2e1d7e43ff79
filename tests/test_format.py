"""`kg format`: canonical, deterministic, idempotent Turtle that keeps every triple."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import DATA, ROOT
from rdflib.compare import isomorphic

from kg.curation.formatting import canonical, format_paths
from kg.curation.validate import to_rdflib
from kg.rdf.dataset import turtle_files

ONTOLOGY_FILES = turtle_files([ROOT / "ontology"])


def parse(text: str) -> list[ox.Triple]:
    return list(ox.parse(text.encode("utf-8"), format=ox.RdfFormat.TURTLE))


@pytest.mark.parametrize("path", ONTOLOGY_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_ontology_file_is_canonical_and_round_trips(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    formatted = canonical(text)
    assert formatted == text, f"{path} is not in canonical form; run `kg format`"
    assert isomorphic(to_rdflib(parse(text)), to_rdflib(parse(formatted)))


def test_format_is_idempotent_on_a_messy_file() -> None:
    messy = (
        "@prefix ex: <https://w3id.org/scad/id/> . @prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n"
        'ex:b skos:prefLabel "B"@en ; ex:p ex:a , ex:c . ex:a ex:list ( ex:x "y" 3 true ) ;\n'
        '  ex:nested [ ex:q """multi\nline with a \\" quote""" ] . _:shared ex:p ex:a .\n'
        "ex:b ex:r _:shared . ex:c ex:r _:shared ."
    )
    once = canonical(messy)
    assert canonical(once) == once
    assert isomorphic(to_rdflib(parse(messy)), to_rdflib(parse(once)))
    assert once.index("\nkgr:a\n") < once.index("\nkgr:b\n")  # subjects sorted, written with the project's prefixes
    assert "_:b0" in once and "shared" not in once  # a shared blank node gets a label from its content


def test_check_mode_reports_without_writing(tmp_path: Path) -> None:
    target = tmp_path / "x.ttl"
    original = '@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n<http://e/a> skos:prefLabel "a" .\n'
    target.write_text(original, encoding="utf-8")
    (result,) = format_paths([target], check=True)
    assert result.changed and result.error is None
    assert target.read_text(encoding="utf-8") == original
    (result,) = format_paths([target], check=False)
    assert result.changed
    assert target.read_text(encoding="utf-8") == canonical(original)
    (result,) = format_paths([target], check=True)
    assert not result.changed


def test_never_rewrites_a_file_that_does_not_parse(tmp_path: Path) -> None:
    broken = tmp_path / "broken.ttl"
    shutil.copy(DATA / "bad" / "syntax_missing_dot.ttl", broken)
    before = broken.read_bytes()
    (result,) = format_paths([broken], check=False)
    assert result.error is not None and result.error.line == 14 and not result.changed
    assert broken.read_bytes() == before
    assert list(tmp_path.iterdir()) == [broken]  # no temporary file left behind
