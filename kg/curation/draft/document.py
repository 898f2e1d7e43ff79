"""The draft file ``ontology/drafts/source-NNN.ttl``: the source block, the drafted claims in the project's claim
format, each marked ``draft:status draft:Pending`` (or ``draft:Rejected`` with ``draft:reason``) with its character
offsets and the confidence and reason of each decision, and the proposed entities (``draft:Proposed``).

The drafts folder is never read as part of the graph (``kg.rdf.dataset.turtle_files`` skips it)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import pyoxigraph as ox

from kg.curation.draft.claim import Decision, DraftClaim
from kg.curation.draft.lexicon import Entity, text_of
from kg.namespaces import DRAFT, KGR, PREFIXES, RDF_TYPE
from kg.rdf.turtle import serialize

_SCAD = PREFIXES["scad"]
_SKOS = PREFIXES["skos"]
_DCT = PREFIXES["dcterms"]
_XSD = PREFIXES["xsd"]
DECISIONS: Final = ("subject", "relation", "object", "certainty", "negation", "scope")
DRAFT_TERMS: Final = DRAFT
"""Every predicate and value of this namespace is dropped when a claim is accepted."""


def _n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def _lit(value: str) -> ox.Literal:
    return ox.Literal(value)


def _int(value: int) -> ox.Literal:
    return ox.Literal(str(value), datatype=_n(_XSD + "integer"))


@dataclass
class SourceInfo:
    number: str
    """Three digits: ``015``."""
    title: str
    file_name: str
    url: str | None = None
    article: str | None = None
    """The path of the article text the draft was made from."""

    @property
    def iri(self) -> str:
        return f"{KGR}source-{self.number}"


@dataclass
class Draft:
    source: SourceInfo
    claims: list[DraftClaim] = field(default_factory=list)
    proposals: list[Entity] = field(default_factory=list)


def source_triples(source: SourceInfo, draft_marks: bool) -> list[ox.Triple]:
    s = _n(source.iri)
    triples = [
        ox.Triple(s, _n(RDF_TYPE), _n(_SCAD + "Source")),
        ox.Triple(s, _n(_DCT + "title"), _lit(source.title)),
        ox.Triple(s, _n(_SCAD + "fileName"), _lit(source.file_name)),
        ox.Triple(s, _n(_SCAD + "isPromotional"), ox.Literal("false", datatype=_n(_XSD + "boolean"))),
        ox.Triple(s, _n(_SCAD + "citesEvidence"), ox.Literal("false", datatype=_n(_XSD + "boolean"))),
        ox.Triple(s, _n(_SCAD + "contentType"), _n(_SCAD + "Neutral")),
    ]
    if source.url:
        triples.append(ox.Triple(s, _n(_DCT + "source"), _n(source.url)))
    if draft_marks:
        triples.append(ox.Triple(s, _n(DRAFT + "status"), _n(DRAFT + "Pending")))
        if source.article:
            triples.append(ox.Triple(s, _n(DRAFT + "article"), _lit(source.article)))
        triples.append(
            ox.Triple(
                s,
                _n(_SKOS + "editorialNote"),
                _lit("Drafted by kg draft: content type, promotional flag and evidence citing are defaults to review."),
            )
        )
    return triples


def claim_triples(claim: DraftClaim, source_iri: str, iri: str, draft_marks: bool) -> list[ox.Triple]:
    c = _n(iri)
    t = [
        ox.Triple(c, _n(RDF_TYPE), _n(_SCAD + "Claim")),
        ox.Triple(c, _n(_SCAD + "subject"), _n(claim.subject.iri)),
        ox.Triple(c, _n(_SCAD + "predicate"), _n(claim.predicate)),
        ox.Triple(c, _n(_SCAD + "object"), _n(claim.object.iri)),
        ox.Triple(c, _n(_SCAD + "statedIn"), _n(source_iri)),
        ox.Triple(c, _n(_SCAD + "quote"), _lit(claim.quote)),
        ox.Triple(c, _n(_SCAD + "certainty"), _n(_SCAD + claim.certainty)),
        ox.Triple(
            c, _n(_SCAD + "negated"), ox.Literal("true" if claim.negated else "false", datatype=_n(_XSD + "boolean"))
        ),
        ox.Triple(c, _n(_SCAD + "evidenceDirection"), _n(_SCAD + ("Refutes" if claim.negated else "Supports"))),
        ox.Triple(c, _n(_SCAD + "quoteRole"), _n(_SCAD + claim.quote_role)),
        ox.Triple(c, _n(_SCAD + "assertionMethod"), _n(KGR + "author-statement")),
    ]
    if claim.hedge_cue:
        t.append(ox.Triple(c, _n(_SCAD + "hedgeCue"), _lit(claim.hedge_cue)))
    if claim.scope:
        t.append(ox.Triple(c, _n(_SCAD + "scope"), _lit(claim.scope)))
    if draft_marks:
        status = "Rejected" if claim.rejected is not None else "Pending"
        t.append(ox.Triple(c, _n(DRAFT + "status"), _n(DRAFT + status)))
        t.append(ox.Triple(c, _n(DRAFT + "start"), _int(claim.start)))
        t.append(ox.Triple(c, _n(DRAFT + "end"), _int(claim.end)))
        t.append(ox.Triple(c, _n(DRAFT + "sentenceStart"), _int(claim.sentence[0])))
        t.append(ox.Triple(c, _n(DRAFT + "sentenceEnd"), _int(claim.sentence[1])))
        if claim.rejected is not None:
            t.append(ox.Triple(c, _n(DRAFT + "reason"), _lit(claim.rejected)))
        for name in DECISIONS:
            d = claim.decisions.get(name)
            if d is not None:
                t.append(
                    ox.Triple(
                        c,
                        _n(DRAFT + name + "Confidence"),
                        ox.Literal(f"{d.confidence:.2f}", datatype=_n(_XSD + "decimal")),
                    )
                )
                t.append(ox.Triple(c, _n(DRAFT + name + "Why"), _lit(d.why)))
    return t


def entity_triples(entity: Entity, draft_marks: bool) -> list[ox.Triple]:
    e = _n(entity.iri)
    t = [
        ox.Triple(e, _n(RDF_TYPE), _n(_SCAD + entity.kind)),
        ox.Triple(e, _n(_SKOS + "prefLabel"), ox.Literal(entity.label, language="en")),
    ]
    if draft_marks:
        t.append(ox.Triple(e, _n(DRAFT + "status"), _n(DRAFT + "Proposed")))
    return t


def draft_id(number: str, k: int) -> str:
    return f"{KGR}D{number}-{k:03d}"


def draft_text(draft: Draft) -> str:
    triples = source_triples(draft.source, True)
    for claim in draft.claims:
        triples += claim_triples(claim, draft.source.iri, claim.id, True)
    for entity in draft.proposals:
        triples += entity_triples(entity, True)
    body = serialize(triples)
    return body + f"# fingerprint {fingerprint(triples)}\n"


def fingerprint(triples: list[ox.Triple]) -> str:
    """A hash of the pending claims and proposals: a curator's edit of them changes it (rejections do not)."""
    rejected = {
        t.subject for t in triples if t.predicate.value == DRAFT + "status" and text_of(t.object) == DRAFT + "Rejected"
    }
    kept = sorted(str(t) for t in triples if t.subject not in rejected and t.predicate.value != DRAFT + "reason")
    return hashlib.sha256("\n".join(kept).encode()).hexdigest()[:16]


