"""`kg format`: canonical, deterministic, idempotent Turtle that keeps every triple."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from conftest import DATA, ROOT
from rdflib.compare import isomorphic

from kg.curation.formatting import canonical, format_paths
from kg.curation.validate import to_rdflib
from kg.rdf.dataset import read_sources, turtle_files

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
    assert result.error is not None and result.error.line == 12 and not result.changed
    assert broken.read_bytes() == before
    assert list(tmp_path.iterdir()) == [broken]  # no temporary file left behind


# every fixture that parses (the syntax_* ones are for the parser; prefix_misspelled binds kgr: to another namespace,
# so its subjects are written as full IRIs and the block names below do not apply: its comments are kept all the same)
FIXTURES = [
    p
    for p in [*ONTOLOGY_FILES, *turtle_files([DATA])]
    if not p.name.startswith("syntax_") and p.name != "prefix_misspelled.ttl"
]


def _with_comments(text: str) -> tuple[str, dict[str, str]]:
    """The text with a comment before every block and after every predicate line; each comment names its block."""
    lines, where, subject, n = [], {}, "", 0
    in_long_string = False  # a line inside a string that spans lines (quote anchors' prefixes) is text, not Turtle
    for line in text.splitlines():
        was_in_long_string = in_long_string
        in_long_string ^= line.count('"""') % 2 == 1
        if was_in_long_string:
            lines.append(line)
            continue
        starts_block = line[:1] not in ("", " ", "#", "@", "[", "_", ")", "]") and not line.upper().startswith("PREFIX")
        if starts_block:
            subject = line.split()[0]
            n += 1
            lines.append(f"# before {n}")
            where[f"# before {n}"] = subject
        elif line.startswith("["):
            subject = ""  # a comment in a blank-node block is refused (test below)
        lines.append(line)
        if subject and line.startswith("    ") and line.endswith(" ;") and not in_long_string:
            n += 1
            lines[-1] = f"{line}  # trailing {n}"
            where[f"# trailing {n}"] = subject
            n += 1
            lines.append(f"    # inside {n}")
            where[f"# inside {n}"] = subject
    return "\n".join(lines) + "\n", where


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_comment_is_kept_with_its_block(path: Path) -> None:
    commented, where = _with_comments(path.read_text(encoding="utf-8"))
    if not where:
        pytest.skip("no block to comment")
    formatted = canonical(commented)
    assert canonical(formatted) == formatted  # idempotent with comments too
    assert isomorphic(to_rdflib(parse(commented)), to_rdflib(parse(formatted)))
    out = formatted.splitlines()
    starts, in_long_string = set(), False
    for j, line in enumerate(out):
        if not in_long_string and line and line[0] not in " #":
            starts.add(j)
        in_long_string ^= line.count('"""') % 2 == 1
    for comment, subject in where.items():
        found = [i for i, line in enumerate(out) if line.strip() == comment]
        assert len(found) == 1, comment  # every comment once: the multiset of comment texts is unchanged
        # the comment is in its block: the nearest block start at or after a leading comment, before an inner one
        i = found[0]
        if comment.startswith("# before"):
            after = next(line for line in out[i:] if not line.startswith("#"))
            assert after == subject, (comment, after)
        else:
            start = max(j for j in range(i) if j in starts)
            assert out[start] == subject, (comment, out[start])


def test_comment_before_and_inside_a_block_moves_with_it(tmp_path: Path) -> None:
    target = tmp_path / "x.ttl"
    target.write_text(
        "@prefix kgr: <https://w3id.org/scad/id/> .\n@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n"
        '# TODO: check the MONDO identifier\nkgr:zeta skos:prefLabel "zeta"@en ;\n'
        '    # the synonym is from source 003\n    skos:altLabel "z"@en .\n'
        'kgr:alpha skos:prefLabel "alpha # not a comment"@en .\n',
        encoding="utf-8",
    )
    (result,) = format_paths([target], check=False)
    assert result.changed and result.error is None
    assert target.read_text(encoding="utf-8").endswith(
        'kgr:alpha\n    skos:prefLabel "alpha # not a comment"@en .\n\n'
        "# TODO: check the MONDO identifier\nkgr:zeta\n"
        '    skos:prefLabel "zeta"@en ;\n    # the synonym is from source 003\n    skos:altLabel "z"@en .\n'
    )


