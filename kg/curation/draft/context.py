"""Negation, hedging and reporting, after NegEx (Chapman et al. 2001) and ConText (Harkema et al. 2009).

A trigger term opens a scope: forward (the words after it) or backward (the words before it). The scope ends at the
sentence's end, at a clause break (``;``, ``:``, a dash) or at a terminator term ("but", "however"); negation scopes
also end after ``window`` words. Pseudo-triggers ("not only") look like triggers but are not, and block them. A
target word is qualified by a trigger whose scope holds it. This is the published trigger-term algorithm, written
here instead of taken from medspaCy or negspaCy, which need spaCy (and its compiled dependencies) for a task that is
a few dozen lines over the words we already have."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

from kg.curation.draft.cues import CERTAINTY_ORDER, Cues
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


@dataclass(frozen=True)
class Found:
    """Where the forward and the backward triggers of one kind are in a sentence."""

    forward: list[tuple[int, int]]
    backward: list[tuple[int, int]]


def _nearest(
    found: Found, tokens: Sequence[Token], target: int, stops: Sequence[int], window: int | None
) -> Hit | None:
    """The nearest trigger whose scope holds token ``target``, or None (``stops`` in ascending order)."""
    best: Hit | None = None
    best_distance = len(tokens) + 1
    for i, j in found.forward:
        if j <= target and (window is None or target - j < window) and not _any_in(stops, j, target):
            if target - j < best_distance:
                best, best_distance = _hit(tokens, i, j, "forward"), target - j
        elif i <= target < j:
            best, best_distance = _hit(tokens, i, j, "forward"), 0
    for i, j in found.backward:
        near = window is None or i - target <= window
        if i > target and near and not _any_in(stops, target + 1, i - 1) and i - target < best_distance:
            best, best_distance = _hit(tokens, i, j, "backward"), i - target
    return best


def _any_in(ordered: Sequence[int], lo: int, hi: int) -> bool:
    """Whether some value of ``ordered`` (ascending) lies in [lo, hi]."""
    k = bisect.bisect_left(ordered, lo)
    return k < len(ordered) and ordered[k] <= hi


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
        self.stops = sorted(_stops(tokens, cues.terminators))
        self.clause_stops = [i for i, t in enumerate(tokens) if t.text in _BREAKS]
        self.negation = Found(
            _spans(cues.negation.forward, tokens, self.blocked), _spans(cues.negation.backward, tokens, self.blocked)
        )
        self.scope = next((hit for cue in cues.scope for hit in find(cue, tokens)), None)
        """The first phrase that limits the sentence's claims ("in some patients"), as token indexes."""
        self.certainty = {
            level: Found(_spans(t.forward, tokens, set()), _spans(t.backward, tokens, set()))
            for level, t in cues.certainty.items()
        }

    def context(self, target: int) -> Context:
        negation = _nearest(self.negation, self.tokens, target, self.stops, self.cues.window)
        for level in CERTAINTY_ORDER:
            hit = _nearest(self.certainty[level], self.tokens, target, self.clause_stops, None)
            if hit is not None:
                return Context(_LEVEL[level], hit, negation)
        return Context("Asserted", None, negation)
