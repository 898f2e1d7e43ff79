"""A query's answer as an HTML table, for a browser that opens a query link (``/sparql?query=...`` or
``/queries/{name}``) and names HTML first in its Accept header; links lead to the same answer in the formats
programs read. The answer is the one those formats carry (SPARQL JSON of a SELECT or ASK, N-Triples of a graph),
run through the executor with its caps and deadline, then shown with the pages' templates and Content-Security-Policy.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import pyoxigraph as ox
from starlette.requests import Request
from starlette.responses import Response

from kg.execution.executor import Executor, Plan
from kg.namespaces import curie
from kg.queries.formats import parse_accept
from kg.web.pages.render import href
from kg.web.pages.routes import PAGE_HEADERS
from kg.web.sparql import cache_headers, not_modified

RESULT_LINKS: Final = [("json", "SPARQL JSON"), ("xml", "SPARQL XML"), ("csv", "CSV"), ("tsv", "TSV")]
GRAPH_LINKS: Final = [("ttl", "Turtle"), ("nt", "N-Triples"), ("jsonld", "JSON-LD"), ("rdf", "RDF/XML")]
TYPES: Final = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "ttl": "text/turtle",
    "nt": "application/n-triples",
    "jsonld": "application/ld+json",
    "rdf": "application/rdf+xml",
}


@dataclass(frozen=True)
class Cell:
    text: str
    href: str | None = None
    note: str = ""
    """The language tag or datatype of a literal."""


def wants_table(request: Request) -> bool:
    """True for a GET whose Accept names HTML first (browsers do; SPARQL clients and curl don't)."""
    if request.method != "GET":
        return False
    for media, q in parse_accept(request.headers.get("accept")):
        if q > 0:
            return media in ("text/html", "application/xhtml+xml")
    return False


def _term(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> Cell:
    if isinstance(term, ox.NamedNode):
        return Cell(curie(term.value), href(term.value))
    if isinstance(term, ox.BlankNode):
        return Cell(f"_:{term.value}")
    if isinstance(term, ox.Literal):
        note = f"@{term.language}" if term.language else ""
        if not note and term.datatype.value != "http://www.w3.org/2001/XMLSchema#string":
            note = curie(term.datatype.value)
        return Cell(term.value, note=note)
    return Cell(str(term))


def _json_term(value: dict[str, Any]) -> Cell:
    kind, text = value.get("type"), str(value.get("value", ""))
    if kind == "uri":
        return Cell(curie(text), href(text))
    if kind == "bnode":
        return Cell(f"_:{text}")
    note = f"@{value['xml:lang']}" if "xml:lang" in value else ""
    datatype = value.get("datatype")
    if not note and datatype and datatype != "http://www.w3.org/2001/XMLSchema#string":
        note = curie(str(datatype))
    return Cell(text, note=note)


def _links(request: Request, words: Sequence[tuple[str, str]]) -> list[dict[str, str]]:
    links = []
    for word, label in words:
        url = request.url.include_query_params(format=word)
        links.append({"href": f"{url.path}?{url.query}", "label": label, "type": TYPES[word]})
    return links


async def results_page(request: Request, executor: Executor, form: str, plan: Callable[[str], Plan]) -> Response:
    """The answer of the query that ``plan`` plans (given a format word) as a page; ``form`` is its query form."""
    graph = form in ("CONSTRUCT", "DESCRIBE")
    planned = plan("nt" if graph else "json")
    etag = planned.etag[:-1] + '-html"'
    headers = {**cache_headers(etag, executor.release), **PAGE_HEADERS}
    unchanged = not_modified(request, etag, headers)
    if unchanged is not None:
        return unchanged
    answer = await executor.execute(planned)
    context: dict[str, Any] = {"form": form, "links": _links(request, GRAPH_LINKS if graph else RESULT_LINKS)}
    if graph:
        triples = [q.triple for q in ox.parse(answer.body, format=ox.RdfFormat.N_TRIPLES)]
        context["columns"] = ["subject", "predicate", "object"]
        context["rows"] = [[_term(t.subject), _term(t.predicate), _term(t.object)] for t in triples]
    else:
        document = json.loads(answer.body)
        if "boolean" in document:
            context["boolean"] = bool(document["boolean"])
        else:
            columns = list(document["head"].get("vars", []))
            context["columns"] = columns
            context["rows"] = [
                [_json_term(b[c]) if c in b else None for c in columns] for b in document["results"]["bindings"]
            ]
    title = request.path_params.get("name") or "SPARQL query"
    context["title"] = title
    context["query"] = planned.text
    body = request.app.state.pages.render(request, "results.html", **context).encode("utf-8")
    return Response(body, media_type="text/html; charset=utf-8", headers=headers)


class Tables:
    """The results pages as ``/sparql`` reaches them, through ``app.state.results`` (kg.web.sparql cannot import the
    pages, which import it)."""

    wanted = staticmethod(wants_table)
    page = staticmethod(results_page)
