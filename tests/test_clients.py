"""The clients people use, unmodified, against `kg serve` on 127.0.0.1: SPARQLWrapper with its defaults and with
each of its return formats for every query form, rdflib's SPARQLStore, and the `gql` GraphQL client. Expected
answers come from the same queries run directly on a pyoxigraph store of the Turtle files (no server code) and are
read back with rdflib's parsers."""

from __future__ import annotations

import html
import io
import json
import re
import warnings
from collections.abc import Iterator
from typing import Any

import httpx
import pyoxigraph as ox
import pytest
import rdflib
from gql import Client, gql
from gql.transport.httpx import HTTPXTransport
from rdflib.compare import isomorphic
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from servers import Served, kg_server
from SPARQLWrapper import CSV, JSON, JSONLD, N3, RDF, RDFXML, TSV, TURTLE, XML, SPARQLWrapper

# SPARQLWrapper and rdflib's SPARQLStore leave their urllib sockets to the garbage collector
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

LUPUS = "https://w3id.org/scad/id/lupus"
QUERIES = {
    "SELECT": f"SELECT ?label WHERE {{ <{LUPUS}> <http://www.w3.org/2004/02/skos/core#altLabel> ?label }}",
    "ASK": f"ASK {{ <{LUPUS}> ?p ?o }}",
    "CONSTRUCT": f"CONSTRUCT WHERE {{ <{LUPUS}> ?p ?o }}",
    "DESCRIBE": f"DESCRIBE <{LUPUS}>",
}
FORMATS = [XML, JSON, JSONLD, N3, TURTLE, RDF, RDFXML, CSV, TSV]
NATIVE = {"SELECT": {XML, JSON, CSV, TSV}, "ASK": {XML, JSON, CSV, TSV}}
"""The return formats SPARQLWrapper itself knows for each form; for the others it warns that it sends */*."""
NATIVE["CONSTRUCT"] = NATIVE["DESCRIBE"] = {XML, JSONLD, N3, TURTLE, RDFXML}
RDF_TYPES = {
    "text/turtle": "turtle",
    "application/n-triples": "nt",
    "application/rdf+xml": "xml",
    "application/ld+json": "json-ld",
}
RESULT_TYPES = {
    "application/sparql-results+json": "json",
    "application/sparql-results+xml": "xml",
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
}


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    with kg_server(env={"KG_ACCESS_LOG": "false"}) as s:
        yield s


def expected(store: ox.Store, form: str) -> Any:
    """The answer of the form's query on the store itself: label strings, a boolean or an rdflib graph."""
    result = store.query(QUERIES[form], use_default_graph_as_union=True)
    if form == "SELECT":
        assert isinstance(result, ox.QuerySolutions)
        return {row["label"].value for row in result}  # type: ignore[union-attr]
    if form == "ASK":
        return bool(result)
    nt = ox.serialize(list(result), format=ox.RdfFormat.N_TRIPLES).decode()  # type: ignore[arg-type]
    return rdflib.Graph().parse(data=nt, format="nt")


def answer_of(client: SPARQLWrapper, form: str) -> Any:
    """The client's answer, read back with rdflib whatever SPARQLWrapper made of it."""
    response = client.query()
    media = response.info()["content-type"].split(";")[0].strip()
    data = response.convert()
    if form in ("CONSTRUCT", "DESCRIBE"):
        if isinstance(data, rdflib.Graph):
            return data
        assert media in RDF_TYPES, media
        return rdflib.Graph().parse(data=data, format=RDF_TYPES[media])  # type: ignore[arg-type]
    if isinstance(data, dict):
        raw = json.dumps(data).encode()
    elif isinstance(data, bytes):
        raw = data
    else:  # an xml.dom.minidom document
        raw = data.toxml().encode()
    if form == "ASK" and media in ("text/csv", "text/tab-separated-values"):
        return {b"true": True, b"false": False}[raw.strip()]
    assert media in RESULT_TYPES, media
    result = rdflib.query.Result.parse(io.BytesIO(raw), format=RESULT_TYPES[media])
    if form == "ASK":
        return result.askAnswer
    return {str(row[0]) for row in result}  # type: ignore[index]


def same(form: str, got: Any, want: Any) -> bool:
    return isomorphic(got, want) if form in ("CONSTRUCT", "DESCRIBE") else bool(got == want)


