"""Claims as nanopublications (`kg release --nanopubs`): one nanopublication per claim, with a trusty URI.

Each claim becomes the four graphs of a nanopublication (https://nanopub.net/guidelines/working_draft/):

- **assertion**: what the claim states, as the claim resource (``scad:subject``, ``scad:predicate``, ``scad:object``,
  ``scad:negated``, ``scad:certainty`` and its scope), and for a claim that is not negated the plain statement
  itself (``kgr:hsct scad:hasAdverseEffect kgr:infertility``), so a consumer need not read the reification; a
  negated claim never asserts the triple it denies;
- **provenance**: where it comes from: the assertion ``prov:wasDerivedFrom`` its source and ``prov:wasQuotedFrom`` it,
  the verbatim quote with its Web Annotation selectors (character offsets, prefix and suffix), the cues and evidence
  the curators recorded, and the source's own description (title, content type, the promotional flag);
- **publication info**: the claim it was made from (``dcterms:source``), this graph as the agent, the licence, and
  the signature when one was made.

Nothing in it depends on the time of the run, so the same claim gives the same trusty URI in every release until the
claim changes. The trusty URI is computed by the ``nanopub`` package (the RA module: SHA-256 over the normalized
quads); with a key configured (``KG_NANOPUB_KEY``: an RSA private key, PEM or the base64 form ``np setup`` writes)
each nanopublication is signed first, as ``nanopub`` signs, and the signature is covered by the trusty URI. No
nanopublication is published: nothing here opens a connection.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import rdflib
from rdflib import RDF, RDFS, XSD, Literal, Namespace, URIRef

from kg.errors import KgError
from kg.namespaces import BASE, KGR, PREFIXES
from kg.namespaces import SCAD as SCAD_IRI
from kg.store.metadata import DATASET

SCAD = Namespace(SCAD_IRI)
NP = Namespace("http://www.nanopub.org/nschema#")
NPX = Namespace("http://purl.org/nanopub/x/")
PROV = Namespace(PREFIXES["prov"])
DCTERMS = Namespace(PREFIXES["dcterms"])
OA = Namespace(PREFIXES["oa"])
NP_BASE = BASE + "np/"
"""Trusty URIs of the nanopublications: ``https://w3id.org/scad/np/RA…``; a claim's graphs are ``…#assertion`` etc."""
TEMPORARY = Namespace(NP_BASE + "draft#")
"""The nanopublication's URIs before its hash is known (replaced by the trusty URI)."""
LICENSE = URIRef("https://spdx.org/licenses/MIT")
AGENT = URIRef(DATASET)
"""The graph itself (its VoID description), the agent the publication info names."""

STATEMENT = {
    SCAD.subject,
    SCAD.predicate,
    SCAD.object,
    SCAD.objectLiteral,
    SCAD.negated,
    SCAD.certainty,
    SCAD.scope,
}
"""The claim's properties that say what is claimed (the assertion); the rest say where it comes from."""
SOURCE_FIELDS = (DCTERMS.title, DCTERMS.identifier, SCAD.contentType, SCAD.isPromotional, SCAD.fileName)


class NanopubError(KgError):
    """A key that cannot be read, or a claim that cannot become a nanopublication."""


@dataclass(frozen=True)
class Signer:
    """Who signs: an RSA private key (base64 of its DER form, as the ``nanopub`` package keeps it) and an ORCID."""

    private_key: str
    orcid: str | None = None
    name: str = "SCAD knowledge graph"

    @classmethod
    def from_file(cls, path: Path, orcid: str | None = None) -> Signer:
        try:
            text = path.read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as exc:
            raise NanopubError(f"{path}: cannot read the nanopublication signing key ({exc})") from exc
        if "-----BEGIN RSA PUBLIC KEY-----" in text or "-----BEGIN PUBLIC KEY-----" in text:
            raise NanopubError(f"{path}: is a public key; signing needs the private key")
        body = "".join(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("-----"))
        if not body or not re.fullmatch(r"[A-Za-z0-9+/=]+", body):
            raise NanopubError(f"{path}: expected an RSA private key (PEM, or base64 as `np setup` writes it)")
        from base64 import b64decode

        from Crypto.PublicKey import RSA

        try:
            RSA.import_key(b64decode(body))
        except (ValueError, IndexError, TypeError) as exc:
            raise NanopubError(f"{path}: not an RSA private key ({exc})") from exc
        return cls(private_key=body, orcid=orcid)


