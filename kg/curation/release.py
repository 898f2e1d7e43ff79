"""`kg release`: the files downstream pipelines ingest, written to ``dist/`` with a manifest of versions and hashes.

- ``graph.nq`` (one named graph per Turtle file), ``graph.ttl`` (canonical Turtle of the union), ``graph.jsonld``;
- ``closure.nt``: the graph with what OWL 2 RL (owlrl) infers from it;
- ``nodes.tsv`` / ``edges.tsv``: KGX, with Biolink categories and predicates, one edge per claim with Biolink's
  text-mining evidence (the quote as supporting text, where it names the subject and object, the source);
- ``mappings.sssom.tsv``: every identifier mapping with its verification;
- ``void.ttl`` (VoID: class and property partitions with their counts), ``examples.ttl`` (the named queries as
  SHACL SPARQL executables) and both as their named graphs in ``metadata.nq``, to load beside ``graph.nq``;
- ``nanopubs.trig`` with ``--nanopubs``: every claim as a nanopublication with a trusty URI (`kg.curation.nanopubs`);
- ``stats.json`` and ``manifest.json``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import subprocess
from collections.abc import Iterable
from pathlib import Path

import owlrl
import pyoxigraph as ox
import rdflib

from kg import __version__
from kg.curation.formatting import write_atomically
from kg.curation.nanopubs import Signer, nanopublications
from kg.curation.stats import compute
from kg.curation.validate import to_rdflib
from kg.namespaces import PREFIXES, curie
from kg.queries.catalog import Catalog
from kg.rdf.dataset import Dataset
from kg.rdf.turtle import serialize
from kg.store.backends import memory_store, run
from kg.store.metadata import examples, metadata_quads, void

SEMAPV = "https://w3id.org/semapv/vocab/"
STATUS_CONFIDENCE = {
    "VerifiedInOntology": 1.0,
    "VerifiedInCuratedMappings": 0.9,
    "VerifiedSecondary": 0.7,
    "Unverified": 0.3,
}


def _rows(store: ox.Store, catalog: Catalog, name: str) -> list[dict[str, str]]:
    solutions = run(store, catalog.get(name))
    assert isinstance(solutions, ox.QuerySolutions)
    names = [v.value for v in solutions.variables]
    return [{n: (row[n].value if row[n] is not None else "") for n in names} for row in solutions]


def _tsv(header: list[str], rows: Iterable[list[str]], preamble: str = "") -> str:
    buffer = io.StringIO()
    buffer.write(preamble)
    writer = csv.writer(buffer, delimiter="\t", lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def kgx_nodes(store: ox.Store, catalog: Catalog, release: str) -> str:
    rows = [
        [
            curie(r["entity"]),
            curie(r["category"]),
            r["name"],
            r["synonyms"],
            "|".join(curie(x) for x in r["xrefs"].split("|") if x),
            f"scad:{release}",
        ]
        for r in _rows(store, catalog, "release_nodes")
    ]
    return _tsv(["id", "category", "name", "synonym", "xref", "provided_by"], rows)


INFORES = "infores:scad-kg"
"""This graph as a knowledge source (not registered in the Translator infores catalogue; see the README)."""


def location_in_text(quote: str, labels: Iterable[str]) -> str:
    """Biolink's ``subject_location_in_text`` / ``object_location_in_text``: the character offsets (start|end) of the
    first place the quote names the entity by its label or a synonym (longest first, ignoring case); empty where the
    quote names it otherwise."""
    caseless = len(quote.casefold()) == len(quote)  # else casefolding would move the offsets: match the case
    folded = quote.casefold() if caseless else quote
    for label in sorted({label for label in labels if label}, key=len, reverse=True):
        wanted = label.casefold() if caseless else label
        start = folded.find(wanted)
        if start >= 0 and quote[start : start + len(wanted)].casefold() == label.casefold():
            return f"{start}|{start + len(wanted)}"
    return ""


def kgx_edges(store: ox.Store, catalog: Catalog) -> str:
    names: dict[str, list[str]] = {
        r["entity"]: [r["name"], *r["synonyms"].split("|")] for r in _rows(store, catalog, "release_nodes")
    }
    rows = []
    for r in _rows(store, catalog, "release_edges"):
        predicate = curie(r["biolink"]) if r["biolink"] else "biolink:related_to"
        level = r["level"].rsplit("/", 1)[-1] if r["level"] else "not_provided"
        rows.append(
            [
                curie(r["claim"]),
                curie(r["subject"]),
                predicate,
                curie(r["object"]),
                curie(r["predicate"]),
                INFORES,
                curie(r["source"]),
                r["quote"],
                location_in_text(r["quote"], names.get(r["subject"], [])),
                location_in_text(r["quote"], names.get(r["object"], [])),
                r["date"][:4],
                level,
                "automated_agent",
                r["negated"],
                curie(r["certainty"]),
                curie(r["evidence"]) if r["evidence"] else "",
                r["belief"],
                curie(r["evidenceDirection"]),
                curie(r["quoteRole"]),
            ]
        )
    header = [
        "id",
        "subject",
        "predicate",
        "object",
        "original_predicate",
        "primary_knowledge_source",
        "publications",
        "supporting_text",
        "subject_location_in_text",
        "object_location_in_text",
        "supporting_document_year",
        "knowledge_level",
        "agent_type",
        "negated",
        "certainty",
        "has_evidence",
        "belief",
        "evidence_direction",
        "quote_role",
    ]
    return _tsv(header, rows)


def sssom(store: ox.Store, catalog: Catalog, release: str) -> str:
    prefixes = {k: v for k, v in PREFIXES.items() if k in ("kgr", "obo", "mesh", "efo", "skos", "semapv")}
    prefixes["semapv"] = SEMAPV
    preamble = "".join(
        [
            f"#mapping_set_id: https://w3id.org/scad/mappings/{release}\n",
            "#license: https://creativecommons.org/licenses/by/4.0/\n",
            "#curie_map:\n",
        ]
        + [f"#  {k}: {v}\n" for k, v in sorted(prefixes.items())]
    )
    rows = []
    for r in _rows(store, catalog, "release_mappings"):
        status = r["status"].rsplit("#", 1)[-1]
        rows.append(
            [
                curie(r["subject"]),
                r["subjectLabel"],
                curie(r["predicate"]),
                curie(r["object"]),
                r["objectLabel"],
                "semapv:ManualMappingCuration",
                str(STATUS_CONFIDENCE.get(status, 0.3)),
                f"{status}: {r['verifiedIn']}".strip(": "),
            ]
        )
    header = [
        "subject_id",
        "subject_label",
        "predicate_id",
        "object_id",
        "object_label",
        "mapping_justification",
        "confidence",
        "comment",
    ]
    return _tsv(header, rows, preamble)


def _nt(term: rdflib.term.Node) -> str:
    """N-Triples for a term; rdflib's n3() writes a literal with a line break in Turtle's long form."""
    if isinstance(term, rdflib.Literal):
        datatype = ox.NamedNode(str(term.datatype)) if term.datatype is not None and not term.language else None
        return str(ox.Literal(str(term), language=term.language, datatype=datatype))
    return str(term.n3())


def closure(data: Dataset) -> str:
    graph: rdflib.Graph = to_rdflib(data.triples())
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics, axiomatic_triples=False, datatype_axioms=False).expand(graph)
    lines = sorted(
        {
            f"{s.n3()} {p.n3()} {_nt(o)} ."
            for s, p, o in graph
            # owlrl also states facts about literals (literal subjects), which RDF 1.1 files cannot hold
            if isinstance(s, rdflib.URIRef) and isinstance(p, rdflib.URIRef) and not isinstance(o, rdflib.BNode)
        }
    )
    return "\n".join(lines) + "\n"


def nquads(store: ox.Store, catalog: Catalog, release: str) -> dict[str, bytes]:
    """``graph.nq`` (the graphs of the files) and ``metadata.nq`` (the VoID and examples graphs): every named graph
    of the release, as a SPARQL engine loads them (tests/servers.py loads them into Virtuoso)."""
    return {
        "graph.nq": store.dump(format=ox.RdfFormat.N_QUADS) or b"",
        "metadata.nq": ox.serialize(metadata_quads(store, catalog, release), format=ox.RdfFormat.N_QUADS) or b"",
    }


def write_release(
    data: Dataset,
    catalog: Catalog,
    release: str,
    target: Path,
    record: dict[str, object] | None = None,
    nanopubs: bool = False,
    signer: Signer | None = None,
) -> dict[str, object]:
    """Write every release file into ``target`` and return the manifest (with ``record``: how it was made); with
    ``nanopubs``, ``nanopubs.trig`` too (every claim as a nanopublication, signed by ``signer`` when given)."""
    store = memory_store(data.quads)
    target.mkdir(parents=True, exist_ok=True)
    quads = nquads(store, catalog, release)
    files: dict[str, bytes] = {
        "graph.nq": quads["graph.nq"],
        "graph.ttl": serialize(data.triples()).encode(),
        "graph.jsonld": ox.serialize(list(data.triples()), format=ox.RdfFormat.JSON_LD) or b"",
        "closure.nt": closure(data).encode(),
        "nodes.tsv": kgx_nodes(store, catalog, release).encode(),
        "edges.tsv": kgx_edges(store, catalog).encode(),
        "mappings.sssom.tsv": sssom(store, catalog, release).encode(),
        "void.ttl": serialize(void(store, catalog, release)).encode(),
        "examples.ttl": serialize(examples(catalog)).encode(),
        "metadata.nq": quads["metadata.nq"],
        "stats.json": (
            json.dumps(compute(store, len(data.files), catalog.get("stats")).as_json(), indent=2) + "\n"
        ).encode(),
    }
    if nanopubs:
        trig, _ = nanopublications(to_rdflib(data.triples()), signer)
        files["nanopubs.trig"] = trig
    manifest: dict[str, object] = {"version": __version__, "release": release, **(record or {}), "files": {}}
    for name, body in files.items():
        write_atomically(target / name, body.decode("utf-8"))
        manifest["files"][name] = {"sha256": hashlib.sha256(body).hexdigest(), "bytes": len(body)}  # type: ignore[index]
    write_atomically(target / "manifest.json", json.dumps(manifest, indent=2) + "\n")
    return manifest


def uncommitted(ontology_dir: Path) -> list[str] | None:
    """The files under ``ontology_dir`` that differ from git's HEAD (``git status``); None when git cannot tell."""
    try:
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=all", "--", "."],
            cwd=ontology_dir,
            capture_output=True,
            text=True,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if status.returncode != 0:
        return None
    return [line[3:] for line in status.stdout.splitlines() if line.strip()]
