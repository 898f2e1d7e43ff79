"""The prefixes of the graph, defined once: the formatter writes exactly these, queries get them by default."""

from __future__ import annotations

from typing import Final

BASE: Final = "https://w3id.org/scad/"
SCAD: Final = BASE + "ontology#"
"""The vocabulary: classes and properties of the ontology."""
KGR: Final = BASE + "id/"
"""The resources: entities, claims, sources, mappings."""
SCADSH: Final = BASE + "shapes#"
"""The SHACL shapes and the named quality rules."""
GRAPH: Final = BASE + "graph/"
"""Named graphs, one per Turtle file (``graph/ontology/scad.ttl``)."""
DRAFT: Final = BASE + "draft#"
"""The marks of ``kg draft`` (status, offsets, confidence); only in ``ontology/drafts/``, never in the graph."""
INFERRED_GRAPH: Final = GRAPH + "inferred.ttl"
"""The inferred graph (``ontology/inferred.ttl``, written by `kg derive`): entailments and computed beliefs."""

PREFIXES: Final[dict[str, str]] = {
    "scad": SCAD,
    "kgr": KGR,
    "scadsh": SCADSH,
    "draft": DRAFT,
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "prov": "http://www.w3.org/ns/prov#",
    "oa": "http://www.w3.org/ns/oa#",
    "sh": "http://www.w3.org/ns/shacl#",
    "biolink": "https://w3id.org/biolink/vocab/",
    "obo": "http://purl.obolibrary.org/obo/",
    "mesh": "http://id.nlm.nih.gov/mesh/",
    "efo": "http://www.ebi.ac.uk/efo/",
    "sssom": "https://w3id.org/sssom/",
    "vann": "http://purl.org/vocab/vann/",
}

RDF_TYPE: Final = PREFIXES["rdf"] + "type"


def sparql_prologue() -> str:
    """The PREFIX lines for every prefix above, for queries that want them."""
    return "".join(f"PREFIX {name}: <{iri}>\n" for name, iri in PREFIXES.items())


def curie(iri: str) -> str:
    """The shortest prefixed form of ``iri``, or ``iri`` itself when no prefix fits."""
    best = ""
    for name, ns in PREFIXES.items():
        if iri.startswith(ns) and len(ns) > len(PREFIXES.get(best, "")):
            best = name
    return f"{best}:{iri[len(PREFIXES[best]) :]}" if best else iri


def expand(text: str) -> str:
    """The full IRI for a CURIE of a known prefix (``kgr:hsct``), or ``text`` unchanged."""
    name, sep, local = text.partition(":")
    if sep and name in PREFIXES and not local.startswith("//"):
        return PREFIXES[name] + local
    return text
