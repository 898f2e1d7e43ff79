"""Metadata that SPARQL editors read: the VoID description of the release and the named queries as SHACL SPARQL
executables, in the service description, as named graphs of the store, at /.well-known/void and in `kg release`.
The counts are checked against rdflib over the Turtle files (no code shared with the server), and the examples
against the .rq files read as text."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

import pytest
import rdflib
from conftest import ROOT
from servers import Served, kg_server
from SPARQLWrapper import JSON, SPARQLWrapper
from starlette.testclient import TestClient

from kg.app import create_app
from kg.settings import Settings

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

VOID = rdflib.Namespace("http://rdfs.org/ns/void#")
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
SCHEMA = rdflib.Namespace("https://schema.org/")
DATASET = rdflib.URIRef("https://w3id.org/scad/dataset")
EXAMPLES = """PREFIX sh: <http://www.w3.org/ns/shacl#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT DISTINCT ?sq ?comment ?query WHERE {
    ?sq a sh:SPARQLExecutable ; rdfs:comment ?comment ; sh:select|sh:ask|sh:construct|sh:describe ?query .
} ORDER BY ?sq"""
"""What the SIB SPARQL editor asks an endpoint for its examples."""


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings())) as c:
        yield c


@pytest.fixture(scope="module")
def data() -> rdflib.Graph:
    g = rdflib.Graph()
    for path in sorted((ROOT / "ontology").rglob("*.ttl")):
        g.parse(path, format="turtle")
    return g


def named_queries() -> dict[str, str]:
    """Each named query (not the quality rules) and its summary, read from the .rq files as text."""
    found = {}
    for path in sorted((ROOT / "queries").glob("*.rq")):
        summary = re.search(r"^#\+ summary: (.*)$", path.read_text(encoding="utf-8"), re.M)
        assert summary, path
        found[path.stem] = summary.group(1).strip()
    return found


def check_void(void: rdflib.Graph, data: rdflib.Graph) -> None:
    def count(subject: rdflib.term.Node, prop: rdflib.URIRef) -> int:
        value = void.value(subject, prop)
        assert value is not None, (subject, prop)
        return int(value)

    assert (DATASET, rdflib.RDF.type, VOID.Dataset) in void
    assert count(DATASET, VOID.triples) == len(data)
    assert count(DATASET, VOID.distinctSubjects) == len(set(data.subjects()))
    assert count(DATASET, VOID.distinctObjects) == len(set(data.objects()))
    assert count(DATASET, VOID.properties) == len(set(data.predicates()))
    classes = Counter(c for c in set(data.objects(None, rdflib.RDF.type)))
    assert count(DATASET, VOID.classes) == len(classes)
    assert count(DATASET, VOID.entities) == len(
        {s for s in data.subjects() if str(s).startswith("https://w3id.org/scad/id/")}
    )
    partitions = {
        void.value(p, VOID["class"]): count(p, VOID.entities) for p in void.objects(DATASET, VOID.classPartition)
    }
    assert partitions == {c: len(set(data.subjects(rdflib.RDF.type, c))) for c in classes}
    props = {
        void.value(p, VOID.property): (
            count(p, VOID.triples),
            count(p, VOID.distinctSubjects),
            count(p, VOID.distinctObjects),
        )
        for p in void.objects(DATASET, VOID.propertyPartition)
    }
    expected = {}
    for prop in set(data.predicates()):
        pairs = list(data.subject_objects(prop))
        expected[prop] = (len(pairs), len({s for s, _ in pairs}), len({o for _, o in pairs}))
    assert props == expected


def test_void_at_well_known_counts_the_graph(client: TestClient, data: rdflib.Graph) -> None:
    response = client.get("/.well-known/void", headers={"Accept": "text/turtle"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/graph/void"
    response = client.get("/.well-known/void", headers={"Accept": "text/turtle"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/turtle")
    check_void(rdflib.Graph().parse(data=response.text, format="turtle"), data)


def test_service_description_has_void_and_the_examples(client: TestClient, data: rdflib.Graph) -> None:
    response = client.get("/sparql", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    description = rdflib.Graph().parse(data=response.text, format="turtle")
    sd = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
    service = description.value(None, rdflib.RDF.type, sd.Service)
    assert description.value(service, sd.defaultDataset) == DATASET
    names = {description.value(g, sd.name) for g in description.objects(DATASET, sd.namedGraph)}
    assert names == {
        rdflib.URIRef("https://w3id.org/scad/graph/void"),
        rdflib.URIRef("https://w3id.org/scad/graph/examples"),
    }
    check_void(description, data)
    rows = list(description.query(EXAMPLES))
    expected = named_queries()
    assert {str(r.sq).rsplit("/", 1)[1] for r in rows} == set(expected)  # type: ignore[union-attr]
    for row in rows:
        name = str(row.sq).rsplit("/", 1)[1]  # type: ignore[union-attr]
        assert str(row.comment).startswith(expected[name])  # type: ignore[union-attr]
        assert (row.sq, SCHEMA.target, rdflib.URIRef("https://w3id.org/scad/sparql")) in description  # type: ignore[union-attr]


def test_every_example_runs_and_is_typed_by_its_form(client: TestClient) -> None:
    response = client.get("/graph/examples", headers={"Accept": "text/turtle"})
    examples = rdflib.Graph().parse(data=response.text, format="turtle")
    forms = {
        SH.select: SH.SPARQLSelectExecutable,
        SH.ask: SH.SPARQLAskExecutable,
        SH.construct: SH.SPARQLConstructExecutable,
    }
    for node in set(examples.subjects(rdflib.RDF.type, SH.SPARQLExecutable)):
        texts = [(p, o) for p, o in examples.predicate_objects(node) if p in (*forms, SH.describe)]
        assert len(texts) == 1, node
        prop, text = texts[0]
        if prop in forms:
            assert (node, rdflib.RDF.type, forms[prop]) in examples
        answer = client.post("/sparql", data={"query": str(text)}, headers={"Accept": "*/*"})
        assert answer.status_code == 200, (node, answer.text[:300])


def test_editors_find_the_examples_by_querying_the_endpoint() -> None:
    """What the SIB editor does, with SPARQLWrapper against `kg serve`: the examples are in the store's union graph."""
    served: Served
    with kg_server(env={"KG_ACCESS_LOG": "false"}) as served:
        client = SPARQLWrapper(f"{served.url}/sparql")
        client.setQuery(EXAMPLES)
        client.setReturnFormat(JSON)
        rows = client.query().convert()["results"]["bindings"]  # type: ignore[index]
        assert {r["sq"]["value"].rsplit("/", 1)[1] for r in rows} == set(named_queries())
        client.setQuery(
            "SELECT ?class WHERE { ?d <http://rdfs.org/ns/void#classPartition>/<http://rdfs.org/ns/void#class> ?class }"
        )
        classes = {r["class"]["value"] for r in client.query().convert()["results"]["bindings"]}  # type: ignore[index]
        assert "https://w3id.org/scad/ontology#Disease" in classes
