"""One test per mistake a curator makes, through the `kg` command as a curator runs it: the message, where it points
(path:line:col, relative to the working directory) and the exit code. Each works on a copy in tmp_path."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DATA, ROOT, SOURCES, needs_shared_sources

ONTOLOGY = ROOT / "ontology"


def kg(*args: str, cwd: Path, ontology: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KG_")}
    if ontology is not None:
        env["KG_ONTOLOGY_DIR"] = str(ontology)
    return subprocess.run(
        [sys.executable, "-m", "kg", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def git(*args: str, cwd: Path) -> None:
    subprocess.run(
        ["git", "-c", "user.name=curator", "-c", "user.email=curator@example.org", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        timeout=60,
    )


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A git repository holding a copy of ontology/, committed: the curator's working tree."""
    shutil.copytree(ONTOLOGY, tmp_path / "ontology")
    git("init", "-q", cwd=tmp_path)
    git("add", "-A", cwd=tmp_path)
    git("commit", "-q", "-m", "the graph", cwd=tmp_path)
    return tmp_path


def edit(path: Path, old: str, new: str) -> int:
    """Replace ``old`` once; return the line it was on."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) >= 1, old
    at = text.index(old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return text.count("\n", 0, at) + 1


def fixture(tmp_path: Path, name: str, old: str | None = None, new: str = "") -> Path:
    target = tmp_path / "claims.ttl"
    shutil.copy(DATA / name, target)
    if old is not None:
        edit(target, old, new)
    return target


def vocabulary(tmp_path: Path) -> list[str]:
    for name in ("scad.ttl", "shapes.ttl"):
        shutil.copy(ONTOLOGY / name, tmp_path / name)
    return ["scad.ttl", "shapes.ttl"]


def test_misspelled_prefix_iri_is_one_error_at_the_prefix(checkout: Path) -> None:
    diseases = checkout / "ontology" / "data" / "entities" / "diseases.ttl"
    line = edit(diseases, "@prefix kgr: <https://w3id.org/scad/id/>", "@prefix kgr: <https://w3id.org/scad/ids/>")
    result = kg("validate", "--no-reasoner", "ontology", cwd=checkout)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0] == (
        f"ontology/data/entities/diseases.ttl:{line}:14: error: the prefix kgr: is bound to"
        " <https://w3id.org/scad/ids/>; expected <https://w3id.org/scad/id/> (kg/namespaces.py) [prefix]"
    )
    # the flood the wrong namespace causes in other files is folded under it, not listed
    assert lines[1].startswith("  ... ") and "more most likely follow from the prefix above; fix it first" in lines[1]
    assert not any(": error: " in line for line in lines[1:])


def test_missing_semicolon_is_reported_at_the_end_of_its_line(tmp_path: Path) -> None:
    target = fixture(
        tmp_path, "minimal.ttl", 'skos:prefLabel "fixture therapy"@en ;', 'skos:prefLabel "fixture therapy"@en'
    )
    result = kg("validate", target.name, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.startswith(
        "claims.ttl:29:40: error: ';' missing at the end of this line: line 30 goes on with the same block"
    )


def test_missing_dot_is_reported_at_the_end_of_its_block(tmp_path: Path) -> None:
    target = fixture(
        tmp_path, "minimal.ttl", "scad:investigatedFor kgr:fx-disease .", "scad:investigatedFor kgr:fx-disease"
    )
    result = kg("validate", target.name, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.startswith(
        "claims.ttl:31:40: error: '.' missing at the end of this line: line 33 starts a new block"
    ), result.stdout


def test_unclosed_string_is_reported_at_its_opening_quote(tmp_path: Path) -> None:
    target = fixture(tmp_path, "minimal.ttl", '"fixture therapy"@en', '"fixture therapy@en')
    result = kg("validate", target.name, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.startswith("claims.ttl:29:20: error: this string is not closed on its line")


def test_non_verbatim_quote_points_at_the_first_different_character(tmp_path: Path) -> None:
    target = fixture(tmp_path, "minimal.ttl", "therapy is studied for", "therapy is proven for")
    result = kg("validate", "--sources", str(DATA / "sources"), *vocabulary(tmp_path), target.name, cwd=tmp_path)
    assert result.returncode == 1
    # "The fixture therapy is " is 23 characters: the 24th is where the quote leaves the source
    assert result.stdout.splitlines()[0] == (
        "claims.ttl:60:40: error: quote is not verbatim in fixture-source.txt: character 24 of the quote is 'p', the"
        " closest passage of the source has 's' there: 'The fixture therapy is studied for the fixture disease'"
        " [quote-not-verbatim] (kgr:FX-001)"
    )


def test_misspelled_entity_comes_first_with_the_nearest_name(checkout: Path) -> None:
    claims = checkout / "ontology" / "data" / "claims" / "source-003.ttl"
    text = claims.read_text(encoding="utf-8")
    old = "scad:object kgr:infection ;"
    line = text[: text.index(old)].count("\n") + 1
    edit(claims, old, "scad:object kgr:infecton ;")
    result = kg("validate", "--no-reasoner", "ontology", cwd=checkout)
    assert result.returncode == 1
    assert result.stdout.splitlines()[0] == (
        f"ontology/data/claims/source-003.ttl:{line}:17: error: kgr:infecton is used but never defined (no rdf:type"
        " in any file); did you mean kgr:infection? [undefined_iri] (kgr:infecton)"
    )


def test_duplicate_label_is_reported_at_the_entity_that_changed(checkout: Path) -> None:
    diseases = checkout / "ontology" / "data" / "entities" / "diseases.ttl"
    text = diseases.read_text(encoding="utf-8")
    # kgr:autoimmune-disease sorts before kgr:lupus: without git, the finding would be at kgr:lupus
    old = 'skos:prefLabel "autoimmune disease"@en ;'
    assert old in text and 'skos:prefLabel "lupus"@en ;' in text
    line = edit(diseases, old, 'skos:prefLabel "Lupus"@en ;')  # the label's own line; the literal is at column 20
    result = kg("validate", "--no-reasoner", "ontology", cwd=checkout)
    assert result.returncode == 1
    assert (
        f'ontology/data/entities/diseases.ttl:{line}:20: error: kgr:autoimmune-disease has the label "Lupus", which'
        " kgr:lupus has too [duplicate_label] (kgr:autoimmune-disease)"
    ) in result.stdout.splitlines()


def test_synonym_equal_to_another_label_is_a_warning(tmp_path: Path) -> None:
    target = fixture(tmp_path, "bad/synonym_is_other_label.ttl")
    result = kg("validate", *vocabulary(tmp_path), target.name, cwd=tmp_path)
    assert result.returncode == 0
    assert (
        'claims.ttl:30:19: warning: kgr:fx-therapy has the synonym "Fixture Disease", which is the preferred label of'
        " kgr:fx-disease [synonym_is_other_label] (kgr:fx-therapy)"
    ) in result.stdout.splitlines()


def test_label_without_language_tag_is_one_error(tmp_path: Path) -> None:
    target = fixture(tmp_path, "minimal.ttl", '"fixture therapy"@en', '"fixture therapy"')
    result = kg("validate", *vocabulary(tmp_path), target.name, cwd=tmp_path)
    assert result.returncode == 1
    errors = [line for line in result.stdout.splitlines() if ": error: " in line]
    assert errors == [
        'claims.ttl:29:20: error: kgr:fx-therapy has the skos:prefLabel "fixture therapy" without a language tag;'
        ' write "fixture therapy"@en [label_without_language] (kgr:fx-therapy)'
    ]


def test_unchecked_quotes_are_named(tmp_path: Path) -> None:
    target = fixture(tmp_path, "minimal.ttl")
    result = kg("validate", *vocabulary(tmp_path), target.name, cwd=tmp_path)
    assert result.returncode == 0
    assert "note: quotes not checked: pass --sources or set the sources setting (KG_SOURCES_DIR)" in result.stdout
    assert "ok: 0 error(s)" in result.stdout and result.stderr == ""  # piped: no spinner, no escape codes


def test_comment_before_and_inside_a_block_is_kept(tmp_path: Path) -> None:
    target = fixture(
        tmp_path, "minimal.ttl", "kgr:fx-therapy\n", "# TODO: which trial?\nkgr:fx-therapy  # the HSCT stand-in\n"
    )
    edit(
        target,
        "    scad:investigatedFor kgr:fx-disease .",
        "    # from the second paragraph\n    scad:investigatedFor kgr:fx-disease .",
    )
    result = kg("format", target.name, cwd=tmp_path)
    assert result.returncode == 0 and "reformatted claims.ttl" in result.stdout
    text = target.read_text(encoding="utf-8")
    assert "# TODO: which trial?\nkgr:fx-therapy\n    # the HSCT stand-in\n    a scad:StemCellTherapy ;\n" in text
    assert "    # from the second paragraph\n    scad:investigatedFor kgr:fx-disease .\n" in text
    assert kg("format", "--check", target.name, cwd=tmp_path).returncode == 0


def test_comment_that_cannot_be_kept_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "claims.ttl"
    target.write_text('[ <http://e/p> "x" ;\n  # about a blank node\n] .\n', encoding="utf-8")
    before = target.read_bytes()
    result = kg("format", target.name, cwd=tmp_path)
    assert result.returncode == 1
    assert "claims.ttl:2:3: error: a comment in a block whose subject is a blank node cannot be kept" in result.stderr
    assert target.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["claims.ttl"]


def test_single_file_is_checked_in_the_whole_graph(checkout: Path) -> None:
    claims = checkout / "ontology" / "data" / "claims" / "source-003.ttl"
    alone = kg(
        "validate", "--no-reasoner", str(claims.relative_to(checkout)), cwd=checkout, ontology=checkout / "ontology"
    )
    assert alone.returncode == 0, alone.stdout
    assert "ok: 0 error(s)" in alone.stderr + alone.stdout
    edit(claims, "scad:object kgr:infection ;", "scad:object kgr:infecton ;")
    other = checkout / "ontology" / "data" / "entities" / "diseases.ttl"
    edit(other, 'skos:prefLabel "autoimmune disease"@en ;', 'skos:prefLabel "Lupus"@en ;')
    result = kg(
        "validate", "--no-reasoner", str(claims.relative_to(checkout)), cwd=checkout, ontology=checkout / "ontology"
    )
    assert result.returncode == 1
    located = [line for line in result.stdout.splitlines() if ": error: " in line or ": warning: " in line]
    assert located and all(line.startswith("ontology/data/claims/source-003.ttl:") for line in located)
    assert "did you mean kgr:infection?" in located[0]


def test_release_refuses_uncommitted_changes(checkout: Path, tmp_path: Path) -> None:
    needs_shared_sources()
    edit(
        checkout / "ontology" / "data" / "entities" / "diseases.ttl", "@en ;", '@en ;\n    skos:editorialNote "x"@en ;'
    )
    dist = checkout / "dist"
    refused = kg("release", "--sources", str(SOURCES), "-o", "dist", cwd=checkout, ontology=checkout / "ontology")
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        "kg: uncommitted changes under ontology (ontology/data/entities/diseases.ttl); commit them, or pass --allow-dirty"
    )
    assert not dist.exists()
    allowed = kg(
        "release",
        "--sources",
        str(SOURCES),
        "-o",
        "dist",
        "--allow-dirty",
        cwd=checkout,
        ontology=checkout / "ontology",
    )
    assert allowed.returncode == 0, allowed.stderr
    manifest = json.loads((dist / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["allow_dirty"] is True and manifest["uncommitted"] == ["ontology/data/entities/diseases.ttl"]


def test_release_refuses_a_bad_quote(checkout: Path) -> None:
    needs_shared_sources()
    claims = checkout / "ontology" / "data" / "claims" / "source-003.ttl"
    line = edit(claims, '"Potential side effects, especially', '"Possible side effects, especially')
    git("commit", "-q", "-am", "a quote from memory", cwd=checkout)
    result = kg("release", "--sources", str(SOURCES), "-o", "dist", cwd=checkout, ontology=checkout / "ontology")
    assert result.returncode == 1
    assert result.stdout.startswith(
        f"ontology/data/claims/source-003.ttl:{line}:19: error: quote is not verbatim in 003_67871ac22aa9094a.txt:"
        " character 3 of"
        " the quote is 's', the closest passage of the source has 't' there"
    ), result.stdout
    assert "kg: not releasing files that do not validate" in result.stderr
    assert not (checkout / "dist").exists()


def test_release_needs_the_sources(checkout: Path) -> None:
    result = kg("release", "-o", "dist", cwd=checkout, ontology=checkout / "ontology")
    assert result.returncode == 2
    assert "a release checks every quote: pass --sources DIR or set KG_SOURCES_DIR" in result.stderr
