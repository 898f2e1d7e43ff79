"""A drafted claim and how it is made from a pair of mentions: the quote (the clause that holds them, verbatim,
with its offsets), certainty and negation from the ConText pass, the scope phrase, and the confidence and reason of
each decision."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from kg.curation.draft.context import Analyzer
from kg.curation.draft.cues import RelationCues
from kg.curation.draft.lexicon import Entity, Mention
from kg.curation.draft.text import Sentence, Token

_CLAUSE_BREAKS = {";", ":", "\u2014", "\u2013"}


@dataclass(frozen=True)
class Decision:
    value: str
    confidence: float
    why: str


@dataclass
class DraftClaim:
    subject: Entity
    predicate: str
    object: Entity
    start: int
    end: int
    quote: str
    sentence: tuple[int, int]
    certainty: str = "Asserted"
    hedge_cue: str | None = None
    negated: bool = False
    quote_role: str = "Background"
    """Drafted by rule (:func:`drafted_role`) for the curator to review; a judgement, never final here."""
    scope: str | None = None
    decisions: dict[str, Decision] = field(default_factory=dict)
    id: str = ""
    rejected: str | None = None
    """The reason, when a curator rejected it."""

    def key(self) -> tuple[str, str, str, str]:
        return (self.subject.iri, self.predicate, self.object.iri, self.quote)


def words(tokens: Sequence[Token], i: int, j: int) -> str:
    return " ".join(t.text for t in tokens[i:j])


def make_claim(
    text: str,
    sentence: Sentence,
    analyzer: Analyzer,
    subject: Mention,
    relation: RelationCues,
    target: Mention,
    score: float,
    why: str,
    carried: bool,
) -> DraftClaim:
    tokens = sentence.tokens
    inside = [target] if carried else [subject, target]
    lo = min(m.first for m in inside)
    hi = max(m.last for m in inside)
    start, end = _clause(text, tokens, lo, hi)
    focus = max(m.first for m in inside)
    context = analyzer.context(focus)
    scope = _scope(text, analyzer)
    relation_confidence = min(0.95, 0.45 + 0.3 * score) if score >= 1 else min(0.6, score)
    decisions = {
        "subject": _link(subject, carried),
        "relation": Decision(relation.name, round(relation_confidence, 2), why),
        "object": _link(target, False),
        "certainty": Decision(
            context.certainty,
            0.8 if context.certainty_cue else 0.6,
            f"{context.certainty_cue.direction} cue '{context.certainty_cue.cue}'"
            if context.certainty_cue
            else "no cue",
        ),
        "negation": Decision(
            "true" if context.negation_cue else "false",
            0.8 if context.negation_cue else 0.7,
            f"{context.negation_cue.direction} trigger '{context.negation_cue.cue}'"
            if context.negation_cue
            else "no trigger",
        ),
    }
    if scope is not None:
        decisions["scope"] = Decision(scope, 0.6, f"scope phrase '{scope}'")
    hedge = None
    if context.certainty in ("Hedged", "Speculative") and context.certainty_cue is not None:
        hedge = text[context.certainty_cue.start : context.certainty_cue.end]
    return DraftClaim(
        subject=subject.entity,
        predicate=relation.iri,
        object=target.entity,
        start=start,
        end=end,
        quote=text[start:end],
        sentence=(sentence.start, sentence.end),
        certainty=context.certainty,
        hedge_cue=hedge,
        negated=context.negation_cue is not None,
        quote_role=drafted_role(context.certainty),
        scope=scope,
        decisions=decisions,
    )


def drafted_role(certainty: str) -> str:
    """A first guess at the quote's role from its certainty, for the curator to correct by reading the quote: a
    reported finding ("trials have shown") is a primary result, a hedge or a prediction the author's review or
    synthesis, anything else background. Marketing is never guessed; it needs the source read."""
    return {"ReportedFinding": "PrimaryResult", "Hedged": "ReviewOrSynthesis", "Speculative": "ReviewOrSynthesis"}.get(
        certainty, "Background"
    )


def _link(m: Mention, carried: bool) -> Decision:
    if carried:
        return Decision(m.entity.iri, 0.5, f"carried from an earlier sentence ('{m.surface}')")
    confidence = {
        "label": 0.95,
        "synonym": 0.9,
        "abbreviation": 0.85,
        "anaphora": 0.6,
        "words": 0.5,
        "quote": 0.5,
        "proposed": 0.4,
        "implied": 0.45,
        "use of": 0.6,
        "combination": 0.6,
    }[m.how]
    if m.how == "implied":
        return Decision(m.entity.iri, confidence, f"implied: the therapy with the cells '{m.surface}'")
    return Decision(m.entity.iri, confidence, f"{m.how} '{m.surface}'")


def _clause(text: str, tokens: Sequence[Token], lo: int, hi: int) -> tuple[int, int]:
    """The span from the clause break before token ``lo`` to the one after token ``hi - 1``, trimmed."""
    a = lo
    while a > 0 and tokens[a - 1].text not in _CLAUSE_BREAKS:
        a -= 1
    b = hi
    while b < len(tokens) and tokens[b].text not in _CLAUSE_BREAKS:
        b += 1
    while b > hi and not tokens[b - 1].is_word and tokens[b - 1].text not in {")"}:
        b -= 1
    start, end = tokens[a].start, tokens[b - 1].end
    if tokens[b - 1].text == ")" and "(" not in text[start:end]:
        end = tokens[b - 2].end if b - 2 >= a else end
    return start, end


def _scope(text: str, analyzer: Analyzer) -> str | None:
    if analyzer.scope is None:
        return None
    i, j = analyzer.scope
    return text[analyzer.tokens[i].start : analyzer.tokens[j - 1].end]
