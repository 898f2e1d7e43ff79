"""`kg format`: rewrite Turtle files in canonical form, never touching a file that does not parse."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib.compare import isomorphic

from kg.curation.validate import to_rdflib
from kg.rdf.dataset import syntax_finding, turtle_files
from kg.rdf.turtle import serialize
from kg.report import Finding, Severity


@dataclass(frozen=True)
class Result:
    path: Path
    changed: bool
    error: Finding | None = None


def canonical(text: str) -> str:
    """The canonical form of a Turtle text; raises SyntaxError when it does not parse."""
    triples = list(ox.parse(text.encode("utf-8"), format=ox.RdfFormat.TURTLE))
    return serialize(triples)


def format_file(path: Path, check: bool) -> Result:
    text = path.read_text(encoding="utf-8")
    try:
        before = list(ox.parse(text.encode("utf-8"), format=ox.RdfFormat.TURTLE))
    except SyntaxError as exc:
        return Result(path, changed=False, error=syntax_finding(path, exc))
    formatted = serialize(before)
    if formatted == text:
        return Result(path, changed=False)
    after = list(ox.parse(formatted.encode("utf-8"), format=ox.RdfFormat.TURTLE))
    if not isomorphic(to_rdflib(before), to_rdflib(after)):
        message = "the canonical form would not hold the same triples; file left unchanged (please report this)"
        return Result(path, changed=False, error=Finding(Severity.ERROR, "format", message, file=path))
    if not check:
        write_atomically(path, formatted)
    return Result(path, changed=True)


def format_paths(paths: Iterable[Path], check: bool) -> list[Result]:
    return [format_file(p, check) for p in turtle_files(paths)]


def write_atomically(path: Path, text: str) -> None:
    """Write to a temporary file beside ``path`` and rename it over: readers see the old file or the new, never half."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
