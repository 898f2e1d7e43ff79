"""Writing a query's result as the bytes of its format, within the caps: KG_MAX_RESULT_BYTES while writing, and
KG_MAX_ROWS for every format. Used by the in-process path and inside the sandbox processes alike."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyoxigraph as ox

from kg.errors import NotAcceptable, ResultTooLarge
from kg.namespaces import PREFIXES
from kg.queries.formats import GRAPHS, RESULTS, Format, choose

if TYPE_CHECKING:
    from typing_extensions import Buffer

    from kg.store.embedded import Result

PREFIXED = (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG)
"""Graph formats written with the graph's prefixes (those a person reads)."""
_NAMESPACES = {iri: name for name, iri in PREFIXES.items()}


@dataclass(frozen=True)
class Caps:
    max_rows: int
    max_result_bytes: int


def used_prefixes(triples: Sequence[ox.Triple]) -> dict[str, str]:
    """The prefixes of kg.namespaces that the IRIs of ``triples`` use (each namespace ends with # or /)."""
    used: dict[str, str] = {}
    for triple in triples:
        for term in (triple.subject, triple.predicate, triple.object):
            if isinstance(term, ox.NamedNode):
                iri = term.value
                cut = max(iri.rfind("#"), iri.rfind("/")) + 1
                name = _NAMESPACES.get(iri[:cut])
                if name is not None:
                    used[name] = iri[:cut]
    return used


class _CappedWriter(io.BytesIO):
    """A binary sink for pyoxigraph's serializers that refuses to grow past ``limit`` bytes."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def write(self, data: Buffer, /) -> int:
        if self.tell() + len(memoryview(data)) > self.limit:
            raise ResultTooLarge(f"the answer is larger than {self.limit} bytes (KG_MAX_RESULT_BYTES); add a LIMIT")
        return super().write(data)


def format_for(result: Result, accept: str | None, format_name: str | None) -> Format:
    """The format of a result whose query form could not be read before running."""
    graph = isinstance(result, (ox.QueryTriples, list))
    offers, what = (GRAPHS, "a graph") if graph else (RESULTS, "query results")
    return choose(format_name, accept, offers, what)


def serialize(result: Result, fmt: Format, caps: Caps) -> bytes:
    sink = _CappedWriter(caps.max_result_bytes)
    try:
        if isinstance(result, list):
            if fmt.rdf is None:
                raise NotAcceptable(f"a graph cannot be served as {fmt.media_type}")
            ox.serialize(result, sink, fmt.rdf)
        elif isinstance(result, ox.QueryTriples):
            if fmt.rdf is None:
                raise NotAcceptable(f"a graph cannot be served as {fmt.media_type}")
            if fmt.rdf in PREFIXED:  # for people: the graph's prefixes, triples sorted and grouped by subject
                triples = sorted(
                    _bounded(result, caps.max_rows), key=lambda t: (str(t.subject), str(t.predicate), str(t.object))
                )
                ox.serialize(triples, sink, fmt.rdf, prefixes=used_prefixes(triples))
            else:
                result.serialize(sink, fmt.rdf)
        else:
            if fmt.results is None:
                raise NotAcceptable(f"query results cannot be served as {fmt.media_type}")
            result.serialize(sink, fmt.results)
    except OSError as exc:
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, ResultTooLarge):
            raise cause from None
        raise
    body = sink.getvalue()
    check_rows(body, fmt, caps.max_rows)
    return body


def _bounded(triples: ox.QueryTriples, limit: int) -> list[ox.Triple]:
    """The triples of a CONSTRUCT or DESCRIBE, refused past KG_MAX_ROWS while they are read."""
    kept: list[ox.Triple] = []
    for triple in triples:
        kept.append(triple)
        if len(kept) > limit:
            raise ResultTooLarge(f"the answer has more than {limit} rows (KG_MAX_ROWS); add a LIMIT")
    return kept


def check_rows(body: bytes, fmt: Format, limit: int) -> None:
    """Refuse answers of more than KG_MAX_ROWS rows. A row takes at least one byte in TSV (an empty row is a line
    feed), two in CSV and three in the other formats, so only bodies larger than that many rows need counting."""
    smallest = {ox.QueryResultsFormat.TSV: 1, ox.QueryResultsFormat.CSV: 2}.get(fmt.results, 3)  # type: ignore[arg-type]
    if len(body) <= limit * smallest:
        return
    if fmt.rdf is not None:
        rows = sum(1 for _ in ox.parse(body, fmt.rdf))
    elif fmt.results is ox.QueryResultsFormat.CSV:
        rows = max(0, sum(1 for _ in csv.reader(io.StringIO(body.decode("utf-8"), newline=""))) - 1)
    elif fmt.results is ox.QueryResultsFormat.TSV:  # a TSV term never holds a raw line feed
        rows = max(0, body.count(b"\n") - 1)
    else:
        assert fmt.results is not None
        parsed = ox.parse_query_results(body, fmt.results)
        rows = 0 if isinstance(parsed, ox.QueryBoolean) else sum(1 for _ in parsed)
    if rows > limit:
        raise ResultTooLarge(f"the answer has {rows} rows, more than {limit} (KG_MAX_ROWS); add a LIMIT")
