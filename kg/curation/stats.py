"""Counts for `kg stats` and the release's stats.json: triples, entities per class, claims per source, per certainty,
per evidence direction and per quote role, negated claims, mappings per verification status (``queries/stats.rq``).

Everything is counted on the asserted graphs: the inferred graph (superclass types, inverses, beliefs) is reported
apart, as ``inferred_triples``, so that `?x a scad:Therapy` entailments do not inflate the counts of what curators
wrote."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox

from kg.curation.inference import GRAPH_NAME, is_inferred
from kg.queries.catalog import NamedQuery, term_text
from kg.store.backends import memory_store, run


@dataclass
class Stats:
    triples: int = 0
    """Asserted triples only."""
    inferred_triples: int = 0
    files: int = 0
    per_class: dict[str, int] = field(default_factory=dict)
    claims_per_source: dict[str, int] = field(default_factory=dict)
    claims_per_certainty: dict[str, int] = field(default_factory=dict)
    claims_per_direction: dict[str, int] = field(default_factory=dict)
    claims_per_quote_role: dict[str, int] = field(default_factory=dict)
    negated_claims: int = 0
    mappings_per_status: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        return {
            "triples": self.triples,
            "inferred_triples": self.inferred_triples,
            "files": self.files,
            "entities_per_class": self.per_class,
            "claims_per_source": self.claims_per_source,
            "claims_per_certainty": self.claims_per_certainty,
            "claims_per_direction": self.claims_per_direction,
            "claims_per_quote_role": self.claims_per_quote_role,
            "negated_claims": self.negated_claims,
            "mappings_per_status": self.mappings_per_status,
        }


def compute(store: ox.Store, files: int, query: NamedQuery) -> Stats:
    """The counts of ``store``'s asserted graphs, and the size of its inferred graph."""
    inferred = sum(1 for _ in store.quads_for_pattern(None, None, None, GRAPH_NAME))
    asserted = memory_store(q for q in store if not is_inferred(q.graph_name))
    stats = Stats(triples=len(asserted), inferred_triples=inferred, files=files)
    counts = {
        "class": stats.per_class,
        "source": stats.claims_per_source,
        "certainty": stats.claims_per_certainty,
        "direction": stats.claims_per_direction,
        "quoteRole": stats.claims_per_quote_role,
        "mappingStatus": stats.mappings_per_status,
    }
    rows = run(asserted, query)
    assert isinstance(rows, ox.QuerySolutions)
    for row in rows:
        measure, n = row["measure"].value, int(row["n"].value)
        if measure == "negated":
            stats.negated_claims = n
        else:
            counts[measure][term_text(row["key"])] = n
    return stats
