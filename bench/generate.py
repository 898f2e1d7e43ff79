"""A synthetic graph of the same shape as the real one (entities with labels and mappings, claims with quotes,
sources), scaled to about ``--triples`` triples, written as an on-disk store with a build record, like `kg build`.

    python bench/generate.py --triples 1000000 --store bench/out/store-1m
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import pyoxigraph as ox

from kg.namespaces import GRAPH, KGR, PREFIXES, SCAD
from kg.queries.catalog import Catalog
from kg.rdf.dataset import Dataset, read_sources
from kg.settings import Settings
from kg.store.build import build_store

KINDS = ["Disease", "CellType", "AnatomicalEntity", "StemCellTherapy", "Mechanism", "AdverseEffect", "Outcome"]
PREDICATES = {
    "StemCellTherapy": [
        ("investigatedFor", "Disease"),
        ("hasAdverseEffect", "AdverseEffect"),
        ("hasOutcome", "Outcome"),
        ("hasMechanism", "Mechanism"),
        ("usesCellType", "CellType"),
    ],
    "CellType": [("foundIn", "AnatomicalEntity"), ("hasCapability", "Mechanism")],
    "Disease": [("affectsOrgan", "AnatomicalEntity")],
}
CERTAINTY = ["Asserted", "ReportedFinding", "Hedged", "Speculative"]
WORDS = [
    "stem",
    "cell",
    "therapy",
    "immune",
    "reset",
    "remission",
    "trial",
    "patients",
    "lupus",
    "sclerosis",
    "arthritis",
    "marrow",
    "blood",
    "tissue",
    "repair",
    "inflammation",
    "risk",
    "infection",
    "fatigue",
    "cord",
    "graft",
    "transplant",
    "mesenchymal",
    "hematopoietic",
    "response",
    "symptom",
    "damage",
]

T = ox.NamedNode(PREFIXES["rdf"] + "type")
LABEL = ox.NamedNode(PREFIXES["skos"] + "prefLabel")
ALT = ox.NamedNode(PREFIXES["skos"] + "altLabel")
EXACT = ox.NamedNode(PREFIXES["skos"] + "exactMatch")


def scad(name: str) -> ox.NamedNode:
    return ox.NamedNode(SCAD + name)


def generate(target_triples: int, seed: int = 7) -> list[ox.Quad]:
    rng = random.Random(seed)
    graph = ox.NamedNode(GRAPH + "synthetic.ttl")
    quads: list[ox.Quad] = []

    def add(s: ox.NamedNode, p: ox.NamedNode, o: ox.NamedNode | ox.Literal) -> None:
        quads.append(ox.Quad(s, p, o, graph))

    # about 6 % of the triples describe entities and mappings, the rest are claims (about 10 distinct triples each)
    n_entities = max(50, target_triples // 150)
    n_sources = max(5, target_triples // 5000)
    n_claims = max(100, (target_triples - n_entities * 10) // 10)
    entities: dict[str, list[ox.NamedNode]] = {k: [] for k in KINDS}
    for i in range(n_entities):
        kind = KINDS[i % len(KINDS)]
        e = ox.NamedNode(f"{KGR}syn-{kind.lower()}-{i}")
        entities[kind].append(e)
        words = rng.sample(WORDS, 3)
        add(e, T, scad(kind))
        add(e, LABEL, ox.Literal(f"{' '.join(words)} {i}", language="en"))
        add(e, ALT, ox.Literal(f"{words[0][:3].upper()}{i}", language="en"))
        mapping = ox.NamedNode(f"{e.value}_map-x-{i}")
        target = ox.NamedNode(f"http://purl.obolibrary.org/obo/X_{i:07d}")
        add(e, EXACT, target)
        add(mapping, T, scad("Mapping"))
        add(mapping, scad("mappingSubject"), e)
        add(mapping, scad("mappingPredicate"), EXACT)
        add(mapping, scad("mappingObject"), target)
        add(mapping, scad("verificationStatus"), scad("VerifiedInOntology"))
    sources = []
    for i in range(n_sources):
        s = ox.NamedNode(f"{KGR}syn-source-{i}")
        sources.append(s)
        add(s, T, scad("Source"))
        add(s, ox.NamedNode(PREFIXES["dcterms"] + "title"), ox.Literal(f"Synthetic article {i}"))
        add(
            s,
            scad("isPromotional"),
            ox.Literal("true" if i % 3 == 0 else "false", datatype=ox.NamedNode(PREFIXES["xsd"] + "boolean")),
        )
    kinds_with_relations = list(PREDICATES)
    for i in range(n_claims):
        kind = kinds_with_relations[i % len(kinds_with_relations)]
        predicate, object_kind = rng.choice(PREDICATES[kind])
        subject = rng.choice(entities[kind])
        obj = rng.choice(entities[object_kind])
        c = ox.NamedNode(f"{KGR}SYN-{i:07d}")
        add(c, T, scad("Claim"))
        add(c, scad("subject"), subject)
        add(c, scad("predicate"), scad(predicate))
        add(c, scad("object"), obj)
        add(c, scad("statedIn"), rng.choice(sources))
        add(c, scad("quote"), ox.Literal(" ".join(rng.choices(WORDS, k=12))))
        add(c, scad("certainty"), scad(rng.choice(CERTAINTY)))
        add(c, scad("negated"), ox.Literal("false", datatype=ox.NamedNode(PREFIXES["xsd"] + "boolean")))
        add(c, scad("evidenceDirection"), scad("Supports"))
        add(c, scad("quoteRole"), scad("Background"))
        add(c, scad("assertionMethod"), ox.NamedNode(f"{KGR}author-statement"))
        add(subject, scad(predicate), obj)  # the summary triple
        if i % 4 == 0:
            add(c, scad("scope"), ox.Literal("in some patients"))
    return quads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--triples", type=int, default=1_000_000)
    parser.add_argument("--store", type=Path, required=True)
    args = parser.parse_args()
    started = time.perf_counter()
    settings = Settings()
    ontology = read_sources([settings.ontology_dir / "scad.ttl"], settings.ontology_dir)
    quads = generate(args.triples)
    data = Dataset(files=ontology.files, quads=ontology.quads + quads)
    labels = Catalog(settings.queries_dir).get("entity_labels").text
    record = build_store(data, settings.ontology_dir, args.store, labels)
    print(f"{args.store}: {record['quads']} quads in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
