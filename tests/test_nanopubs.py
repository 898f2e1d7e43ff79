"""`kg release --nanopubs`: every claim as a nanopublication whose trusty URI and signature check out.

The checks do not use the code that made the files, nor the ``nanopub`` package that hashed and signed them: the
trusty URI is recomputed here from the Trusty URI specification's RA module (Kuhn and Dumontier, "Trusty URIs:
Verifiable, Immutable, and Permanent Digital Artifacts for Linked Data", ESWC 2014, and the reference code's
README): the artefact code in every IRI replaced by one space, each quad written as four lines (graph, subject,
predicate, object; a literal as ``^datatype value`` or ``@lang value`` with backslashes and line breaks escaped),
quads sorted and deduplicated, SHA-256, URL-safe base64 without padding, after ``RA``. The signature is checked with
pycryptodome over the same normalized text without the signature triple. What a claim says is checked against the
Turtle files and the source articles.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
import rdflib
from conftest import ROOT, SOURCES, needs_shared_sources
from rdflib import RDF, Literal, URIRef

NP = "http://www.nanopub.org/nschema#"
NPX = "http://purl.org/nanopub/x/"
SCAD = rdflib.Namespace("https://w3id.org/scad/ontology#")
KGR = "https://w3id.org/scad/id/"
DCTERMS = "http://purl.org/dc/terms/"
PROV = "http://www.w3.org/ns/prov#"
OA = "http://www.w3.org/ns/oa#"
RDF_TYPE = str(RDF.type)
XSD_BOOLEAN = "http://www.w3.org/2001/XMLSchema#boolean"
ARTEFACT = re.compile(r"RA[A-Za-z0-9_-]{43}")

CONFINED = """
import sys
from kg.execution.confine import deny_network
guard = deny_network()
if guard.mechanism is None:
    sys.exit(77)
