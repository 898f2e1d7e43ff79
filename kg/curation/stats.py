"""Counts for `kg stats` and the release's stats.json: triples, entities per class, claims per source and per
certainty, negated claims, mappings per verification status (``queries/stats.rq``)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox

from kg.queries.catalog import NamedQuery, term_text
from kg.store.backends import run


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


def compute(store: ox.Store, files: int, query: NamedQuery) -> Stats:
    stats = Stats(triples=len(store), files=files)
    counts = {
        "class": stats.per_class,
        "source": stats.claims_per_source,
        "certainty": stats.claims_per_certainty,
        "mappingStatus": stats.mappings_per_status,
    }
    rows = run(store, query)
    assert isinstance(rows, ox.QuerySolutions)
    for row in rows:
        measure, n = row["measure"].value, int(row["n"].value)
        if measure == "negated":
            stats.negated_claims = n
        else:
            counts[measure][term_text(row["key"])] = n
    return stats
