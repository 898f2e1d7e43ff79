"""A synthetic graph of the same shape as the real one (entities with labels and mappings, claims with quotes,
sources), scaled to about ``--triples`` triples, written as an on-disk store with a build record, like `kg build`.
The graph is written to an N-Quads file in chunks and bulk-loaded from there, so no size needs it in memory.

    python bench/generate.py --triples 1000000 --store bench/out/store-1m
    python bench/generate.py --triples 10000000 --nquads bench/out/10m.nq            # only the file
    python bench/generate.py --nquads bench/out/10m.nq --reuse --store bench/out/store-10m
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pyoxigraph as ox

from kg.graphql import recorded
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


def iri(value: str) -> str:
    return f"<{value}>"


def literal(text: str, language: str | None = None, datatype: str | None = None) -> str:
    """An N-Quads literal (the generator's own words: escaping the quote and the backslash is enough)."""
    quoted = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return quoted + (f"@{language}" if language else "") + (f"^^<{datatype}>" if datatype else "")


T = iri(PREFIXES["rdf"] + "type")
LABEL = iri(PREFIXES["skos"] + "prefLabel")
ALT = iri(PREFIXES["skos"] + "altLabel")
EXACT = iri(PREFIXES["skos"] + "exactMatch")
TITLE = iri(PREFIXES["dcterms"] + "title")
BOOLEAN = PREFIXES["xsd"] + "boolean"


def scad(name: str) -> str:
    return iri(SCAD + name)


def lines(target_triples: int, seed: int = 7) -> Iterator[str]:
    """The graph as N-Quads lines, one at a time: nothing but the entity and source lists is held, so 10M triples
    stream in constant memory."""
    rng = random.Random(seed)
    graph = iri(GRAPH + "synthetic.ttl")

    def quad(s: str, p: str, o: str) -> str:
        return f"{s} {p} {o} {graph} .\n"

    # about 6 % of the triples describe entities and mappings, the rest are claims (about 10 distinct triples each)
    n_entities = max(50, target_triples // 150)
    n_sources = max(5, target_triples // 5000)
    n_claims = max(100, (target_triples - n_entities * 10) // 10)
    entities: dict[str, list[str]] = {k: [] for k in KINDS}
    for i in range(n_entities):
        kind = KINDS[i % len(KINDS)]
        e = f"{KGR}syn-{kind.lower()}-{i}"
        entities[kind].append(iri(e))
        words = rng.sample(WORDS, 3)
        yield quad(iri(e), T, scad(kind))
        yield quad(iri(e), LABEL, literal(f"{' '.join(words)} {i}", language="en"))
        yield quad(iri(e), ALT, literal(f"{words[0][:3].upper()}{i}", language="en"))
        mapping = iri(f"{e}_map-x-{i}")
        target = iri(f"http://purl.obolibrary.org/obo/X_{i:07d}")
        yield quad(iri(e), EXACT, target)
        yield quad(mapping, T, scad("Mapping"))
        yield quad(mapping, scad("mappingSubject"), iri(e))
        yield quad(mapping, scad("mappingPredicate"), EXACT)
        yield quad(mapping, scad("mappingObject"), target)
        yield quad(mapping, scad("verificationStatus"), scad("VerifiedInOntology"))
    sources = []
    for i in range(n_sources):
        s = iri(f"{KGR}syn-source-{i}")
        sources.append(s)
        yield quad(s, T, scad("Source"))
        yield quad(s, TITLE, literal(f"Synthetic article {i}"))
        yield quad(s, scad("isPromotional"), literal("true" if i % 3 == 0 else "false", datatype=BOOLEAN))
    kinds_with_relations = list(PREDICATES)
    false = literal("false", datatype=BOOLEAN)
    for i in range(n_claims):
        kind = kinds_with_relations[i % len(kinds_with_relations)]
        predicate, object_kind = rng.choice(PREDICATES[kind])
        subject = rng.choice(entities[kind])
        obj = rng.choice(entities[object_kind])
        c = iri(f"{KGR}SYN-{i:07d}")
        yield quad(c, T, scad("Claim"))
        yield quad(c, scad("subject"), subject)
        yield quad(c, scad("predicate"), scad(predicate))
        yield quad(c, scad("object"), obj)
        yield quad(c, scad("statedIn"), rng.choice(sources))
        yield quad(c, scad("quote"), literal(" ".join(rng.choices(WORDS, k=12))))
        yield quad(c, scad("certainty"), scad(rng.choice(CERTAINTY)))
        yield quad(c, scad("negated"), false)
        yield quad(c, scad("evidenceDirection"), scad("Supports"))
        yield quad(c, scad("quoteRole"), scad("Background"))
        yield quad(c, scad("assertionMethod"), iri(f"{KGR}author-statement"))
        yield quad(subject, scad(predicate), obj)  # the summary triple
        if i % 4 == 0:
            yield quad(c, scad("scope"), literal("in some patients"))


def generate(target_triples: int, seed: int = 7) -> list[ox.Quad]:
    """The graph as quads in memory (small graphs, for tests)."""
    text = "".join(lines(target_triples, seed))
    return list(ox.parse(text, format=ox.RdfFormat.N_QUADS))


def write(target_triples: int, path: Path, seed: int = 7, chunk: int = 100_000) -> int:
    """Write the graph to an N-Quads file in chunks of ``chunk`` lines; the number of lines written."""
    written = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        buffer: list[str] = []
        for line in lines(target_triples, seed):
            buffer.append(line)
            if len(buffer) >= chunk:
                out.write("".join(buffer))
                written += len(buffer)
                buffer.clear()
        out.write("".join(buffer))
        written += len(buffer)
    return written


def build(store: Path, nquads: Path) -> dict[str, object]:
    """What `kg build` does after validating, on the vocabulary and the synthetic N-Quads file: the bulk load (the
    file streamed from disk), the VoID and examples graphs, the optimisation, the label index and the GraphQL
    sizes."""
    settings = Settings()
    ontology = read_sources([settings.ontology_dir / "scad.ttl"], settings.ontology_dir)
    catalog = Catalog(settings.queries_dir)
    data = Dataset(files=ontology.files, quads=ontology.quads)
    labels = catalog.get("entity_labels").text
    survey = partial(recorded.record, queries_dir=settings.queries_dir)
    return build_store(data, settings.ontology_dir, store, labels, catalog, [nquads], survey)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--triples", type=int, default=1_000_000)
    parser.add_argument("--store", type=Path, help="the store to build (without it, only --nquads is written)")
    parser.add_argument("--nquads", type=Path, help="the N-Quads file to write (default: a temporary file)")
    parser.add_argument("--reuse", action="store_true", help="build from the --nquads file already written")
    args = parser.parse_args()
    if args.store is None and args.nquads is None:
        parser.error("give --store, --nquads or both")
    if args.reuse and (args.nquads is None or not args.nquads.is_file() or args.store is None):
        parser.error("--reuse needs --store and an existing --nquads file")
    nquads = args.nquads or Path(tempfile.mkstemp(suffix=".nq", prefix="synthetic-")[1])
    try:
        if not args.reuse:
            started = time.perf_counter()
            written = write(args.triples, nquads)
            print(f"{nquads}: {written} quads written in {time.perf_counter() - started:.1f} s", flush=True)
        if args.store is not None:
            started = time.perf_counter()
            record = build(args.store, nquads)
            print(f"{args.store}: {record['quads']} quads in {time.perf_counter() - started:.1f} s", flush=True)
    finally:
        if args.nquads is None:
            nquads.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
