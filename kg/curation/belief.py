"""A computed, explainable belief for every summary edge, never authored.

After INDRA's belief model (per-source error rates; evidence combined as independent chances of being right), with
our own reviewed numbers in ``ontology/belief-priors.ttl``: a claim's probability is its source's prior (by content
type: promotional sources carry a high systematic error) times its certainty's weight. Claims of one source are not
independent, so each source counts once, with its strongest claim. The sources that state the edge combine by
noisy-OR (``1 - prod(1 - p)``); the negated claims of the same statement combine the same way and lower the score:
``score = support * (1 - refute)``.

A curator grouping (``scad:sameConceptAs``: SCT and HSCT) joins its members into one idea, so a claim about one member
is evidence for the same statement about every other member: the edge a grouping implies (in the inferred graph) gets
a belief, and the edge a source states directly counts the claims about the other members too. Such an input names
the curator assertions of the groups it was carried across (``scad:viaGrouping``); it counts as fully as a direct
claim (the grouping says the two are one procedure), and its source still counts once."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from itertools import product
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
    via: tuple[str, ...] = ()
    """The curator assertions (IRIs) of the groupings this claim was carried across; empty for a direct claim."""

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
        Input(i.claim, i.source, i.negated, i.source_prior, i.certainty_weight, (i.claim, i.negated) in counted, i.via)
        for i in sorted(inputs, key=lambda i: i.claim)
    )
    return Belief(subject, predicate, obj, score.quantize(_PLACES, ROUND_HALF_EVEN), marked)


Node = ox.NamedNode | ox.Literal


@dataclass(frozen=True)
class Groups:
    """The members of each curator grouping, and the assertions that join them (from ``belief_groupings.rq``)."""

    members: dict[Node, frozenset[Node]]
    assertions: dict[Node, tuple[str, ...]]

    @classmethod
    def of(cls, rows: Iterable[tuple[str, ox.NamedNode, ox.NamedNode]]) -> Groups:
        group: dict[Node, set[Node]] = {}
        said: dict[Node, set[str]] = {}
        for assertion, a, b in rows:
            joined = group.get(a, {a}) | group.get(b, {b})
            stated = said.get(a, set()) | said.get(b, set()) | {assertion}
            for member in joined:
                group[member], said[member] = joined, stated
        return cls({m: frozenset(g) for m, g in group.items()}, {m: tuple(sorted(s)) for m, s in said.items()})

    def of_node(self, node: Node) -> frozenset[Node]:
        return self.members.get(node, frozenset({node}))


def beliefs(rows: ox.QuerySolutions, groupings: ox.QuerySolutions | None = None) -> list[Belief]:
    """The belief of every edge that a non-negated claim states, directly or across a curator grouping, from the rows
    of ``queries/belief_inputs.rq`` and ``queries/belief_groupings.rq``."""
    pairs = []
    for row in groupings or ():
        a, b = row["subject"], row["object"]
        assert isinstance(a, ox.NamedNode) and isinstance(b, ox.NamedNode)
        pairs.append((row["assertion"].value, a, b))
    groups = Groups.of(pairs)
    edges: dict[tuple[ox.NamedNode, ox.NamedNode, Node], list[Input]] = {}
    for row in rows:
        s, p, o = row["subject"], row["predicate"], row["object"]
        assert isinstance(s, ox.NamedNode) and isinstance(p, ox.NamedNode)
        assert isinstance(o, (ox.NamedNode, ox.Literal))
        for s2, o2 in product(sorted(groups.of_node(s), key=str), sorted(groups.of_node(o), key=str)):
            assert isinstance(s2, ox.NamedNode)
            via = tuple(
                sorted({*(groups.assertions[s] if s2 != s else ()), *(groups.assertions[o] if o2 != o else ())})
            )
            edges.setdefault((s2, p, o2), []).append(
                Input(
                    claim=row["claim"].value,
                    source=row["source"].value,
                    negated=row["negated"].value == "true",
                    source_prior=Decimal(row["sourcePrior"].value),
                    certainty_weight=Decimal(row["certaintyWeight"].value),
                    via=via,
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
            for assertion in i.via:
                add(item, SCAD + "viaGrouping", ox.NamedNode(assertion))
    return out
