"""Media types of SPARQL results and RDF graphs, and content negotiation over the Accept header."""

from __future__ import annotations

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
    "application/json": "application/sparql-results+json",
    "application/xml": "application/sparql-results+xml",
    "text/xml": "application/sparql-results+xml",
    "text/plain": "application/n-triples",
    "application/x-turtle": "text/turtle",
}
SHORT_NAMES: Final = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "ttl": "text/turtle",
    "turtle": "text/turtle",
    "nt": "application/n-triples",
    "ntriples": "application/n-triples",
    "nq": "application/n-quads",
    "trig": "application/trig",
    "jsonld": "application/ld+json",
    "rdf": "application/rdf+xml",
    "rdfxml": "application/rdf+xml",
}


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
        media = ALIASES.get(media, media)
        if media in by_type:
            return by_type[media]
        if media == "*/*":
            return offers[0]
        if media.endswith("/*"):
            family = media[:-1]
            match = next((f for f in offers if f.media_type.startswith(family)), None)
            if match is not None:
                return match
    served = ", ".join(f.media_type for f in offers)
    raise NotAcceptable(f"cannot serve {what} as {accept!r}; available: {served}")


def by_name(name: str, offers: list[Format], what: str) -> Format:
    """A format named by a short name (json, ttl) or a media type, as in a ``format`` parameter or a file extension."""
    media = SHORT_NAMES.get(name.lower(), name.lower())
    media = ALIASES.get(media, media)
    for f in offers:
        if f.media_type == media:
            return f
    names = ", ".join(sorted(k for k, v in SHORT_NAMES.items() if v in {f.media_type for f in offers}))
    raise NotAcceptable(f"cannot serve {what} as {name!r}; available: {names}")
