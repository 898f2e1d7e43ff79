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

import pytest
import rdflib
from conftest import ROOT, SOURCES, needs_shared_sources
from rdflib import RDF, XSD, Literal, URIRef

NP = rdflib.Namespace("http://www.nanopub.org/nschema#")
NPX = rdflib.Namespace("http://purl.org/nanopub/x/")
SCAD = rdflib.Namespace("https://w3id.org/scad/ontology#")
KGR = "https://w3id.org/scad/id/"
DCTERMS = rdflib.Namespace("http://purl.org/dc/terms/")
PROV = rdflib.Namespace("http://www.w3.org/ns/prov#")
OA = rdflib.Namespace("http://www.w3.org/ns/oa#")
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


def normalized(quads: list[tuple[rdflib.term.Node, ...]], artefact: str) -> str:
    """The RA module's normalized form of a nanopublication's quads, its artefact code replaced by a space."""

    def line(term: rdflib.term.Node) -> str:
        if isinstance(term, Literal):
            value = str(term).replace("\\", "\\\\").replace("\n", "\\n")
            if term.language:
                return f"@{term.language.lower()} {value}\n"
            return f"^{term.datatype or XSD.string} {value}\n"
        assert isinstance(term, URIRef), term  # the files hold no blank nodes
        return str(term).replace(artefact, " ") + "\n"

    def key(quad: tuple[rdflib.term.Node, ...]) -> tuple[object, ...]:
        g, s, p, o = quad
        if isinstance(o, Literal):
            tail: tuple[object, ...] = (1, str(o).encode(), str(o.datatype or ""), o.language or "")
        else:
            tail = (0, str(o).replace(artefact, " ").encode(), "", "")
        return (*(str(t).replace(artefact, " ").encode() for t in (g, s, p)), *tail)

    return "".join(dict.fromkeys("".join(line(t) for t in q) for q in sorted(quads, key=key)))


