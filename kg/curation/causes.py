"""Findings at their cause, compiler-style: a misspelled ``@prefix`` at its line (the flood it causes folded under it),
an undefined IRI at its own line and column with the nearest known name, a non-verbatim quote at the character where
it leaves the source, and a duplicate label at the entity the curator changed (git tells which)."""

from __future__ import annotations

import difflib
import re
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path

import pyoxigraph as ox

from kg.namespaces import BASE, PREFIXES, RDF_TYPE, curie
from kg.rdf.dataset import Dataset, SourceFile
from kg.report import Finding, Report, Severity

PREFIX_RULE = "prefix"
_DECLARATION = re.compile(r"(@prefix|PREFIX)\s+([A-Za-z][\w.\-]*)?:\s*<([^>]*)>", re.IGNORECASE)


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _declared(f: SourceFile) -> dict[str, str]:
    return {m.group(2) or "": m.group(3) for m in _DECLARATION.finditer(f.text)}


def check_prefixes(data: Dataset) -> Iterator[Finding]:
    """A prefix of ``kg.namespaces`` bound to another IRI, or any IRI under the base that is not one of ours."""
    ours = {ns for ns in PREFIXES.values()}
    for f in data.files:
        for m in _DECLARATION.finditer(f.text):
            name, iri = m.group(2) or "", m.group(3)
            expected = PREFIXES.get(name)
            if iri in ours and (expected is None or expected == iri):
                continue
            if expected is None and not iri.startswith(BASE):
                continue  # a prefix of the file's own, outside our base: not ours to judge
            if expected is None:
                expected = (difflib.get_close_matches(iri, sorted(ours), n=1, cutoff=0.0) or [BASE])[0]
            line, column = _position(f.text, m.start(3) - 1)
            yield Finding(
                Severity.ERROR,
                PREFIX_RULE,
                f"the prefix {name}: is bound to <{iri}>; expected <{expected}> (kg/namespaces.py)",
                f.path,
                line,
                column,
                value=iri,
            )


def fold_consequences(report: Report) -> None:
    """When a prefix is wrong, every other finding is most likely its consequence: fold them under it."""
    if not any(f.rule == PREFIX_RULE for f in report.findings):
        return
    report.folded = [f for f in report.findings if f.rule != PREFIX_RULE]
    report.findings = [f for f in report.findings if f.rule == PREFIX_RULE]


def mention(data: Dataset, iri: str) -> tuple[Path, int, int] | None:
    """The first place a file writes ``iri`` (as ``<iri>`` or with one of the file's prefixes): path, line, column."""
    for f in data.files:
        names = [f"<{iri}>"] + [f"{n}:{iri[len(ns) :]}" for n, ns in _declared(f).items() if iri.startswith(ns)]
        best: int | None = None
        for name in names:
            m = re.search(rf"(?<![\w:<\-]){re.escape(name)}(?![\w\-])", f.text)
            if m and not _in_comment(f.text, m.start()) and (best is None or m.start() < best):
                best = m.start()
        if best is not None:
            return (f.path, *_position(f.text, best))
    return None


def _in_comment(text: str, offset: int) -> bool:
    start = text.rfind("\n", 0, offset) + 1
    return "#" in text[start:offset] and '"' not in text[start:offset] and "<" not in text[start:offset]


def defined_iris(data: Dataset) -> set[str]:
    return {
        q.subject.value for q in data.quads if q.predicate.value == RDF_TYPE and isinstance(q.subject, ox.NamedNode)
    }


def refine_undefined(data: Dataset, finding: Finding, iri: str, known: Iterable[str]) -> Finding:
    """Point an undefined IRI at its own line and column, and name the nearest defined one."""
    where = mention(data, iri)
    candidates = sorted({curie(k) for k in known if k.startswith(BASE)})
    nearest = difflib.get_close_matches(curie(iri), candidates, n=1, cutoff=0.6)
    message = finding.message + (f"; did you mean {nearest[0]}?" if nearest else "")
    if where is None:
        return replace(finding, message=message)
    path, line, column = where
    return replace(finding, message=message, file=path, line=line, column=column)


