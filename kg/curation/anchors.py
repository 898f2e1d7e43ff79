"""Quote anchors: where each claim's quote sits in its source text, as W3C Web Annotation selectors (a
TextPositionSelector's character offsets and a TextQuoteSelector's exact text with its prefix and suffix), kept in
``ontology/data/anchors/`` and checked against the texts by `kg validate --sources`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pyoxigraph as ox

from kg.namespaces import PREFIXES, RDF_TYPE, SCAD, curie
from kg.queries.catalog import NamedQuery
from kg.rdf.dataset import Dataset
from kg.report import Finding, Severity
from kg.store.backends import run

CONTEXT: Final = 32
"""Characters of prefix and suffix kept (fewer at the start or end of the text)."""
_OA: Final = PREFIXES["oa"]
_INTEGER: Final = ox.NamedNode(PREFIXES["xsd"] + "integer")
"""xsd:integer, not the nonNegativeInteger of the Web Annotation vocabulary: Oxigraph stores the one as the other."""


@dataclass(frozen=True)
class Anchor:
    start: int
    end: int
    prefix: str
    suffix: str


def anchor(text: str, quote: str, start: int | None = None) -> Anchor | None:
    """The anchor of ``quote`` in ``text`` (its first occurrence, or the one at ``start``); None when absent."""
    at = text.find(quote) if start is None else (start if text.startswith(quote, start) else -1)
    if at < 0:
        return None
    end = at + len(quote)
    return Anchor(at, end, text[max(0, at - CONTEXT) : at], text[end : end + CONTEXT])


def triples(claim: str, found: Anchor, quote: str) -> list[ox.Triple]:
    """The two selectors of a claim's quote, linked from the claim by scad:quoteSelector."""
    claim_node = ox.NamedNode(claim)
    position, words = ox.NamedNode(claim + "-position"), ox.NamedNode(claim + "-quote")

    def number(n: int) -> ox.Literal:
        return ox.Literal(str(n), datatype=_INTEGER)

    return [
        ox.Triple(claim_node, ox.NamedNode(SCAD + "quoteSelector"), position),
        ox.Triple(claim_node, ox.NamedNode(SCAD + "quoteSelector"), words),
        ox.Triple(position, ox.NamedNode(RDF_TYPE), ox.NamedNode(_OA + "TextPositionSelector")),
        ox.Triple(position, ox.NamedNode(_OA + "start"), number(found.start)),
        ox.Triple(position, ox.NamedNode(_OA + "end"), number(found.end)),
        ox.Triple(words, ox.NamedNode(RDF_TYPE), ox.NamedNode(_OA + "TextQuoteSelector")),
        ox.Triple(words, ox.NamedNode(_OA + "exact"), ox.Literal(quote)),
        ox.Triple(words, ox.NamedNode(_OA + "prefix"), ox.Literal(found.prefix)),
        ox.Triple(words, ox.NamedNode(_OA + "suffix"), ox.Literal(found.suffix)),
    ]


class SourceTexts:
    """The article texts of one validation, each read once: the quote check and the anchor check both need them."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._texts: dict[str, str | None] = {}

    def path(self, file: str) -> Path:
        return self.folder / file

    def get(self, file: str) -> str | None:
        """The text of ``file`` (a ``scad:fileName``), or None when the folder has no such file."""
        if file not in self._texts:
            path = self.path(file)
            self._texts[file] = path.read_text(encoding="utf-8") if path.is_file() else None
        return self._texts[file]


def check(store: ox.Store, data: Dataset, texts: SourceTexts, query: NamedQuery) -> Iterator[Finding]:
    """Every anchor must hold: the text at its offsets is the claim's quote, with its prefix and suffix around it."""
    rows = run(store, query)
    assert isinstance(rows, ox.QuerySolutions)
    for row in rows:
        file = row["file"].value
        text = texts.get(file)
        if text is None:
            continue  # the quote check reports the missing file
        claim, quote = row["claim"].value, row["quote"].value
        start, end = int(row["start"].value), int(row["end"].value)
        expected = anchor(text, quote, start)
        problems = []
        if text[start:end] != quote:
            problems.append(f"characters {start}-{end} of {file} are {text[start:end]!r}, not the quote")
        elif expected is not None and row["exact"].value != quote:
            problems.append("oa:exact differs from scad:quote")
        elif expected is not None and (row["prefix"].value, row["suffix"].value) != (expected.prefix, expected.suffix):
            problems.append(
                f"prefix or suffix differ from the text around it ({expected.prefix!r} ... {expected.suffix!r})"
            )
        where = data.locate(claim)
        for problem in problems:
            yield Finding(
                severity=Severity.ERROR,
                rule="quote-anchor",
                message=f"quote anchor of {curie(claim)}: {problem}",
                file=where[0] if where else None,
                line=where[1] if where else None,
                focus=curie(claim),
            )