def test_a_comment_that_cannot_be_kept_is_refused_at_its_place(tmp_path: Path) -> None:
    target = tmp_path / "x.ttl"
    original = (
        "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n"
        '<http://e/b> skos:prefLabel "b" .\n[ skos:prefLabel "blank" ;\n   # about the blank node\n] .\n'
    )
    target.write_text(original, encoding="utf-8")
    (result,) = format_paths([target], check=False)
    assert result.error is not None and not result.changed
    assert (result.error.line, result.error.column) == (4, 4)
    assert "subject is a blank node" in result.error.message
    assert target.read_text(encoding="utf-8") == original
    assert list(tmp_path.iterdir()) == [target]


def test_mode_and_symlink_are_kept(tmp_path: Path) -> None:
    real = tmp_path / "real.ttl"
    real.write_text('<http://e/b> <http://e/p> "b" .  <http://e/a> <http://e/p> "a" .\n', encoding="utf-8")
    real.chmod(0o664)
    link = tmp_path / "link.ttl"
    link.symlink_to(real)
    (result,) = format_paths([link], check=False)
    assert result.changed and result.error is None
    assert link.is_symlink() and link.resolve() == real
    assert real.read_text(encoding="utf-8") == canonical(
        '<http://e/b> <http://e/p> "b" . <http://e/a> <http://e/p> "a" .'
    )
    assert real.stat().st_mode & 0o777 == 0o664
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.ttl", "real.ttl"]


def test_a_hash_in_a_string_or_iri_is_not_a_comment_and_header_comments_stay_on_top() -> None:
    text = (
        "# the file's header\nPREFIX kgr: <https://w3id.org/scad/id/>\n"
        "@prefix skos: <http://www.w3.org/2004/02/skos/core#> . # beside a directive\n"
        'kgr:a skos:note """two "lines" # not a comment\nend""" , \'single # no\' ; # beside a note\n'
        '  <http://e/p#frag> "x" ; skos:related [ skos:note "x" ; # in a nested block\n  skos:note "y" ] .\n'
        "# the file's end\n"
    )
    formatted = canonical(text)
    assert formatted.startswith("# the file's header\n# beside a directive\n\n@prefix kgr:")
    assert formatted.endswith("    ] .\n\n# the file's end\n")
    assert '    # beside a note\n    skos:note """two \\"lines\\" # not a comment\nend""" ;\n' in formatted
    assert "    # in a nested block\n    skos:related [\n" in formatted
    assert canonical(formatted) == formatted


def _rdflib_values(path: Path) -> set[str]:
    """The literal values rdflib's own Turtle parser reads from the file's bytes (an oracle apart from pyoxigraph
    and from this project's reading of the file)."""
    graph = rdflib.Graph()
    graph.parse(source=str(path), format="turtle")
    return {str(o) for o in graph.objects() if isinstance(o, rdflib.Literal)}


def test_carriage_returns_a_curator_wrote_are_kept(tmp_path: Path) -> None:
    """A file with CRLF line ends and a multi-line literal (its line breaks are CRLF too, and part of the value), a
    lone escaped CR, and comments: formatting keeps every character of every value, and formats to a fixed point."""
    target = tmp_path / "windows.ttl"
    target.write_bytes(
        b"@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\r\n"
        b"# the header\r\n"
        b'<https://w3id.org/scad/id/a> skos:definition """line one\r\nline two""" ; # after code\r\n'
        b'  skos:note "x\\ry" .\r\n'
    )
    expected = _rdflib_values(target)
    assert expected == {"line one\r\nline two", "x\ry"}
    (result,) = format_paths([target], check=False)
    assert result.changed and result.error is None
    assert _rdflib_values(target) == expected
    formatted = target.read_bytes()
    assert b"\r" not in formatted  # every CR written as \r: no editor or git setting can fold it into a LF
    assert b"# the header" in formatted and b"# after code" in formatted
    (again,) = format_paths([target], check=False)
    assert not again.changed
    data = read_sources([target], tmp_path)
    assert not data.errors
    assert {q.object.value for q in data.quads} == expected


def test_line_numbers_count_the_line_ends_turtle_counts(tmp_path: Path) -> None:
    """U+2028 inside a literal is not a line end for Turtle, and CR alone is: a finding after both points at the
    line the parser means."""
    target = tmp_path / "lines.ttl"
    target.write_bytes(
        "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\r"
        '<https://w3id.org/scad/id/a> skos:note "one\u2028two" .\r'
        '<https://w3id.org/scad/id/b> skos:note "b"\r'
        '<https://w3id.org/scad/id/c> skos:note "c" .\r'.encode()
    )
    (finding,) = read_sources([target], tmp_path).errors
    assert (finding.line, finding.column) == (3, len('<https://w3id.org/scad/id/b> skos:note "b"') + 1)
    assert finding.message.startswith("'.' missing at the end of this line")