def ra_code(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "RA" + base64.urlsafe_b64encode(digest).decode().rstrip("=")


def split(dataset: rdflib.Dataset) -> dict[str, list[tuple[rdflib.term.Node, ...]]]:
    """The quads of each nanopublication in the file, by its artefact code."""
    found: dict[str, list[tuple[rdflib.term.Node, ...]]] = {}
    for s, p, o, g in dataset.quads():
        name = g.identifier if isinstance(g, rdflib.Graph) else g
        match = ARTEFACT.search(str(name))
        assert match, f"a graph outside every nanopublication: {name}"
        found.setdefault(match.group(), []).append((name, s, p, o))
    return found


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
def parsed(unsigned: Path) -> rdflib.Dataset:
    dataset = rdflib.Dataset()
    dataset.parse(unsigned, format="trig")
    return dataset


def test_every_claim_is_one_nanopublication_with_four_graphs(unsigned: Path, parsed: rdflib.Dataset) -> None:
    manifest = json.loads((unsigned.parent / "manifest.json").read_text())
    assert manifest["nanopubs"] == {"signed": False}
    assert manifest["files"]["nanopubs.trig"]["sha256"] == hashlib.sha256(unsigned.read_bytes()).hexdigest()
    claims = {str(c) for c in curated_claims().subjects(RDF.type, SCAD.Claim)}
    heads = list(parsed.quads((None, RDF.type, NP.Nanopublication, None)))
    assert len(heads) == len(claims) == 280  # the 280 claims of the five sources
    made_from = {str(o) for _, _, o, _ in parsed.quads((None, DCTERMS.source, None, None))}
    assert made_from == claims
    for np_uri, _, _, head in heads:
        assert str(np_uri).startswith("https://w3id.org/scad/np/RA")
        parts = {p: parsed.value(np_uri, p, any=False) for p in (NP.hasAssertion, NP.hasProvenance)}
        for part in (NP.hasAssertion, NP.hasProvenance, NP.hasPublicationInfo):
            graph = next(parsed.objects(np_uri, part))
            assert len(parsed.graph(graph)) > 0, (np_uri, part)
        assert parts[NP.hasAssertion] is not None


def test_a_claim_asserts_its_statement_and_a_negated_one_never_does(parsed: rdflib.Dataset) -> None:
    def assertion_of(claim: str) -> rdflib.Graph:
        (np_uri, _, _, _), *rest = parsed.quads((None, DCTERMS.source, URIRef(KGR + claim), None))
        assert not rest
        return parsed.graph(next(parsed.objects(np_uri, NP.hasAssertion)))

    hsct = URIRef(KGR + "hematopoietic-stem-cell-transplantation")
    hedged = assertion_of("C003-084")  # "Potential side effects, especially with HSCT, such as ... infertility"
    assert (hsct, SCAD.hasAdverseEffect, URIRef(KGR + "infertility")) in hedged
    assert (URIRef(KGR + "C003-084"), SCAD.certainty, SCAD.Hedged) in hedged
    curated = curated_claims()
    negated = [c for c in curated.subjects(SCAD.negated, Literal(True))]
    assert len(negated) >= 3
    for claim in negated:
        statement = tuple(curated.value(claim, p) for p in (SCAD.subject, SCAD.predicate, SCAD.object))
        graph = assertion_of(str(claim).removeprefix(KGR))
        assert statement not in graph, claim
        assert (claim, SCAD.negated, Literal(True)) in graph


def test_provenance_quotes_the_article_at_its_offsets(parsed: rdflib.Dataset) -> None:
    curated = curated_claims()
    checked = 0
    for np_uri, _, claim, _ in parsed.quads((None, DCTERMS.source, None, None)):
        provenance = parsed.graph(next(parsed.objects(np_uri, NP.hasProvenance)))
        assertion = next(parsed.objects(np_uri, NP.hasAssertion))
        source = curated.value(claim, SCAD.statedIn)
        assert (assertion, PROV.wasDerivedFrom, source) in provenance
        article = (SOURCES / str(curated.value(source, SCAD.fileName))).read_text(encoding="utf-8")
        quote = provenance.value(claim, SCAD.quote)
        assert quote == curated.value(claim, SCAD.quote)
        position = next(s for s in provenance.objects(claim, SCAD.quoteSelector) if str(s).endswith("-position"))
        start, end = (int(provenance.value(position, p)) for p in (OA.start, OA.end))  # type: ignore[arg-type]
        assert article[start:end] == str(quote), claim
        assert provenance.value(source, SCAD.isPromotional) == curated.value(source, SCAD.isPromotional)
        checked += 1
    assert checked == 280


def test_trusty_uris_match_the_ra_module(unsigned: Path, parsed: rdflib.Dataset) -> None:
    publications = split(parsed)
    assert len(publications) == 280
    for artefact, quads in publications.items():
        assert ra_code(normalized(quads, artefact)) == artefact
    # the same file twice: nothing in it depends on the time of the run
    again = subprocess.run(
        [sys.executable, "-c", "from kg.cli import main; import sys; sys.argv=['kg', *sys.argv[1:]]; main()"]
        + ["release", "--nanopubs", "--output", str(unsigned.parent / "again"), "--sources", str(SOURCES)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert again.returncode == 0, again.stderr
    assert (unsigned.parent / "again" / "nanopubs.trig").read_bytes() == unsigned.read_bytes()


def test_a_changed_quote_breaks_its_trusty_uri(parsed: rdflib.Dataset) -> None:
    artefact, quads = next(iter(split(parsed).items()))
    tampered = [(g, s, p, Literal(str(o) + "!") if p == SCAD.quote else o) for g, s, p, o in quads]
    assert any(p == SCAD.quote for _, _, p, _ in quads)
    assert ra_code(normalized(tampered, artefact)) != artefact


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
        dataset = nanopublication(graph, URIRef(KGR + claim), signer)
        text = dataset.serialize(format="trig")
        reread = rdflib.Dataset()
        reread.parse(data=text, format="trig")
        ((artefact, quads),) = split(reread).items()
        assert ra_code(normalized(quads, artefact)) == artefact
        signature = [o for _, _, p, o in quads if p == NPX.hasSignature]
        public = [o for _, _, p, o in quads if p == NPX.hasPublicKey]
        assert len(signature) == len(public) == 1
        assert RSA.import_key(base64.b64decode(str(public[0]))).n == key.n
        unsigned = [q for q in quads if q[2] != NPX.hasSignature]
        digest = SHA256.new(normalized(unsigned, artefact).encode())
        pkcs1_15.new(key.public_key()).verify(digest, base64.b64decode(str(signature[0])))  # raises if wrong
        assert any(p == DCTERMS.creator and str(o).startswith("https://orcid.org/") for _, _, p, o in quads)
        forged = [(g, s, p, Literal(str(o) + "!") if p == SCAD.quote else o) for g, s, p, o in unsigned]
        with pytest.raises(ValueError):
            pkcs1_15.new(key.public_key()).verify(
                SHA256.new(normalized(forged, artefact).encode()), base64.b64decode(str(signature[0]))
            )


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
