"""A computed, explainable belief for every summary edge, never authored.

After INDRA's belief model (per-source error rates; evidence combined as independent chances of being right), with
our own reviewed numbers in ``ontology/belief-priors.ttl``: a claim's probability is its source's prior (by content
type: promotional sources carry a high systematic error) times its certainty's weight. Claims of one source are not
independent, so each source counts once, with its strongest claim. The sources that state the edge combine by
noisy-OR (``1 - prod(1 - p)``); the negated claims of the same statement combine the same way and lower the score:
``score = support * (1 - refute)``."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Final

import pyoxigraph as ox

from kg.namespaces import KGR, PREFIXES, RDF_TYPE, SCAD

_XSD_DECIMAL: Final = ox.NamedNode(PREFIXES["xsd"] + "decimal")
_XSD_BOOLEAN: Final = ox.NamedNode(PREFIXES["xsd"] + "boolean")
_PLACES: Final = Decimal("0.0001")


@dataclass(frozen=True)
class Input:
    """One claim of an edge's statement and what it contributes."""

    claim: str
    source: str
    negated: bool
    source_prior: Decimal
    certainty_weight: Decimal
    counted: bool = False

    @property
    def probability(self) -> Decimal:
        return self.source_prior * self.certainty_weight

    @property
    def direction(self) -> str:
        return "refutes" if self.negated else "supports"


@dataclass(frozen=True)
class Belief:
    subject: ox.NamedNode
    predicate: ox.NamedNode
    object: ox.NamedNode | ox.Literal
    score: Decimal
    inputs: tuple[Input, ...]

    @property
    def iri(self) -> ox.NamedNode:
        key = f"{self.subject.value} {self.predicate.value} {self.object}"
        return ox.NamedNode(KGR + "belief-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:16])


def noisy_or(probabilities: Iterable[Decimal]) -> Decimal:
    """The chance that at least one independent piece of evidence is right."""
    miss = Decimal(1)
    for p in probabilities:
        miss *= Decimal(1) - p
    return Decimal(1) - miss


def _strongest_per_source(inputs: list[Input]) -> list[Input]:
    best: dict[str, Input] = {}
    for i in inputs:
        if i.source not in best or i.probability > best[i.source].probability:
            best[i.source] = i
    return list(best.values())


def combine(
    subject: ox.NamedNode, predicate: ox.NamedNode, obj: ox.NamedNode | ox.Literal, inputs: list[Input]
) -> Belief:
    supporting = _strongest_per_source([i for i in inputs if not i.negated])
    refuting = _strongest_per_source([i for i in inputs if i.negated])
    counted = {(i.claim, i.negated) for i in supporting + refuting}
    score = noisy_or(i.probability for i in supporting) * (Decimal(1) - noisy_or(i.probability for i in refuting))
    marked = tuple(
        Input(i.claim, i.source, i.negated, i.source_prior, i.certainty_weight, (i.claim, i.negated) in counted)
        for i in sorted(inputs, key=lambda i: i.claim)
    )
    return Belief(subject, predicate, obj, score.quantize(_PLACES, ROUND_HALF_EVEN), marked)


def beliefs(rows: ox.QuerySolutions) -> list[Belief]:
    """The belief of every edge that a non-negated claim states, from the rows of ``queries/belief_inputs.rq``."""
    edges: dict[tuple[ox.NamedNode, ox.NamedNode, ox.NamedNode | ox.Literal], list[Input]] = {}
    for row in rows:
        s, p, o = row["subject"], row["predicate"], row["object"]
        assert isinstance(s, ox.NamedNode) and isinstance(p, ox.NamedNode)
        assert isinstance(o, (ox.NamedNode, ox.Literal))
        edges.setdefault((s, p, o), []).append(
            Input(
                claim=row["claim"].value,
                source=row["source"].value,
                negated=row["negated"].value == "true",
                source_prior=Decimal(row["sourcePrior"].value),
                certainty_weight=Decimal(row["certaintyWeight"].value),
            )
        )
    return [combine(s, p, o, inputs) for (s, p, o), inputs in edges.items() if any(not i.negated for i in inputs)]


def decimal_text(value: Decimal) -> str:
    """The canonical xsd:decimal form of XSD 1.1 (as Oxigraph stores it): no exponent, no trailing zeros, and no
    decimal point for a whole number."""
    return format(value.normalize(), "f")


def triples(found: Iterable[Belief]) -> list[ox.Triple]:
    """The beliefs as RDF: a scad:Belief per edge, a scad:BeliefInput per claim."""
    out: list[ox.Triple] = []

    def add(s: ox.NamedNode, p: str, o: ox.NamedNode | ox.Literal) -> None:
        out.append(ox.Triple(s, ox.NamedNode(p), o))

    def number(value: Decimal) -> ox.Literal:
        return ox.Literal(decimal_text(value), datatype=_XSD_DECIMAL)

    for b in found:
        node = b.iri
        add(node, RDF_TYPE, ox.NamedNode(SCAD + "Belief"))
        add(node, SCAD + "beliefSubject", b.subject)
        add(node, SCAD + "beliefPredicate", b.predicate)
        add(node, SCAD + "beliefObject", b.object)
        add(node, SCAD + "beliefScore", number(b.score))
        for i in b.inputs:
            item = ox.NamedNode(f"{node.value}-{i.claim.rsplit('/', 1)[-1]}")
            add(node, SCAD + "beliefInput", item)
            add(item, RDF_TYPE, ox.NamedNode(SCAD + "BeliefInput"))
            add(item, SCAD + "inputClaim", ox.NamedNode(i.claim))
            add(item, SCAD + "direction", ox.Literal(i.direction))
            add(item, SCAD + "sourcePrior", number(i.source_prior))
            add(item, SCAD + "certaintyWeight", number(i.certainty_weight))
            add(item, SCAD + "inputProbability", number(i.probability))
            add(item, SCAD + "countedInScore", ox.Literal("true" if i.counted else "false", datatype=_XSD_BOOLEAN))
    return out
