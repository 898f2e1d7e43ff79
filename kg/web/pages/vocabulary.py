"""The ontology's terms as pages name them: labels, inverse labels and the headings of relation groups."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Final

from kg.graphql.model import Relation
from kg.namespaces import PREFIXES

SKOS: Final = PREFIXES["skos"]
SKOS_WORDS: Final = {SKOS + "broader": "is a kind of", SKOS + "narrower": "has as a kind"}
"""How the SKOS hierarchy the sources state ("X is a kind of Y") reads in a sentence."""


@dataclass
class Term:
    """One term of the ontology, for its documentation and for naming relations on pages."""

    iri: str
    facts: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def first(self, name: str) -> str | None:
        values = self.facts.get(name)
        return values[0] if values else None

    @property
    def name(self) -> str:
        return self.iri.rsplit("#", 1)[-1]

    @property
    def label(self) -> str:
        return self.first("label") or self.name

    @property
    def kind(self) -> str:
        types = {t.rsplit("#", 1)[-1] for t in self.facts.get("type", [])}
        if "Class" in types:
            return "class"
        if types & {"ObjectProperty", "DatatypeProperty", "AnnotationProperty"}:
            return "property"
        return "individual"


@dataclass
class Vocabulary:
    """The ontology's terms (from ``ontology_terms.rq``), loaded once per release."""

    terms: dict[str, Term]

    def label(self, iri: str) -> str:
        term = self.terms.get(iri)
        if term is not None:
            return term.label
        if iri in SKOS_WORDS:
            return SKOS_WORDS[iri]
        return iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]

    def inverse_label(self, iri: str) -> str | None:
        term = self.terms.get(iri)
        inverse = term.first("inverse") if term else None
        if inverse is None:
            inverse = next((t.iri for t in self.terms.values() if iri in t.facts.get("inverse", [])), None)
        return self.label(inverse) if inverse else None

    def heading(self, relation: str, direction: str) -> str:
        """How a group of relations is titled on an entity page, read from the entity's side."""
        predicate = Relation[relation].value
        if predicate == SKOS + "broader":
            return "broader concepts" if direction == "OUTGOING" else "narrower concepts"
        if predicate == SKOS + "narrower":
            return "narrower concepts" if direction == "OUTGOING" else "broader concepts"
        if direction == "OUTGOING":
            return self.label(predicate)
        return self.inverse_label(predicate) or f"{self.label(predicate)} (inverse)"
