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
from conftest import DATA, ROOT

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
def small(tmp_path: Path) -> Path:
    """The same, for a small graph (the vocabulary, the minimal fixture's entities and its claim in two files), so
    each mistake costs a second, not the whole graph's validation; its source text is tests/data/sources."""
    ontology = tmp_path / "ontology"
    (ontology / "data").mkdir(parents=True)
    vocabulary(ontology)
    text = (DATA / "minimal.ttl").read_text(encoding="utf-8")
    head, _, body = text.partition("\n\n")
    blocks = body.split("\n\n")
    claims = [b for b in blocks if b.startswith(("kgr:FX-", "kgr:fx-source\n"))]
    entities = [b for b in blocks if b not in claims]
    (ontology / "data" / "entities.ttl").write_text(head + "\n\n" + "\n\n".join(entities) + "\n", encoding="utf-8")
    (ontology / "data" / "claims.ttl").write_text(head + "\n\n" + "\n\n".join(claims), encoding="utf-8")
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


def test_misspelled_prefix_iri_is_one_error_at_the_prefix(small: Path) -> None:
    entities = small / "ontology" / "data" / "entities.ttl"
    line = edit(entities, "@prefix kgr: <https://w3id.org/scad/id/>", "@prefix kgr: <https://w3id.org/scad/idd/>")
    result = kg("validate", "--no-reasoner", "ontology", cwd=small)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0] == (
        f"ontology/data/entities.ttl:{line}:14: error: the prefix kgr: is bound to <https://w3id.org/scad/idd/>;"
        " expected <https://w3id.org/scad/id/> (kg/namespaces.py) [prefix]"
    )
    # the flood the wrong namespace causes in the other file (the claim's subject and object are now undefined) is
    # folded under it, not listed
    assert lines[1].startswith("  ... ") and "more most likely follow from the prefix above; fix it first" in lines[1]
    assert not any(": error: " in line for line in lines[1:])
    listed = kg("validate", "--no-reasoner", "--all", "ontology", cwd=small).stdout
    assert "  ontology/data/claims.ttl:" in listed and "kgr:fx-therapy is used but never defined" in listed


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


def test_misspelled_entity_comes_first_with_the_nearest_name(small: Path) -> None:
    claims = small / "ontology" / "data" / "claims.ttl"
    line = edit(claims, "scad:object kgr:fx-disease ;", "scad:object kgr:fx-diseas ;")
    result = kg("validate", "--no-reasoner", "ontology", cwd=small)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0] == (
        f"ontology/data/claims.ttl:{line}:17: error: kgr:fx-diseas is used but never defined (no rdf:type in any"
        " file); did you mean kgr:fx-disease? [undefined_iri] (kgr:fx-diseas)"
    )
    assert any("not in the range of scad:investigatedFor" in x for x in lines[1:])  # its consequences come after


def test_duplicate_label_is_reported_at_the_entity_that_changed(small: Path) -> None:
    entities = small / "ontology" / "data" / "entities.ttl"
    # kgr:fx-disease sorts before kgr:fx-therapy: without git, the finding would be at kgr:fx-therapy
    line = edit(entities, 'skos:prefLabel "fixture disease"@en ;', 'skos:prefLabel "Fixture Therapy"@en ;')
    result = kg("validate", "--no-reasoner", "ontology", cwd=small)
    assert result.returncode == 1
    assert result.stdout.splitlines()[0] == (
        f'ontology/data/entities.ttl:{line}:20: error: kgr:fx-disease has the label "Fixture Therapy", which'
        " kgr:fx-therapy has too [duplicate_label] (kgr:fx-disease)"
    )


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


def test_single_file_is_checked_in_the_whole_graph(small: Path) -> None:
    # one file of the real graph, alone: no false errors about what other files define
    alone = kg("validate", "--no-reasoner", "ontology/data/claims/source-003.ttl", cwd=ROOT)
    assert alone.returncode == 0, alone.stdout
    assert "ok: 0 error(s), 0 warning(s)" in alone.stdout
    # a mistake in each file of the small graph: validating one file reports its own, and only its own
    claims = small / "ontology" / "data" / "claims.ttl"
    line = edit(claims, "scad:object kgr:fx-disease ;", "scad:object kgr:fx-diseas ;")
    edit(small / "ontology" / "data" / "entities.ttl", '"fixture disease"@en', '"Fixture Therapy"@en')
    result = kg("validate", "--no-reasoner", "ontology/data/claims.ttl", cwd=small, ontology=small / "ontology")
    assert result.returncode == 1
    located = [x for x in result.stdout.splitlines() if ": error: " in x or ": warning: " in x]
    assert located[0].startswith(f"ontology/data/claims.ttl:{line}:17: error: kgr:fx-diseas is used but never")
    assert all(x.startswith("ontology/data/claims.ttl:") for x in located)
    everything = kg("validate", "--no-reasoner", "ontology", cwd=small).stdout
    assert "ontology/data/entities.ttl:" in everything  # the other file's mistake is there, for the whole graph
    # a file that does not parse stops the whole graph's checks: it is reported, not hidden behind "ok"
    broken = edit(small / "ontology" / "data" / "entities.ttl", "kgr:fx-disease .", "kgr:fx-disease")
    stopped = kg("validate", "ontology/data/claims.ttl", cwd=small, ontology=small / "ontology")
    assert stopped.returncode == 1
    assert stopped.stdout.startswith(f"ontology/data/entities.ttl:{broken}:")


def test_release_refuses_uncommitted_changes(small: Path) -> None:
    edit(small / "ontology" / "data" / "entities.ttl", "@en ;", '@en ;\n    skos:editorialNote "x"@en ;')
    sources = str(DATA / "sources")
    refused = kg("release", "--sources", sources, "-o", "dist", cwd=small, ontology=small / "ontology")
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        "kg: uncommitted changes under ontology (ontology/data/entities.ttl); commit them, or pass --allow-dirty"
    )
    assert not (small / "dist").exists()
    allowed = kg("release", "--sources", sources, "-o", "dist", "--allow-dirty", cwd=small, ontology=small / "ontology")
    assert allowed.returncode == 0, allowed.stderr
    assert allowed.stdout.splitlines()[-1].endswith(" (uncommitted changes, --allow-dirty)")
    manifest = json.loads((small / "dist" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["allow_dirty"] is True and manifest["uncommitted"] == ["ontology/data/entities.ttl"]
    assert manifest["quotes_checked"] is True


def test_release_refuses_a_bad_quote(small: Path) -> None:
    claims = small / "ontology" / "data" / "claims.ttl"
    line = edit(claims, "therapy is studied for", "therapy is proven for")
    git("commit", "-q", "-am", "a quote from memory", cwd=small)
    sources = str(DATA / "sources")
    result = kg("release", "--sources", sources, "-o", "dist", cwd=small, ontology=small / "ontology")
    assert result.returncode == 1
    assert result.stdout.startswith(
        f"ontology/data/claims.ttl:{line}:40: error: quote is not verbatim in fixture-source.txt: character 24 of the"
        " quote is 'p', the closest passage of the source has 's' there"
    ), result.stdout
    assert "kg: not releasing files that do not validate" in result.stderr
    assert not (small / "dist").exists()


def test_release_needs_the_sources(small: Path) -> None:
    result = kg("release", "-o", "dist", cwd=small, ontology=small / "ontology")
    assert result.returncode == 2
    assert "a release checks every quote: pass --sources DIR or set KG_SOURCES_DIR" in result.stderr
