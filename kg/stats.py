"""Counts for `kg stats`: triples, entities per class, claims per source and per certainty."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox

from kg.queries import term_text
from kg.store import run


@dataclass
class Stats:
    triples: int = 0
    files: int = 0
    per_class: dict[str, int] = field(default_factory=dict)
    claims_per_source: dict[str, int] = field(default_factory=dict)
    claims_per_certainty: dict[str, int] = field(default_factory=dict)
    negated_claims: int = 0
    mappings_per_status: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        return {
            "triples": self.triples,
            "files": self.files,
            "entities_per_class": self.per_class,
            "claims_per_source": self.claims_per_source,
            "claims_per_certainty": self.claims_per_certainty,
            "negated_claims": self.negated_claims,
            "mappings_per_status": self.mappings_per_status,
        }


def _counts(store: ox.Store, query: str) -> dict[str, int]:
    rows = run(store, query)
    assert isinstance(rows, ox.QuerySolutions)
    return {term_text(r["key"]): int(r["n"].value) for r in rows}


def compute(store: ox.Store, files: int) -> Stats:
    stats = Stats(files=files)
    stats.triples = len(store)
    stats.per_class = _counts(
        store,
        """SELECT ?key (COUNT(DISTINCT ?x) AS ?n) WHERE {
            ?x a ?key . FILTER (STRSTARTS(STR(?key), STR(scad:)))
        } GROUP BY ?key ORDER BY ?key""",
    )
    stats.claims_per_source = _counts(
        store,
        """SELECT ?key (COUNT(?c) AS ?n) WHERE { ?c a scad:Claim ; scad:statedIn ?key } GROUP BY ?key ORDER BY ?key""",
    )
    stats.claims_per_certainty = _counts(
        store,
        """SELECT ?key (COUNT(?c) AS ?n) WHERE { ?c a scad:Claim ; scad:certainty ?key } GROUP BY ?key ORDER BY ?key""",
    )
    stats.mappings_per_status = _counts(
        store,
        """SELECT ?key (COUNT(?m) AS ?n) WHERE { ?m a scad:Mapping ; scad:verificationStatus ?key }
           GROUP BY ?key ORDER BY ?key""",
    )
    negated = run(store, "SELECT (COUNT(?c) AS ?n) WHERE { ?c a scad:Claim ; scad:negated true }")
    assert isinstance(negated, ox.QuerySolutions)
    stats.negated_claims = int(next(iter(negated))["n"].value)
    return stats