@pytest.mark.parametrize("form", list(QUERIES))
def test_sparqlwrapper_defaults_for_every_form(served: Served, store: ox.Store, form: str) -> None:
    for method in ("GET", "POST"):
        client = SPARQLWrapper(f"{served.url}/sparql")
        client.setMethod(method)
        client.setQuery(QUERIES[form])
        assert same(form, answer_of(client, form), expected(store, form)), (form, method)


@pytest.mark.parametrize("form", list(QUERIES))
@pytest.mark.parametrize("return_format", FORMATS)
def test_sparqlwrapper_every_return_format(served: Served, store: ox.Store, form: str, return_format: str) -> None:
    client = SPARQLWrapper(f"{served.url}/sparql")
    client.setQuery(QUERIES[form])
    client.setReturnFormat(return_format)
    with warnings.catch_warnings():
        if return_format not in NATIVE[form]:
            # SPARQLWrapper warns that it sends Accept */* and that the answer is not in the format it asked for
            warnings.simplefilter("ignore", RuntimeWarning)
        got = answer_of(client, form)
    assert same(form, got, expected(store, form)), (form, return_format)


def test_rdflib_sparqlstore_every_form(served: Served, store: ox.Store) -> None:
    for return_format in ("json", "xml"):
        graph = rdflib.Graph(store=SPARQLStore(f"{served.url}/sparql", returnFormat=return_format))
        assert {str(r[0]) for r in graph.query(QUERIES["SELECT"])} == expected(store, "SELECT")  # type: ignore[index]
        assert graph.query(QUERIES["ASK"]).askAnswer is expected(store, "ASK")
        triples = set(graph.triples((rdflib.URIRef(LUPUS), None, None)))
        assert triples == set(expected(store, "CONSTRUCT"))
    # SPARQLStore's Accept is the return format's media types only: with "xml" that includes RDF/XML for a graph
    graph = rdflib.Graph(store=SPARQLStore(f"{served.url}/sparql", returnFormat="xml"))
    for form in ("CONSTRUCT", "DESCRIBE"):
        got = graph.query(QUERIES[form]).graph
        assert got is not None and isomorphic(got, expected(store, form)), form


def test_gql_client_with_the_served_schema(served: Served, store: ox.Store) -> None:
    transport = HTTPXTransport(url=f"{served.url}/graphql")
    with Client(transport=transport, fetch_schema_from_transport=True) as session:
        document = gql("query Lupus($id: ID!) { entity(id: $id) { label synonyms ... on Disease { curie } } }")
        document.variable_values = {"id": "kgr:lupus"}
        data = session.execute(document)
        labels = store.query(f"SELECT ?p ?l WHERE {{ <{LUPUS}> ?p ?l }}", use_default_graph_as_union=True)
        by_property: dict[str, set[str]] = {}
        for row in labels:  # type: ignore[union-attr]
            by_property.setdefault(row["p"].value, set()).add(row["l"].value)  # type: ignore[index]
        skos = "http://www.w3.org/2004/02/skos/core#"
        assert {data["entity"]["label"]} == by_property[skos + "prefLabel"]
        assert set(data["entity"]["synonyms"]) == by_property[skos + "altLabel"]
        assert data["entity"]["curie"] == "kgr:lupus"
        with pytest.raises(Exception, match="nosuchfield"):  # gql validates against the schema it fetched
            session.execute(gql('{ entity(id: "kgr:lupus") { nosuchfield } }'))


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"


@pytest.mark.parametrize("form", list(QUERIES))
def test_a_browser_gets_a_table_with_links_to_the_formats(served: Served, store: ox.Store, form: str) -> None:
    with httpx.Client(base_url=served.url, timeout=30) as http:
        page = http.get("/sparql", params={"query": QUERIES[form]}, headers={"Accept": BROWSER_ACCEPT})
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "script-src 'self'" in page.headers["content-security-policy"]
        body = page.text
        want = expected(store, form)
        if form == "ASK":
            assert "<code>true</code>" in body
        else:
            rows = re.findall(r"<tr><td>", body)
            assert len(rows) == len(want)
        links = re.findall(r'<a href="([^"]+)" type="([^"]+)" rel="alternate nofollow">', body)
        assert len(links) == 4
        for href, media in links:  # each link gives the same answer in its format
            answer = http.get(html.unescape(href))
            assert answer.status_code == 200 and answer.headers["content-type"].startswith(media), href