def changed_lines(path: Path) -> set[int] | None:
    """The lines of ``path`` that differ from git's HEAD (None: untracked or new, so all of it; empty: unchanged)."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "--error-unmatch", path.name], cwd=path.parent, capture_output=True, timeout=30
        )
        if listed.returncode != 0:
            inside = subprocess.run(["git", "rev-parse"], cwd=path.parent, capture_output=True, timeout=30)
            return None if inside.returncode == 0 else set()
        diff = subprocess.run(
            ["git", "diff", "--unified=0", "HEAD", "--", path.name],
            cwd=path.parent,
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return set()
    lines: set[int] = set()
    for m in re.finditer(r"^@@ -\S+ \+(\d+)(?:,(\d+))? @@", diff.stdout, re.MULTILINE):
        start, count = int(m.group(1)), int(m.group(2) or "1")
        lines.update(range(start, start + max(count, 1)))
    return lines


def _block_lines(f: SourceFile, start: int) -> range:
    rest = f.text.splitlines()[start - 1 :]
    end = next((i for i, line in enumerate(rest) if line.rstrip().endswith(" .")), len(rest) - 1)
    return range(start, start + end + 1)


def _changed(data: Dataset, iri: str) -> bool:
    where = data.locate(iri)
    if where is None:
        return False
    path, line = where
    f = next(f for f in data.files if f.path == path)
    lines = changed_lines(path)
    return lines is None or bool(lines & set(_block_lines(f, line)))


def changed_entity_first(data: Dataset, finding: Finding, row: dict[str, str]) -> Finding:
    """A duplicate label is reported at the entity changed in the working tree (git), naming the other one too."""
    focus, other, label = row["focus"], row["other"], row["label"]
    if _changed(data, other) and not _changed(data, focus):
        focus, other, label = other, focus, row.get("otherLabel", label)
    message = f'{curie(focus)} has the label "{label}", which {curie(other)} has too'
    return replace(_at_label(data, finding, focus, label), message=message, focus=curie(focus))


def _at_label(data: Dataset, finding: Finding, subject: str, label: str) -> Finding:
    """The finding at the literal ``label`` in the block of ``subject`` (or at the block, or where it was)."""
    where = data.locate(subject)
    if where is None:
        return finding
    path, start = where
    f = next(f for f in data.files if f.path == path)
    lines = f.text.splitlines()
    for number in _block_lines(f, start):
        at = lines[number - 1].find(f'"{label}"') if number <= len(lines) else -1
        if at >= 0:
            return replace(finding, file=path, line=number, column=at + 1)
    return replace(finding, file=path, line=start, column=None)


def at_cause(data: Dataset, rule: str, finding: Finding, row: dict[str, str], known: set[str]) -> Finding:
    """A quality rule's finding moved to its cause, for the rules where the cause is elsewhere than the block."""
    if rule == "undefined_iri" and "focus" in row:
        return refine_undefined(data, finding, row["focus"], known)
    if rule == "duplicate_label" and {"focus", "other", "label"} <= row.keys():
        return changed_entity_first(data, finding, row)
    if rule == "synonym_is_other_label" and {"focus", "label"} <= row.keys():
        return _at_label(data, finding, row["focus"], row["label"])
    if rule == "label_without_language" and "label" in row:
        for f in data.files:
            at = _literal_at(f, row["label"])
            if at is not None and not f.text.startswith("@", at + len(row["label"]) + 1):
                line, column = _position(f.text, at - 1)
                return replace(finding, file=f.path, line=line, column=column)
    return finding


def one_error_per_untagged_label(report: Report) -> None:
    """A label without a language tag breaks two shape constraints too; keep the one finding that says why."""
    untagged = {
        (f.focus, f.message.split(" has the ", 1)[1].split(" ", 1)[0])
        for f in report.findings
        if f.rule == "label_without_language" and " has the " in f.message
    }
    report.findings = [
        f
        for f in report.findings
        if not (
            f.rule.startswith("scadsh:") and any(f.focus == c and f.message.startswith(f"{p}:") for c, p in untagged)
        )
    ]


def closest_passage(quote: str, text: str) -> tuple[str, int]:
    """The passage of ``text`` closest to ``quote`` and the index of the first character of ``quote`` that differs."""
    matcher = difflib.SequenceMatcher(None, text, quote, autojunk=False)
    anchor = matcher.find_longest_match(0, len(text), 0, len(quote))
    lo = max(0, anchor.a - anchor.b - 40)
    window = text[lo : anchor.a - anchor.b + len(quote) + 40]
    blocks = [b for b in difflib.SequenceMatcher(None, quote, window, autojunk=False).get_matching_blocks() if b.size]
    if not blocks:
        return "", 0
    first, last = blocks[0], blocks[-1]
    differs = first.size if first.a == 0 else 0
    start = max(0, first.b - first.a)
    end = last.b + last.size + (len(quote) - last.a - last.size)
    return window[start:end], differs


def _literal_at(f: SourceFile, value: str) -> int | None:
    """The offset of the first character of a string literal holding ``value`` (written with or without escapes)."""
    for written in (value, value.replace("\\", "\\\\").replace('"', '\\"')):
        for quotes in ('"', '"""', "'"):
            at = f.text.find(quotes + written + quotes)
            if at >= 0:
                return at + len(quotes)
    return None


def quote_finding(data: Dataset, claim: str, quote: str, text: str, file_name: str) -> Finding:
    """A quote that is not verbatim, at the character where it leaves its source, with the closest passage."""
    passage, differs = closest_passage(quote, text)
    shown = passage if len(passage) <= 160 else passage[:157] + "..."
    got = repr(quote[differs]) if differs < len(quote) else "the end of the quote"
    expected = repr(passage[differs]) if differs < len(passage) else "the end of the passage"
    message = (
        f"quote is not verbatim in {file_name}: character {differs + 1} of the quote is {got}, "
        f"the closest passage of the source has {expected} there: {shown!r}"
    )
    for f in data.files:
        at = _literal_at(f, quote)
        if at is not None:
            line, column = _position(f.text, at + differs)
            return Finding(Severity.ERROR, "quote-not-verbatim", message, f.path, line, column, curie(claim))
    block = data.locate(claim)
    return Finding(
        Severity.ERROR,
        "quote-not-verbatim",
        message,
        block[0] if block else None,
        block[1] if block else None,
        focus=curie(claim),
    )