def _graphs(data: rdflib.Graph, claim: URIRef) -> tuple[rdflib.Graph, rdflib.Graph, rdflib.Graph]:
    assertion, provenance, pubinfo = rdflib.Graph(), rdflib.Graph(), rdflib.Graph()
    here = TEMPORARY
    assertion.add((claim, RDF.type, SCAD.Claim))
    values = {p: data.value(claim, p) for p in (SCAD.subject, SCAD.predicate, SCAD.negated)}
    obj = data.value(claim, SCAD.object) or data.value(claim, SCAD.objectLiteral)
    for p, o in data.predicate_objects(claim):
        o = _plain(o)
        if p == RDF.type:
            continue
        if p in STATEMENT:
            assertion.add((claim, p, o))
        elif p == SCAD.quoteSelector:
            provenance.add((claim, p, o))
            for _, q, v in data.triples((o, None, None)):
                provenance.add((o, q, _plain(v)))
        else:
            provenance.add((claim, p, o))
    subject, predicate = values[SCAD.subject], values[SCAD.predicate]
    if not isinstance(subject, URIRef) or not isinstance(predicate, URIRef) or obj is None:
        raise NanopubError(f"{claim}: a claim needs a subject, a predicate and an object to become a nanopublication")
    if values[SCAD.negated] != Literal(True):
        assertion.add((subject, predicate, _plain(obj)))
    source = data.value(claim, SCAD.statedIn)
    if isinstance(source, URIRef):
        provenance.add((here.assertion, PROV.wasDerivedFrom, source))
        provenance.add((here.assertion, PROV.wasQuotedFrom, source))
        for field in SOURCE_FIELDS:
            for value in data.objects(source, field):
                provenance.add((source, field, _plain(value)))
    pubinfo.add((here[""], DCTERMS.source, claim))
    pubinfo.add((here[""], PROV.wasAttributedTo, AGENT))
    pubinfo.add((here[""], DCTERMS.license, LICENSE))
    pubinfo.add((here[""], RDFS.label, Literal(f"SCAD claim {claim.removeprefix(KGR)}")))
    return assertion, provenance, pubinfo


def _plain(term: rdflib.term.Node) -> rdflib.term.Node:
    """``"x"^^xsd:string`` written as ``"x"``: the same literal in RDF 1.1, and how the Turtle files write it."""
    if isinstance(term, Literal) and term.datatype == XSD.string:
        return Literal(str(term))
    return term


def nanopublication(data: rdflib.Graph, claim: URIRef, signer: Signer | None = None) -> list[ox.Quad]:
    """The claim as one nanopublication (its four graphs, with its trusty URI); signed when ``signer`` is given."""
    from nanopub.sign_utils import add_signature, replace_trusty_in_graph
    from nanopub.trustyuri.rdf import RdfHasher, RdfUtils

    assertion, provenance, pubinfo = _graphs(data, claim)
    here = TEMPORARY
    quads = rdflib.Dataset()
    head = quads.graph(here.Head)
    head.add((here[""], RDF.type, NP.Nanopublication))
    head.add((here[""], NP.hasAssertion, here.assertion))
    head.add((here[""], NP.hasProvenance, here.provenance))
    head.add((here[""], NP.hasPublicationInfo, here.pubinfo))
    for name, graph in (("assertion", assertion), ("provenance", provenance), ("pubinfo", pubinfo)):
        target = quads.graph(here[name])
        for triple in graph:
            target.add(triple)
    if signer is not None and signer.orcid:
        quads.graph(here.pubinfo).add((here[""], DCTERMS.creator, URIRef(signer.orcid)))
    conjunctive = rdflib.ConjunctiveGraph(store=quads.store)
    if signer is not None:
        from nanopub.profile import Profile

        profile = Profile(orcid_id=signer.orcid or "", name=signer.name, private_key=signer.private_key)
        final = add_signature(conjunctive, profile, here, quads.graph(here.pubinfo))
    else:
        artefact = RdfHasher.make_hash(RdfUtils.get_quads(conjunctive), baseuri=str(here), hashstr=" ")  # type: ignore[no-untyped-call]
        final = replace_trusty_in_graph(artefact, str(here), conjunctive)
    order = {"Head": 0, "assertion": 1, "provenance": 2, "pubinfo": 3}
    made: list[ox.Quad] = []
    for s, p, o, g in final.quads():
        made.append(ox.Quad(_ox(s), _ox(p), _ox(o), _ox(g.identifier if isinstance(g, rdflib.Graph) else g)))
    return sorted(made, key=lambda q: (order.get(str(q.graph_name).rpartition("#")[2].rstrip(">"), 4), str(q)))


def _ox(term: rdflib.term.Node | None) -> Any:
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype or XSD.string)))
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    raise NanopubError(f"a nanopublication here holds no blank nodes, found {term!r}")


PREFIXES_WRITTEN = {
    "np": str(NP),
    "npx": str(NPX),
    "prov": str(PROV),
    "dcterms": str(DCTERMS),
    "oa": str(OA),
    "rdfs": str(RDFS),
    "scad": SCAD_IRI,
    "kgr": KGR,
}


def nanopublications(data: rdflib.Graph, signer: Signer | None = None) -> tuple[bytes, int]:
    """Every claim as a nanopublication, in one TriG document (claims in IRI order); and how many there are."""
    claims = sorted(c for c in data.subjects(RDF.type, SCAD.Claim) if isinstance(c, URIRef))
    quads: list[ox.Quad] = []
    for claim in claims:
        quads.extend(nanopublication(data, claim, signer))
    text = (ox.serialize(quads, format=ox.RdfFormat.TRIG, prefixes=PREFIXES_WRITTEN) or b"").decode()
    # the writer lists the prefixes in no fixed order; the same claims must give the same bytes
    body = "".join(line for line in text.splitlines(keepends=True) if not line.startswith("@prefix "))
    head = "".join(f"@prefix {name}: <{iri}> .\n" for name, iri in sorted(PREFIXES_WRITTEN.items()))
    return (head + body).encode(), len(claims)