from kg.cli import main
sys.argv = ["kg", *sys.argv[1:]]
main()
"""
"""`kg` with the network denied by the kernel (seccomp) before it starts: a connection attempt fails the run."""


def release(target: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    args = ["release", "--nanopubs", "--output", str(target), "--sources", str(SOURCES)]
    return subprocess.run(
        [sys.executable, "-c", CONFINED, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **(env or {})},
    )


def curated_claims() -> rdflib.Graph:
    graph = rdflib.Graph()
    for path in sorted((ROOT / "ontology" / "data").glob("**/*.ttl")):
        graph.parse(path, format="turtle")
    return graph


Quad = tuple[str, str, str, "ox.NamedNode | ox.Literal"]
"""A quad as (graph, subject, predicate) IRIs and an object."""


def read(text: bytes) -> list[Quad]:
    found: list[Quad] = []
    for q in ox.parse(text, format=ox.RdfFormat.TRIG):
        assert isinstance(q.graph_name, ox.NamedNode) and isinstance(q.subject, ox.NamedNode), q  # no blank nodes
        assert isinstance(q.object, (ox.NamedNode, ox.Literal)), q
        found.append((q.graph_name.value, q.subject.value, q.predicate.value, q.object))
    return found


def normalized(quads: list[Quad], artefact: str) -> str:
    """The RA module's normalized form of a nanopublication's quads, its artefact code replaced by a space."""

    def iri(value: str) -> str:
        return value.replace(artefact, " ")

    def line(term: str | ox.NamedNode | ox.Literal) -> str:
        if isinstance(term, ox.Literal):
            value = term.value.replace("\\", "\\\\").replace("\n", "\\n")
            if term.language:
                return f"@{term.language.lower()} {value}\n"
            return f"^{term.datatype.value} {value}\n"
        return iri(term if isinstance(term, str) else term.value) + "\n"

    def key(quad: Quad) -> tuple[object, ...]:
        g, s, p, o = quad
        if isinstance(o, ox.Literal):
            tail: tuple[object, ...] = (1, o.value.encode(), o.datatype.value, o.language or "")
        else:
            tail = (0, iri(o.value).encode(), "", "")
        return (iri(g).encode(), iri(s).encode(), iri(p).encode(), *tail)

    return "".join(dict.fromkeys("".join(line(t) for t in q) for q in sorted(quads, key=key)))


def ra_code(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "RA" + base64.urlsafe_b64encode(digest).decode().rstrip("=")


def split(quads: list[Quad]) -> dict[str, list[Quad]]:
    """The quads of each nanopublication in the file, by its artefact code."""
    found: dict[str, list[Quad]] = {}
    for quad in quads:
        match = ARTEFACT.search(quad[0])
        assert match, f"a graph outside every nanopublication: {quad[0]}"
        found.setdefault(match.group(), []).append(quad)
    return found


def objects(quads: list[Quad], subject: str | None, predicate: str, graph: str | None = None) -> list[Any]:
    return [o for g, s, p, o in quads if p == predicate and subject in (None, s) and graph in (None, g)]


@pytest.fixture(scope="module")
def unsigned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    needs_shared_sources()
    target = tmp_path_factory.mktemp("dist")
    result = release(target)
    if result.returncode == 77 and not os.environ.get("CI"):
        pytest.skip("no kernel network guard here (libseccomp), so the release cannot be shown to run offline")
    assert result.returncode == 0, result.stderr
    return target / "nanopubs.trig"


@pytest.fixture(scope="module")
def parsed(unsigned: Path) -> dict[str, list[Quad]]:
    return split(read(unsigned.read_bytes()))


def test_every_claim_is_one_nanopublication_with_four_graphs(unsigned: Path, parsed: dict[str, list[Quad]]) -> None:
    manifest = json.loads((unsigned.parent / "manifest.json").read_text())
    assert manifest["nanopubs"] == {"signed": False}
    assert manifest["files"]["nanopubs.trig"]["sha256"] == hashlib.sha256(unsigned.read_bytes()).hexdigest()
    claims = {str(c) for c in curated_claims().subjects(RDF.type, SCAD.Claim)}
    assert len(parsed) == len(claims) == 280  # the 280 claims of the five sources
    made_from = set()
    for artefact, quads in parsed.items():
        uri = "https://w3id.org/scad/np/" + artefact
        assert objects(quads, uri, RDF_TYPE) == [ox.NamedNode(NP + "Nanopublication")]
        graphs = {g for g, _, _, _ in quads}
        parts = [objects(quads, uri, NP + part) for part in ("hasAssertion", "hasProvenance", "hasPublicationInfo")]
        assert all(len(part) == 1 for part in parts), parts
        assert graphs == {uri + "#Head"} | {part[0].value for part in parts}  # four graphs, none other
        (claim,) = objects(quads, uri, DCTERMS + "source", uri + "#pubinfo")
        made_from.add(claim.value)
    assert made_from == claims


def by_claim(parsed: dict[str, list[Quad]]) -> dict[str, tuple[str, list[Quad]]]:
    found = {}
    for artefact, quads in parsed.items():
        (claim,) = objects(quads, None, DCTERMS + "source")
        found[claim.value.removeprefix(KGR)] = ("https://w3id.org/scad/np/" + artefact, quads)
    return found


def test_a_claim_asserts_its_statement_and_a_negated_one_never_does(parsed: dict[str, list[Quad]]) -> None:
    claims = by_claim(parsed)
    uri, quads = claims["C003-084"]  # "Potential side effects, especially with HSCT, such as ... infertility"
    assertion = [q[1:] for q in quads if q[0] == uri + "#assertion"]
    hsct = KGR + "hematopoietic-stem-cell-transplantation"
    assert (hsct, str(SCAD.hasAdverseEffect), ox.NamedNode(KGR + "infertility")) in assertion
    assert (KGR + "C003-084", str(SCAD.certainty), ox.NamedNode(str(SCAD.Hedged))) in assertion
    curated = curated_claims()
    negated = list(curated.subjects(SCAD.negated, Literal(True)))
    assert sorted(str(c).removeprefix(KGR) for c in negated) == ["C003-066", "C003-090"]  # claims.tsv: NEGATED
    for claim in negated:
        s, p = (curated.value(claim, q) for q in (SCAD.subject, SCAD.predicate))
        uri, quads = claims[str(claim).removeprefix(KGR)]
        assertion = [q[1:] for q in quads if q[0] == uri + "#assertion"]
        assert not [t for t in assertion if t[0] == str(s) and t[1] == str(p)], claim  # never the denied triple
        assert (str(claim), str(SCAD.negated), ox.Literal("true", datatype=ox.NamedNode(str(XSD_BOOLEAN)))) in assertion


def test_provenance_quotes_the_article_at_its_offsets(parsed: dict[str, list[Quad]]) -> None:
    curated = curated_claims()
    for name, (uri, quads) in by_claim(parsed).items():
        claim = URIRef(KGR + name)
        provenance = uri + "#provenance"
        source = curated.value(claim, SCAD.statedIn)
        assert objects(quads, uri + "#assertion", PROV + "wasDerivedFrom", provenance) == [ox.NamedNode(str(source))]
        article = (SOURCES / str(curated.value(source, SCAD.fileName))).read_text(encoding="utf-8")
        (quote,) = objects(quads, str(claim), str(SCAD.quote), provenance)
        assert quote.value == str(curated.value(claim, SCAD.quote))
        position = KGR + name + "-position"
        assert ox.NamedNode(position) in objects(quads, str(claim), str(SCAD.quoteSelector), provenance)
        (start,), (end,) = (objects(quads, position, OA + p, provenance) for p in ("start", "end"))
        assert article[int(start.value) : int(end.value)] == quote.value, name
        (promotional,) = objects(quads, str(source), str(SCAD.isPromotional), provenance)
        assert promotional.value == str(curated.value(source, SCAD.isPromotional)).lower()


def test_trusty_uris_match_the_ra_module(unsigned: Path, parsed: dict[str, list[Quad]]) -> None:
    for artefact, quads in parsed.items():
        assert ra_code(normalized(quads, artefact)) == artefact
    # the same file twice: nothing in it depends on the time of the run
    args = ["release", "--nanopubs", "--output", str(unsigned.parent / "again"), "--sources", str(SOURCES)]
    again = subprocess.run(
        [sys.executable, "-m", "kg", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert again.returncode == 0, again.stderr
    assert (unsigned.parent / "again" / "nanopubs.trig").read_bytes() == unsigned.read_bytes()


def tampered(quads: list[Quad]) -> list[Quad]:
    quote = str(SCAD.quote)
    return [(g, s, p, ox.Literal(o.value + "!") if p == quote else o) for g, s, p, o in quads]


def test_a_changed_quote_breaks_its_trusty_uri(parsed: dict[str, list[Quad]]) -> None:
    artefact, quads = next(iter(parsed.items()))
    assert tampered(quads) != quads
    assert ra_code(normalized(tampered(quads), artefact)) != artefact


def test_signed_nanopublications_verify_with_the_public_key(tmp_path: Path) -> None:
    from Crypto.Hash import SHA256
    from Crypto.PublicKey import RSA
    from Crypto.Signature import pkcs1_15

    from kg.curation.nanopubs import Signer, nanopublication

    key = RSA.generate(2048)
    pem = tmp_path / "id_rsa.pem"
    pem.write_bytes(key.export_key("PEM", pkcs=8))
    signer = Signer.from_file(pem, "https://orcid.org/0000-0002-1825-0097")  # ORCID's documented example iD
    graph = curated_claims()
    for claim in ("C003-084", "C003-090"):
        text = ox.serialize(nanopublication(graph, URIRef(KGR + claim), signer), format=ox.RdfFormat.TRIG) or b""
        ((artefact, quads),) = split(read(text)).items()
        assert ra_code(normalized(quads, artefact)) == artefact
        (signature,) = [o.value for _, _, p, o in quads if p == NPX + "hasSignature"]
        (public,) = [o.value for _, _, p, o in quads if p == NPX + "hasPublicKey"]
        assert RSA.import_key(base64.b64decode(public)).n == key.n
        unsigned = [q for q in quads if q[2] != NPX + "hasSignature"]
        verifier = pkcs1_15.new(key.public_key())
        verifier.verify(SHA256.new(normalized(unsigned, artefact).encode()), base64.b64decode(signature))
        creators = [o.value for _, _, p, o in quads if p == DCTERMS + "creator"]
        assert creators == ["https://orcid.org/0000-0002-1825-0097"]
        with pytest.raises(ValueError):
            verifier.verify(SHA256.new(normalized(tampered(unsigned), artefact).encode()), base64.b64decode(signature))


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"-----BEGIN PUBLIC KEY-----\nMIIBIjANBg\n-----END PUBLIC KEY-----\n", "is a public key"),
        (b"not a key at all", "expected an RSA private key"),
        (b"QUJDRA==\n", "not an RSA private key"),
        (b"\xff\xfe", "cannot read"),
    ],
)
def test_a_key_that_cannot_sign_is_named_before_any_work(tmp_path: Path, content: bytes, expected: str) -> None:
    key = tmp_path / "key"
    key.write_bytes(content)
    result = subprocess.run(
        [sys.executable, "-m", "kg", "release", "--nanopubs", "--output", str(tmp_path / "dist")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "KG_NANOPUB_KEY": str(key), "KG_SOURCES_DIR": str(SOURCES)},
    )
    assert result.returncode == 2
    assert str(key) in result.stderr and expected in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "dist").exists()
