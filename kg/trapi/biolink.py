"""The part of the Biolink model the TRAPI provider needs, from ``biolink.json`` beside this module: every Biolink
class and predicate name, and the ancestors (mixins included) of each Biolink term the ontology's alignments name.
A query term Q matches a term T of the graph when Q is one of T's ancestors (the "descendants" of TRAPI).

The file is derived from the Biolink model by ``scripts/biolink_table.py`` (which names the version and the source
in the file) and checked against it by the tests; the server reads only the file, so it needs no network."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final

TABLE: Final = Path(__file__).with_name("biolink.json")
VOCAB: Final = "https://w3id.org/biolink/vocab/"
ROOT_CATEGORY: Final = "biolink:NamedThing"
ROOT_PREDICATE: Final = "biolink:related_to"


@dataclass(frozen=True)
class Biolink:
    version: str
    source: str
    classes: frozenset[str]
    predicates: frozenset[str]
    ancestors: dict[str, frozenset[str]]

    def curie(self, iri: str) -> str:
        """``biolink:Disease`` for the Biolink IRI of the alignments."""
        return "biolink:" + iri[len(VOCAB) :] if iri.startswith(VOCAB) else iri

    def lineage(self, term: str) -> frozenset[str]:
        """The term and its ancestors; a term of the graph missing from the table is a stale table, not a client
        error (the tests regenerate the table from the alignments)."""
        found = self.ancestors.get(term)
        if found is None:
            raise LookupError(f"{term} is not in {TABLE.name}; run python scripts/biolink_table.py")
        return found

    def matches(self, wanted: Iterable[str] | None, term: str) -> bool:
        """True when no terms are wanted, or one of them is ``term`` or one of its ancestors."""
        if wanted is None:
            return True
        lineage = self.lineage(term)
        return any(w in lineage for w in wanted)


@cache
def biolink() -> Biolink:
    data = json.loads(TABLE.read_text(encoding="utf-8"))
    return Biolink(
        version=data["biolink_version"],
        source=data["source"],
        classes=frozenset(data["classes"]),
        predicates=frozenset(data["predicates"]),
        ancestors={term: frozenset(found) | {term} for term, found in data["ancestors"].items()},
    )
