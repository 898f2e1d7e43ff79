"""The cue patterns of ``ontology/draft-cues.yaml``: relations, certainty, negation, scope, anaphora, proposals."""

from __future__ import annotations

import reprlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml

from kg.curation.draft.text import Phrase, phrase, phrases, stem
from kg.namespaces import expand

FILE_NAME: Final = "draft-cues.yaml"


class CueError(Exception):
    """The cue file is missing or does not have the expected shape."""


@dataclass(frozen=True)
class RelationCues:
    iri: str
    name: str
    """As written in the cue file: ``scad:hasOutcome``."""
    subject: tuple[str, ...]
    object: tuple[str, ...]
    cues: tuple[Phrase, ...]
    prior: float
    same_kind: bool
    list_cues: tuple[Phrase, ...] = ()
    """For skos:broader: the general entity comes before these ("diseases such as lupus")."""
    copula_cues: tuple[Phrase, ...] = ()
    """For skos:broader: the general entity comes after these ("lupus is an autoimmune disease")."""
    class_cues: tuple[Phrase, ...] = ()
    """For skos:broader: the general entity comes right after these and its members later in the sentence ("two
    types of stem cells, embryonic and adult stem cells")."""
    not_subject: tuple[str, ...] = ()
    """Kinds under ``subject`` that another relation covers (a conventional treatment's challenge is its
    limitation, scad:hasLimitation)."""


@dataclass(frozen=True)
class Triggers:
    forward: tuple[Phrase, ...]
    backward: tuple[Phrase, ...]


@dataclass(frozen=True)
class Cues:
    relations: tuple[RelationCues, ...]
    certainty: dict[str, Triggers]
    """``speculative``, ``hedged``, ``reported``: the order in which they win."""
    negation: Triggers
    pseudo: tuple[Phrase, ...]
    terminators: tuple[Phrase, ...]
    window: int
    scope: tuple[Phrase, ...]
    anaphora: dict[str, tuple[Phrase, ...]]
    stopwords: frozenset[str]
    head_kinds: dict[str, tuple[str, ...]]
    equivalents: tuple[tuple[str, ...], ...] = ()
    """Groups of word stems an entity name may be written with interchangeably ("autoimmune conditions" for
    "autoimmune disease")."""


CERTAINTY_ORDER: Final = ("speculative", "hedged", "reported")


def check_kinds(cues: Cues, known: Iterable[str], path: Path) -> None:
    """Refuse a kind the ontology has no class for: a misspelt kind would silently never match."""
    classes = set(known)
    uses = [
        (f"relations: {r.name}: {field}", kind)
        for r in cues.relations
        for field, kinds in (("subject", r.subject), ("object", r.object), ("not_subject", r.not_subject))
        for kind in kinds
    ]
    uses += [("anaphora", kind) for kind in cues.anaphora]
    uses += [("proposal: head_kinds", kind) for kind in cues.head_kinds]
    for where, kind in uses:
        if kind not in classes:
            raise CueError(
                f"{path}: {where}: {kind!r} is not a class of the ontology; expected a class of scad.ttl (Therapy)"
            )


def read_cues(path: Path) -> Cues:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CueError(f"{path}: cannot be read ({exc.strerror}); expected the cue file of kg draft") from exc
    except yaml.YAMLError as exc:
        raise CueError(f"{path}: not valid YAML ({exc})") from exc
    if not isinstance(data, dict):
        raise CueError(f"{path}: expected a mapping with relations, certainty, negation and scope")
    try:
        return _cues(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise CueError(f"{path}: {exc}; expected the layout described at the top of the file") from exc


def _kinds(name: str, spec: dict[str, Any], field: str, required: bool = True) -> tuple[str, ...]:
    if field not in spec:
        if required:
            raise ValueError(f"relations: {name}: {field} is missing; expected a list of kinds, such as [Therapy]")
        return ()
    kinds = spec[field]
    if not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds):
        raise ValueError(f"relations: {name}: {field}: {reprlib.repr(kinds)} is not a list of kinds, such as [Therapy]")
    return tuple(kinds)


def _prior(name: str, spec: dict[str, Any]) -> float:
    prior = spec.get("prior", 0)
    if isinstance(prior, bool) or not isinstance(prior, int | float):
        raise ValueError(f"relations: {name}: prior: {reprlib.repr(prior)} is not a number, such as 0.6")
    return float(prior)


def _words(group: object) -> list[str]:
    """A group of equivalents: a list of words (a bare word would be read as its letters)."""
    if not isinstance(group, list) or not all(isinstance(w, str) for w in group):
        raise ValueError(f"equivalents: {reprlib.repr(group)} is not a list of words, such as [cost, price]")
    return group


def _cues(data: dict[str, Any]) -> Cues:
    relations = []
    for name, spec in data["relations"].items():
        relations.append(
            RelationCues(
                iri=expand(name),
                name=name,
                subject=_kinds(name, spec, "subject"),
                object=_kinds(name, spec, "object"),
                cues=phrases(spec.get("cues", []), loose=True),
                prior=_prior(name, spec),
                same_kind=bool(spec.get("same_kind", False)),
                list_cues=phrases(spec.get("list_cues", [])),
                copula_cues=phrases(spec.get("copula_cues", [])),
                class_cues=phrases(spec.get("class_cues", [])),
                not_subject=_kinds(name, spec, "not_subject", required=False),
            )
        )
    certainty = {
        level: Triggers(phrases(spec.get("forward", [])), phrases(spec.get("backward", [])))
        for level, spec in ((name, data["certainty"][name]) for name in CERTAINTY_ORDER)
    }
    negation = data["negation"]
    proposal = data.get("proposal", {})
    return Cues(
        relations=tuple(relations),
        certainty=certainty,
        negation=Triggers(phrases(negation["forward"]), phrases(negation.get("backward", []))),
        pseudo=phrases(negation.get("pseudo", [])),
        terminators=phrases(negation.get("terminators", [])),
        window=int(negation.get("window", 6)),
        scope=tuple(phrase(s) for s in data.get("scope", [])),
        anaphora={kind: phrases(words) for kind, words in data.get("anaphora", {}).items()},
        stopwords=frozenset(proposal.get("stopwords", [])),
        head_kinds={kind: tuple(words) for kind, words in proposal.get("head_kinds", {}).items()},
        equivalents=tuple(
            tuple(dict.fromkeys(stem(w) for w in _words(group))) for group in data.get("equivalents", [])
        ),
    )
