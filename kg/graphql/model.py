"""What the GraphQL layer knows of the graph: the relations (predicate, and the field names for both directions),
the kinds, and plain data objects built from the rows of the named queries."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Final

import pyoxigraph as ox
import strawberry

from kg.namespaces import KGR, PREFIXES, SCAD, curie, expand

SKOS: Final = PREFIXES["skos"]


@strawberry.enum(description="OUTGOING: the entity is the claim's subject; INCOMING: its object.")
class Direction(enum.Enum):
    OUTGOING = "out"
    INCOMING = "in"


@strawberry.enum(description="How strongly a source makes a claim, weakest first.")
class Certainty(enum.Enum):
    """How strongly a source makes a claim, weakest first."""

    SPECULATIVE = SCAD + "Speculative"
    HEDGED = SCAD + "Hedged"
    REPORTED_FINDING = SCAD + "ReportedFinding"
    ASSERTED = SCAD + "Asserted"

    @property
    def rank(self) -> int:
        return list(Certainty).index(self) + 1


@strawberry.enum(description="Which way a claim's quote bears on its statement (scad:evidenceDirection).")
class EvidenceDirection(enum.Enum):
    SUPPORTS = SCAD + "Supports"
    REFUTES = SCAD + "Refutes"
    NO_EVIDENCE = SCAD + "NoEvidence"


@strawberry.enum(
    description="What part a claim's quote plays in its source (scad:quoteRole), a curator's judgement: a reported "
    "result, background, the author's review or synthesis, or marketing."
)
class QuoteRole(enum.Enum):
    PRIMARY_RESULT = SCAD + "PrimaryResult"
    BACKGROUND = SCAD + "Background"
    REVIEW_OR_SYNTHESIS = SCAD + "ReviewOrSynthesis"
    MARKETING = SCAD + "Marketing"


@strawberry.enum(description="A relation a claim can state; the value is the predicate IRI.")
class Relation(enum.Enum):
    """Every relation a claim can state; the value is the predicate IRI."""

    INVESTIGATED_FOR = SCAD + "investigatedFor"
    CONSIDERED_FOR = SCAD + "consideredFor"
    CONVENTIONAL_TREATMENT_FOR = SCAD + "conventionalTreatmentFor"
    OFFERED_FOR = SCAD + "offeredFor"
    HAS_MECHANISM = SCAD + "hasMechanism"
    HAS_CAPABILITY = SCAD + "hasCapability"
    HAS_ADVERSE_EFFECT = SCAD + "hasAdverseEffect"
    REDUCES_RISK_OF = SCAD + "reducesRiskOf"
    HAS_OUTCOME = SCAD + "hasOutcome"
    USES_CELL_TYPE = SCAD + "usesCellType"
    TARGETS_CELL_TYPE = SCAD + "targetsCellType"
    FOUND_IN = SCAD + "foundIn"
    HARVESTED_FROM = SCAD + "harvestedFrom"
    DERIVED_FROM = SCAD + "derivedFrom"
    DIFFERENTIATES_INTO = SCAD + "differentiatesInto"
    AFFECTS_ORGAN = SCAD + "affectsOrgan"
    HAS_FEATURE = SCAD + "hasFeature"
    HAS_STEP = SCAD + "hasStep"
    HAS_COMPONENT = SCAD + "hasComponent"
    COMBINED_WITH = SCAD + "combinedWith"
    ALTERNATIVE_TO = SCAD + "alternativeTo"
    HAS_CHALLENGE = SCAD + "hasChallenge"
    HAS_LIMITATION = SCAD + "hasLimitation"
    HAS_EVIDENCE_LEVEL = SCAD + "hasEvidenceLevel"
    AVAILABLE_VIA = SCAD + "availableVia"
    RECOMMENDED_SETTING = SCAD + "recommendedSetting"
    OFFERED_BY = SCAD + "offeredBy"
    RESEARCH_DIRECTION = SCAD + "researchDirection"
    ALSO_KNOWN_AS = SCAD + "alsoKnownAs"
    BROADER = SKOS + "broader"
    NARROWER = SKOS + "narrower"


KINDS: Final = [
    "Disease",
    "PathologicalProcess",
    "CellType",
    "AnatomicalEntity",
    "Therapy",
    "Mechanism",
    "AdverseEffect",
    "Challenge",
    "Outcome",
    "EvidenceKind",
    "Organization",
]
Hop = tuple[Relation, Direction]
OUT, IN = Direction.OUTGOING, Direction.INCOMING

# the broader concept: either this entity is narrower (skos:broader out) or the other names it narrower
BROADER: Final[list[Hop]] = [(Relation.BROADER, OUT), (Relation.NARROWER, IN)]
NARROWER: Final[list[Hop]] = [(Relation.NARROWER, OUT), (Relation.BROADER, IN)]
TREATS: Final = [Relation.INVESTIGATED_FOR, Relation.CONSIDERED_FOR, Relation.OFFERED_FOR]


def to_iri(id_or_curie: str) -> str | None:
    """An IRI from an IRI, a CURIE of a known prefix, or a bare local name of ``kgr:``; None if it is neither."""
    text = id_or_curie.strip()
    if not text or any(c in text for c in ' <>"{}|^`\\'):
        return None
    expanded = expand(text)
    if not expanded.startswith(("http://", "https://")):
        expanded = KGR + text if ":" not in text else ""
    try:
        return ox.NamedNode(expanded).value if expanded else None
    except ValueError:  # pyoxigraph checks the IRI syntax (control characters, brackets...)
        return None


@dataclass
class MappingData:
    target: str
    predicate: str
    status: str
    label: str | None


@dataclass
class Card:
    iri: str
    kind: str
    types: list[str] = field(default_factory=list)
    label: str = ""
    synonyms: list[str] = field(default_factory=list)
    definition: str | None = None
    notes: list[str] = field(default_factory=list)
    mappings: list[MappingData] = field(default_factory=list)
    complete: bool = True
    """False for a card made from the label index's recorded heads (IRI, kind and label only): the rest is loaded
    when a client asks for it."""

    @property
    def curie(self) -> str:
        return curie(self.iri)


@dataclass
class SourceData:
    iri: str
    title: str
    promotional: bool


@dataclass
class ClaimData:
    iri: str
    subject: str
    predicate: str
    object: str | None
    object_literal: str | None
    quote: str
    source: SourceData
    certainty: Certainty
    negated: bool
    evidence_direction: EvidenceDirection
    quote_role: QuoteRole
    scope: str | None
    hedge: str | None
    evidence: str | None


@dataclass
class EdgeData:
    relation: Relation
    direction: Direction
    other: str
    claims: list[ClaimData]
