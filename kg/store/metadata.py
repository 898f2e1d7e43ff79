"""What editors read about the graph, as two named graphs beside the data: a VoID description of the release (class
and property partitions with their counts) and the named queries as SHACL SPARQL executables (the SIB SPARQL
examples convention: ``rdfs:comment``, ``sh:select``/``sh:ask``/``sh:construct``/``sh:describe``, ``schema:target``),
so a SPARQL editor that queries the endpoint for them (the SIB editor, for one) can autocomplete classes and list
the examples. Both are made from the data graphs before they are added to the store, so VoID counts only the data."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Final

import pyoxigraph as ox

from kg.namespaces import BASE, GRAPH, PREFIXES, RDF_TYPE
from kg.queries.catalog import Catalog, NamedQuery
from kg.queries.text import inline_values

VOID: Final = "http://rdfs.org/ns/void#"
SH: Final = "http://www.w3.org/ns/shacl#"
SCHEMA: Final = "https://schema.org/"
DCTERMS: Final = "http://purl.org/dc/terms/"
RDFS: Final = "http://www.w3.org/2000/01/rdf-schema#"
XSD_INTEGER: Final = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")
DATASET: Final = BASE + "dataset"
"""The VoID dataset: the graph of the five articles, the union of the named graphs of the Turtle files."""
ENDPOINT: Final = BASE + "sparql"
"""The endpoint the examples target, under the graph's proposed base (like every IRI here, not redirected yet)."""
QUERIES: Final = BASE + "queries/"
VOID_GRAPH: Final = GRAPH + "void"
EXAMPLES_GRAPH: Final = GRAPH + "examples"
EXECUTABLES: Final = {
    "SELECT": ("SPARQLSelectExecutable", "select"),
    "ASK": ("SPARQLAskExecutable", "ask"),
    "CONSTRUCT": ("SPARQLConstructExecutable", "construct"),
    "DESCRIBE": ("SPARQLExecutable", "describe"),
}
"""SHACL's executable class and property for each form; DESCRIBE has neither in SHACL, so (as the SIB examples do)
it is a plain sh:SPARQLExecutable with sh:describe."""


def _n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def _count(value: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple | None) -> ox.Literal:
    return ox.Literal(value.value if isinstance(value, ox.Literal) else "0", datatype=XSD_INTEGER)


def _partition(kind: str, iri: str) -> ox.NamedNode:
    return _n(f"{DATASET}/{kind}-partition/{hashlib.sha256(iri.encode()).hexdigest()[:16]}")


def _rows(store: ox.Store, query: NamedQuery) -> list[ox.QuerySolution]:
    result = store.query(query.text, use_default_graph_as_union=True, prefixes=PREFIXES)
    assert isinstance(result, ox.QuerySolutions)
    return list(result)


def void(store: ox.Store, catalog: Catalog, release: str) -> list[ox.Triple]:
    """The VoID description of the data in ``store`` (counts over the union of its named graphs)."""
    dataset = _n(DATASET)
    a = _n(RDF_TYPE)
    totals = _rows(store, catalog.get("void_totals"))[0]
    triples = [
        ox.Triple(dataset, a, _n(VOID + "Dataset")),
        ox.Triple(
            dataset, _n(DCTERMS + "title"), ox.Literal("Stem-cell therapies for autoimmune disease", language="en")
        ),
        ox.Triple(dataset, _n(DCTERMS + "hasVersion"), ox.Literal(release)),
        ox.Triple(dataset, _n(VOID + "sparqlEndpoint"), _n(ENDPOINT)),
        ox.Triple(dataset, _n(VOID + "uriSpace"), ox.Literal(PREFIXES["kgr"])),
        ox.Triple(dataset, _n(VOID + "vocabulary"), _n(BASE + "ontology")),
    ]
    for name, column in (
        ("triples", "triples"),
        ("distinctSubjects", "subjects"),
        ("distinctObjects", "objects"),
        ("properties", "properties"),
        ("classes", "classes"),
        ("entities", "entities"),
    ):
        triples.append(ox.Triple(dataset, _n(VOID + name), _count(totals[column])))
    for row in _rows(store, catalog.get("void_classes")):
        cls = row["class"]
        assert isinstance(cls, ox.NamedNode)
        part = _partition("class", cls.value)
        triples += [
            ox.Triple(dataset, _n(VOID + "classPartition"), part),
            ox.Triple(part, _n(VOID + "class"), cls),
            ox.Triple(part, _n(VOID + "entities"), _count(row["entities"])),
        ]
    for row in _rows(store, catalog.get("void_properties")):
        prop = row["property"]
        assert isinstance(prop, ox.NamedNode)
        part = _partition("property", prop.value)
        triples += [
            ox.Triple(dataset, _n(VOID + "propertyPartition"), part),
            ox.Triple(part, _n(VOID + "property"), prop),
            ox.Triple(part, _n(VOID + "triples"), _count(row["triples"])),
            ox.Triple(part, _n(VOID + "distinctSubjects"), _count(row["subjects"])),
            ox.Triple(part, _n(VOID + "distinctObjects"), _count(row["objects"])),
        ]
    return triples


def example_text(query: NamedQuery) -> str:
    """The query as an editor runs it: on its parameters' examples (bound as a VALUES block, as the API binds them)."""
    examples = {p.name: p.example for p in query.params if p.example is not None}
    return inline_values(query.text, query.bind(examples)) if examples else query.text


def examples(catalog: Catalog) -> list[ox.Triple]:
    """Every named query (not the quality rules) as a SHACL SPARQL executable."""
    triples: list[ox.Triple] = []
    a = _n(RDF_TYPE)
    for query in catalog:
        if query.kind not in EXECUTABLES or query.severity is not None:
            continue
        cls, prop = EXECUTABLES[query.kind]
        node = _n(QUERIES + query.name)
        comment = query.summary + (f"\n\n{query.description}" if query.description else "")
        triples += [
            ox.Triple(node, a, _n(SH + "SPARQLExecutable")),
            ox.Triple(node, _n(RDFS + "label"), ox.Literal(query.name)),
            ox.Triple(node, _n(RDFS + "comment"), ox.Literal(comment, language="en")),
            ox.Triple(node, _n(SH + prop), ox.Literal(example_text(query))),
            ox.Triple(node, _n(SCHEMA + "target"), _n(ENDPOINT)),
        ]
        if cls != "SPARQLExecutable":
            triples.append(ox.Triple(node, a, _n(SH + cls)))
        triples += [ox.Triple(node, _n(SCHEMA + "keywords"), ox.Literal(tag)) for tag in query.tags]
    return triples


def metadata_quads(store: ox.Store, catalog: Catalog, release: str) -> list[ox.Quad]:
    """The VoID and examples graphs for the data in ``store``, to add to it."""

    def quads(triples: Iterable[ox.Triple], graph: str) -> list[ox.Quad]:
        return [ox.Quad(t.subject, t.predicate, t.object, _n(graph)) for t in triples]

    return quads(void(store, catalog, release), VOID_GRAPH) + quads(examples(catalog), EXAMPLES_GRAPH)