def edited_by_curator(path: Path) -> bool:
    """True when the file's pending claims or proposals are not what kg draft wrote (or it has no fingerprint)."""
    text = path.read_text(encoding="utf-8")
    mark = next((line for line in reversed(text.splitlines()) if line.startswith("# fingerprint ")), None)
    triples = list(ox.parse(text.encode("utf-8"), format=ox.RdfFormat.TURTLE))
    return mark is None or mark.split()[-1] != fingerprint(triples)


def read_draft(path: Path, entities: dict[str, Entity]) -> Draft:
    """A draft file back as objects; raises SyntaxError when it does not parse."""
    triples = list(ox.parse(path.read_bytes(), format=ox.RdfFormat.TURTLE))
    by_subject: dict[str, dict[str, list[str]]] = {}
    for t in triples:
        by_subject.setdefault(text_of(t.subject), {}).setdefault(t.predicate.value, []).append(text_of(t.object))
    known = dict(entities)
    proposals = []
    source: SourceInfo | None = None
    for iri, props in by_subject.items():
        kinds = props.get(RDF_TYPE, [])
        if _SCAD + "Source" in kinds:
            number = iri.rsplit("-", 1)[-1]
            source = SourceInfo(
                number,
                _one(props, _DCT + "title") or "",
                _one(props, _SCAD + "fileName") or "",
                _one(props, _DCT + "source"),
                _one(props, DRAFT + "article"),
            )
        elif _one(props, DRAFT + "status") == DRAFT + "Proposed":
            kind = next(k[len(_SCAD) :] for k in kinds if k.startswith(_SCAD))
            entity = Entity(iri, _one(props, _SKOS + "prefLabel") or iri, kind, proposed=True)
            known[iri] = entity
            proposals.append(entity)
    if source is None:
        raise ValueError(f"{path}: no scad:Source block; expected a draft written by kg draft")
    draft = Draft(source, proposals=proposals)
    for iri, props in sorted(by_subject.items()):
        if _SCAD + "Claim" not in props.get(RDF_TYPE, []):
            continue
        draft.claims.append(_claim(iri, props, known))
    return draft


def _claim(iri: str, props: dict[str, list[str]], known: dict[str, Entity]) -> DraftClaim:
    def entity(key: str) -> Entity:
        value = _one(props, _SCAD + key) or ""
        return known.get(value) or Entity(value, value, "Entity")

    decisions = {}
    for name in DECISIONS:
        confidence = _one(props, DRAFT + name + "Confidence")
        if confidence is not None:
            decisions[name] = Decision("", float(confidence), _one(props, DRAFT + name + "Why") or "")
    certainty = (_one(props, _SCAD + "certainty") or _SCAD + "Asserted")[len(_SCAD) :]
    return DraftClaim(
        subject=entity("subject"),
        predicate=_one(props, _SCAD + "predicate") or "",
        object=entity("object"),
        start=int(_one(props, DRAFT + "start") or 0),
        end=int(_one(props, DRAFT + "end") or 0),
        quote=_one(props, _SCAD + "quote") or "",
        sentence=(int(_one(props, DRAFT + "sentenceStart") or 0), int(_one(props, DRAFT + "sentenceEnd") or 0)),
        certainty=certainty,
        hedge_cue=_one(props, _SCAD + "hedgeCue"),
        negated=_one(props, _SCAD + "negated") == "true",
        quote_role=(_one(props, _SCAD + "quoteRole") or _SCAD + "Background")[len(_SCAD) :],
        scope=_one(props, _SCAD + "scope"),
        decisions=decisions,
        id=iri,
        rejected=(_one(props, DRAFT + "reason") or "rejected")
        if _one(props, DRAFT + "status") == DRAFT + "Rejected"
        else None,
    )


def _one(props: dict[str, list[str]], key: str) -> str | None:
    values = props.get(key)
    return values[0] if values else None
