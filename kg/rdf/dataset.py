"""Reading the Turtle files: one parser (pyoxigraph), one named graph per file, every syntax error with its location."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from kg.namespaces import GRAPH, PREFIXES
from kg.report import Finding, Severity

_PARSER_PREFIX = re.compile(r"^Parser error at line \d+ (?:between columns \d+ and \d+|column \d+): ")
_PREFIX_LINE = re.compile(r"@prefix\s+([A-Za-z][\w.\-]*)?:\s*<([^>]*)>", re.IGNORECASE)
_SUBJECT_LINE = re.compile(r"^(<[^>]+>|[A-Za-z][\w.\-]*:[^\s;,]*)(\s|$)")
LINE_END = re.compile(r"\r\n|\r|\n")
"""A line end as Turtle (and its parser) counts one."""


class SourceError(Exception):
    """A path that cannot be read as Turtle input (missing, not a file, not UTF-8)."""


@dataclass(frozen=True)
class SourceFile:
    path: Path
    graph: ox.NamedNode
    text: str


@dataclass
class Dataset:
    """The parsed files: their quads (one named graph per file) and the syntax errors found."""

    files: list[SourceFile] = field(default_factory=list)
    quads: list[ox.Quad] = field(default_factory=list)
    errors: list[Finding] = field(default_factory=list)

    def file_of(self, graph: ox.NamedNode | ox.BlankNode | ox.DefaultGraph) -> SourceFile | None:
        return next((f for f in self.files if f.graph == graph), None)

    def triples(self, graphs: Iterable[ox.NamedNode] | None = None) -> Iterator[ox.Triple]:
        wanted = None if graphs is None else set(graphs)
        for q in self.quads:
            if wanted is None or q.graph_name in wanted:
                yield ox.Triple(q.subject, q.predicate, q.object)

    def locate(self, iri: str) -> tuple[Path, int] | None:
        """The file and line where ``iri`` starts a block (or first appears), for compiler-style findings."""
        fallback: tuple[Path, int] | None = None
        for f in self.files:
            prefixes = dict(PREFIXES)
            for name, ns in _PREFIX_LINE.findall(f.text):
                prefixes[name] = ns
            short = [f"{n}:{iri[len(ns) :]}" for n, ns in prefixes.items() if iri.startswith(ns)]
            names = {f"<{iri}>", *short}
            for number, line in enumerate(turtle_lines(f.text), start=1):
                m = _SUBJECT_LINE.match(line)
                if m and m.group(1) in names:
                    return f.path, number
                if fallback is None and any(_mentions(line, n) for n in names):
                    fallback = (f.path, number)
        return fallback


def read_turtle(path: Path) -> str:
    """A Turtle file's text exactly as written: UTF-8, line ends untranslated. A carriage return inside a
    triple-quoted literal is part of the value (the Turtle grammar says so); universal newlines would drop it."""
    with open(path, encoding="utf-8", newline="") as handle:
        return handle.read()


def turtle_lines(text: str) -> list[str]:
    """The lines as the parser numbers them: ended by LF, CRLF or CR, and by nothing else (``str.splitlines`` also
    breaks at U+2028, form feeds and others, which would shift every line number after one in a literal)."""
    return LINE_END.split(text)


def _mentions(line: str, name: str) -> bool:
    return re.search(rf"(?<![\w:<\-]){re.escape(name)}(?![\w\-])", line) is not None


DRAFTS_DIR = "drafts"
"""Drafts of ``kg draft`` under the ontology directory: not part of the graph until ``kg accept`` moves them."""


def turtle_files(paths: Iterable[Path]) -> list[Path]:
    """The ``.ttl`` files named by ``paths`` (files, or directories searched recursively, leaving out the drafts
    folders found below them), sorted, once each."""
    found: set[Path] = set()
    for path in paths:
        if path.is_dir():
            found.update(
                p for p in path.rglob("*.ttl") if p.is_file() and DRAFTS_DIR not in p.relative_to(path).parts[:-1]
            )
        elif path.is_file():
            found.add(path)
        else:
            raise SourceError(f"{path}: no such file or directory; expected a Turtle file or a directory of them")
    return sorted(found)


def graph_name(path: Path, root: Path) -> ox.NamedNode:
    try:
        relative = path.resolve().relative_to(root.resolve())
    except ValueError:
        relative = Path(path.name)
    return ox.NamedNode(GRAPH + relative.as_posix())


def read_sources(paths: Iterable[Path], root: Path | None = None) -> Dataset:
    """Parse every Turtle file under ``paths``. Syntax errors are collected, one per broken file, never raised."""
    files = turtle_files(paths)
    base = root if root is not None else Path.cwd()
    data = Dataset()
    for path in files:
        try:
            text = read_turtle(path)
        except (OSError, UnicodeDecodeError) as exc:
            raise SourceError(f"{path}: cannot be read as UTF-8 text ({exc})") from exc
        graph = graph_name(path, base)
        data.files.append(SourceFile(path, graph, text))
        try:
            # Collected before it is added: a file with a syntax error contributes nothing.
            triples = list(ox.parse(text.encode("utf-8"), format=ox.RdfFormat.TURTLE, rename_blank_nodes=True))
        except SyntaxError as exc:
            data.errors.append(syntax_finding(path, exc, text))
            continue
        data.quads.extend(ox.Quad(t.subject, t.predicate, t.object, graph) for t in triples)
    return data


def syntax_finding(path: Path, exc: SyntaxError, text: str | None = None) -> Finding:
    """The parser's error, moved to its cause where the parser notices it later (with ``text``, the file's text)."""
    message = _PARSER_PREFIX.sub("", exc.msg or str(exc))
    line, column = exc.lineno, exc.offset
    if text is not None and line is not None:
        lines = turtle_lines(text)
        if message.startswith("A dot is expected") and line <= len(lines):
            line, column, message = _missing_end(lines, line, message)
        elif message.startswith("Line jumps are not allowed in string literals") and line <= len(lines):
            column, message = _unclosed_string(lines[line - 1], column, message)
    return Finding(severity=Severity.ERROR, rule="syntax", message=message, file=path, line=line, column=column)


def _missing_end(lines: list[str], line: int, parser: str) -> tuple[int, int, str]:
    """A missing ``;`` or ``.`` is noticed on the next line; point at the end of the line that lacks it."""
    previous = next(
        (n for n in range(line - 1, 0, -1) if lines[n - 1].strip() and not lines[n - 1].lstrip().startswith("#")), 0
    )
    if previous == 0:
        return line, 1, parser
    code = lines[previous - 1].rstrip()
    if lines[line - 1][:1].isspace():
        what = f"';' missing at the end of this line: line {line} goes on with the same block"
    else:
        what = f"'.' missing at the end of this line: line {line} starts a new block"
    return previous, len(code) + 1, f"{what} (parser: {parser})"


def _unclosed_string(text: str, column: int | None, parser: str) -> tuple[int | None, str]:
    """A string that is not closed is noticed at the end of its line; point at its opening quote."""
    end = (column or len(text) + 1) - 1
    quotes = [i for i, c in enumerate(text[:end]) if c == '"' and (i == 0 or text[i - 1] != "\\")]
    if len(quotes) % 2 == 0:
        return column, parser
    return quotes[
        -1
    ] + 1, f'this string is not closed on its line; a text of several lines goes in """...""" (parser: {parser})'
