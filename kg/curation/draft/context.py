"""Negation, hedging and reporting, after NegEx (Chapman et al. 2001) and ConText (Harkema et al. 2009).

A trigger term opens a scope: forward (the words after it) or backward (the words before it). The scope ends at the
sentence's end, at a clause break (``;``, ``:``, a dash) or at a terminator term ("but", "however"); negation scopes
also end after ``window`` words. Pseudo-triggers ("not only") look like triggers but are not, and block them. A
target word is qualified by a trigger whose scope holds it. This is the published trigger-term algorithm, written
here instead of taken from medspaCy or negspaCy, which need spaCy (and its compiled dependencies) for a task that is
a few dozen lines over the words we already have."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kg.curation.draft.cues import CERTAINTY_ORDER, Cues, Triggers
from kg.curation.draft.text import Phrase, Token, find

_BREAKS = {";", ":", "\u2014", "\u2013", "-", "(", ")"}


@dataclass(frozen=True)
class Hit:
    """A trigger that qualifies the target: its words as written, where, and which way it looks."""

    cue: str
    start: int
    end: int
    direction: str


def _spans(cues: Sequence[Phrase], tokens: Sequence[Token], blocked: set[int]) -> list[tuple[int, int]]:
    """The matches of ``cues``, longest first at each position, none overlapping a blocked token."""
    found: dict[int, int] = {}
    for cue in cues:
        for i, j in find(cue, tokens):
            if blocked.isdisjoint(range(i, j)) and j > found.get(i, i):
                found[i] = j
    spans: list[tuple[int, int]] = []
    for i in sorted(found):
        if spans and i < spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], found[i]))  # overlapping cues ("is not", "not yet") join
        else:
            spans.append((i, found[i]))
    return spans


def _stops(tokens: Sequence[Token], terminators: Sequence[Phrase]) -> set[int]:
    stops = {i for i, t in enumerate(tokens) if t.text in _BREAKS}
    for cue in terminators:
        for i, _ in find(cue, tokens):
            stops.add(i)
    return stops


def qualifier(
    triggers: Triggers,
    tokens: Sequence[Token],
    target: int,
    stops: set[int],
    blocked: set[int],
    window: int | None = None,
) -> Hit | None:
    """The nearest trigger whose scope holds token ``target``, or None."""
    best: Hit | None = None
    best_distance = len(tokens) + 1
    for i, j in _spans(triggers.forward, tokens, blocked):
        if j <= target and (window is None or target - j < window) and not any(j <= s <= target for s in stops):
            if target - j < best_distance:
                best, best_distance = _hit(tokens, i, j, "forward"), target - j
        elif i <= target < j:
            best, best_distance = _hit(tokens, i, j, "forward"), 0
    for i, j in _spans(triggers.backward, tokens, blocked):
        near = window is None or i - target <= window
        if i > target and near and not any(target < s < i for s in stops) and i - target < best_distance:
            best, best_distance = _hit(tokens, i, j, "backward"), i - target
    return best


def _hit(tokens: Sequence[Token], i: int, j: int, direction: str) -> Hit:
    return Hit(" ".join(t.text for t in tokens[i:j]), tokens[i].start, tokens[j - 1].end, direction)


@dataclass(frozen=True)
class Context:
    """What the ConText pass says about one target word of a sentence."""

    certainty: str
    """``Asserted``, ``Hedged``, ``ReportedFinding`` or ``Speculative``."""
    certainty_cue: Hit | None
    negation_cue: Hit | None


_LEVEL = {"speculative": "Speculative", "hedged": "Hedged", "reported": "ReportedFinding"}


class Analyzer:
    """The ConText pass over one sentence: triggers found once, then asked about each target word."""

    def __init__(self, cues: Cues, tokens: Sequence[Token]) -> None:
        self.cues = cues
        self.tokens = tokens
        self.blocked = {k for i, j in _spans(cues.pseudo, tokens, set()) for k in range(i, j)}
        self.stops = _stops(tokens, cues.terminators)
        self.clause_stops = {i for i, t in enumerate(tokens) if t.text in _BREAKS}

    def context(self, target: int) -> Context:
        negation = qualifier(self.cues.negation, self.tokens, target, self.stops, self.blocked, self.cues.window)
        for level in CERTAINTY_ORDER:
            hit = qualifier(self.cues.certainty[level], self.tokens, target, self.clause_stops, set())
            if hit is not None:
                return Context(_LEVEL[level], hit, negation)
        return Context("Asserted", None, negation)
