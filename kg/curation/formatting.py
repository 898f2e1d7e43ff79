"""`kg format`: rewrite Turtle files in canonical form, keeping every ``#`` comment with its block, and never touching
a file that does not parse or whose comments cannot all be kept."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib.compare import isomorphic

from kg.curation.validate import to_rdflib
from kg.rdf.comments import CommentError, comment_texts, read_comments
from kg.rdf.dataset import read_turtle, syntax_finding, turtle_files
from kg.rdf.turtle import serialize
from kg.report import Finding, Severity


@dataclass(frozen=True)
class Result:
    path: Path
    changed: bool
    error: Finding | None = None


def canonical(text: str) -> str:
    """The canonical form of a Turtle text, comments kept; raises SyntaxError or CommentError."""
    triples = list(ox.parse(text.encode("utf-8"), format=ox.RdfFormat.TURTLE))
    return serialize(triples, read_comments(text))


def format_file(path: Path, check: bool) -> Result:
    text = read_turtle(path)
    try:
        before = list(ox.parse(text.encode("utf-8"), format=ox.RdfFormat.TURTLE))
    except SyntaxError as exc:
        return Result(path, changed=False, error=syntax_finding(path, exc, text))
    try:
        comments = read_comments(text)
    except CommentError as exc:
        message = f"{exc.reason}; move it into a block with an IRI subject (file left unchanged)"
        finding = Finding(Severity.ERROR, "format", message, path, exc.comment.line, exc.comment.column)
        return Result(path, changed=False, error=finding)
    formatted = serialize(before, comments)
    if formatted == text:
        return Result(path, changed=False)
    after = list(ox.parse(formatted.encode("utf-8"), format=ox.RdfFormat.TURTLE))
    if not isomorphic(to_rdflib(before), to_rdflib(after)):
        message = "the canonical form would not hold the same triples; file left unchanged (please report this)"
        return Result(path, changed=False, error=Finding(Severity.ERROR, "format", message, file=path))
    if comment_texts(formatted) != comment_texts(text):
        lost = next(iter(comment_texts(text) - comment_texts(formatted)), "?")
        message = f"the canonical form would not keep the comment {lost!r}; file left unchanged (please report this)"
        return Result(path, changed=False, error=Finding(Severity.ERROR, "format", message, file=path))
    if not check:
        write_atomically(path, formatted)
    return Result(path, changed=True)


def format_paths(paths: Iterable[Path], check: bool) -> list[Result]:
    return [format_file(p, check) for p in turtle_files(paths)]


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomically(path: Path, text: str | bytes) -> None:
    """Write to a temporary file beside ``path`` and rename it over: readers see the old file or the new, never half.
    Text is written as UTF-8 with ``\n`` line ends; bytes as they are.

    A symlink is written through (its target changes, the link stays); an existing file keeps its mode, a new file
    gets the mode the umask gives (as ``open`` would), not the 0600 of a temporary file. On failure nothing is left.
    """
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    try:
        mode = target.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        if isinstance(text, bytes):
            with os.fdopen(fd, "wb") as raw:
                raw.write(text)
        else:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
