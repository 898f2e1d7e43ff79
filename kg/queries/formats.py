"""Media types of SPARQL results and RDF graphs, and content negotiation over the Accept header."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import pyoxigraph as ox

from kg.errors import NotAcceptable


@dataclass(frozen=True)
class Format:
    media_type: str
    results: ox.QueryResultsFormat | None = None
    rdf: ox.RdfFormat | None = None
    charset: bool = True

    @property
    def content_type(self) -> str:
        return f"{self.media_type}; charset=utf-8" if self.charset else self.media_type


RESULTS: Final = [
    Format("application/sparql-results+json", results=ox.QueryResultsFormat.JSON),
    Format("application/sparql-results+xml", results=ox.QueryResultsFormat.XML),
    Format("text/csv", results=ox.QueryResultsFormat.CSV),
    Format("text/tab-separated-values", results=ox.QueryResultsFormat.TSV),
]
GRAPHS: Final = [
    Format("text/turtle", rdf=ox.RdfFormat.TURTLE),
    Format("application/n-triples", rdf=ox.RdfFormat.N_TRIPLES),
    Format("application/n-quads", rdf=ox.RdfFormat.N_QUADS),
    Format("application/trig", rdf=ox.RdfFormat.TRIG),
    Format("application/ld+json", rdf=ox.RdfFormat.JSON_LD),
    Format("application/rdf+xml", rdf=ox.RdfFormat.RDF_XML),
]
ALIASES: Final = {
    "application/json": ("application/sparql-results+json", "application/ld+json"),
    "application/xml": ("application/sparql-results+xml", "application/rdf+xml"),
    "text/xml": ("application/sparql-results+xml", "application/rdf+xml"),
    "text/plain": ("application/n-triples",),
    "application/x-turtle": ("text/turtle",),
    "application/turtle": ("text/turtle",),
    "text/n3": ("text/turtle",),
    "text/rdf+n3": ("text/turtle",),
    "application/n3": ("text/turtle",),
    "application/x-json+ld": ("application/ld+json",),
}
"""Media types clients use for the ones served, by what each can mean: JSON is SPARQL JSON for query results and
JSON-LD for a graph, XML the SPARQL XML or RDF/XML; N3 is served as Turtle, which is N3 without its extensions."""
SHORT_NAMES: Final = {
    "json": ("application/sparql-results+json", "application/ld+json"),
    "xml": ("application/sparql-results+xml", "application/rdf+xml"),
    "csv": ("text/csv",),
    "tsv": ("text/tab-separated-values",),
    "ttl": ("text/turtle",),
    "turtle": ("text/turtle",),
    "n3": ("text/turtle",),
    "nt": ("application/n-triples",),
    "ntriples": ("application/n-triples",),
    "nq": ("application/n-quads",),
    "trig": ("application/trig",),
    "jsonld": ("application/ld+json",),
    "json-ld": ("application/ld+json",),
    "rdf": ("application/rdf+xml",),
    "rdfxml": ("application/rdf+xml",),
    "rdf+xml": ("application/rdf+xml",),
}
"""The words of a ``format`` parameter or a file extension, SPARQLWrapper's among them (xml, json, json-ld, n3,
rdf+xml, turtle, csv, tsv)."""


def _offered(media: str, by_type: dict[str, Format]) -> Format | None:
    for candidate in ALIASES.get(media, (media,)):
        if candidate in by_type:
            return by_type[candidate]
    return None


def parse_accept(header: str | None) -> list[tuple[str, float]]:
    """Media ranges of an Accept header with their q-values, best first (ties keep the client's order)."""
    if not header or not header.strip():
        return [("*/*", 1.0)]
    ranges: list[tuple[str, float, int]] = []
    for position, part in enumerate(header.split(",")):
        fields = [f.strip() for f in part.split(";")]
        media = fields[0].lower()
        if not media or "/" not in media:
            continue
        q = 1.0
        for param in fields[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = max(0.0, min(1.0, float(value)))
                except ValueError:
                    q = 0.0
        ranges.append((media, q, position))
    ranges.sort(key=lambda r: (-r[1], r[2]))
    return [(m, q) for m, q, _ in ranges]


def negotiate(accept: str | None, offers: list[Format], what: str) -> Format:
    """The first offer the client accepts, in the client's preference order; 406 names what could be served."""
    by_type = {f.media_type: f for f in offers}
    for media, q in parse_accept(accept):
        if q <= 0:
            continue
        offered = _offered(media, by_type)
        if offered is not None:
            return offered
        if media == "*/*":
            return offers[0]
        if media.endswith("/*"):
            family = media[:-1]
            match = next((f for f in offers if f.media_type.startswith(family)), None)
            if match is not None:
                return match
    served = ", ".join(f.media_type for f in offers)
    raise NotAcceptable(f"cannot serve {what} as {accept!r}; available: {served}")


def named(name: str, offers: list[Format]) -> Format | None:
    """The offer a ``format`` word (json, ttl) or media type names, or None when it names none of them."""
    by_type = {f.media_type: f for f in offers}
    word = name.strip().lower()
    for media in SHORT_NAMES.get(word, (word,)):
        offered = _offered(media, by_type)
        if offered is not None:
            return offered
    return None


def by_name(name: str, offers: list[Format], what: str) -> Format:
    """A format named by a short name (json, ttl) or a media type, as in a file extension or a ``--format``."""
    found = named(name, offers)
    if found is not None:
        return found
    types = {f.media_type for f in offers}
    names = ", ".join(sorted(k for k, v in SHORT_NAMES.items() if types & set(v)))
    raise NotAcceptable(f"cannot serve {what} as {name!r}; available: {names}")


def choose(name: str | None, accept: str | None, offers: list[Format], what: str) -> Format:
    """The format of an answer: the one a ``format`` parameter names, else the Accept header decides. Clients send
    words of their own whatever the query form (SPARQLWrapper sends ``n3`` or ``rdf+xml`` for a SELECT too, and
    ``csv`` for a CONSTRUCT), so a word that names none of the offers is not an error: Accept decides then."""
    found = named(name, offers) if name else None
    return found if found is not None else negotiate(accept, offers, what)


def known(names: Sequence[str]) -> str | None:
    """The first of the ``format`` words that names a format served for some query form."""
    return next((n for n in names if named(n, RESULTS + GRAPHS) is not None), None)
