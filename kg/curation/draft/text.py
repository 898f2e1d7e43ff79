"""Words of an article with their character offsets, light stemming, sentences, and cue phrases matched on stems."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_WORD = re.compile(r"[A-Za-z0-9]+(?:['\u2019][A-Za-z]+)?|[;:\u2014\u2013()]|(?<=\s)-(?=\s)|[.,!?]")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"\u201d\u2019)]?(?=\s+[\"\u201c(]?(?:[A-Z0-9]|[a-z]+[A-Z]))|\n+")
"""A sentence ends at . ! or ? before a capital, a digit or a word written in small-then-capital letters
("iPSCs", "mRNA"), or at a line break."""
_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "vs.", "Dr.", "Mr.", "Mrs.", "Ms.", "approx.")
_SUFFIXES = (
    "ational", "atory", "ations", "ation", "ities", "ivity", "ility", "ness", "ments", "ment", "ings", "ing",
    "ies", "ied", "ions", "ion", "ates", "ated", "ate", "ory", "ive", "ers", "ed", "er", "al", "ly", "s",
)  # fmt: skip
_KEEP = {
    "lupus",
    "sclerosis",
    "diabetes",
    "status",
    "likely",
    "only",
    "early",
    "this",
    "analysis",
    "stress",
    "its",
    "has",
}


def stem(word: str) -> str:
    """A light suffix-stripping stem, the same for labels and text: "therapies" and "therapy" -> "therap"."""
    w = word.lower().replace("\u2019", "'")
    if w.endswith("'s"):
        w = w[:-2]
    if w in _KEEP or len(w) <= 3 or w.isdigit():
        return w
    for suffix in _SUFFIXES:
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            if suffix == "s" and w.endswith(("ss", "us", "is")):
                return w
            if suffix == "s":
                return stem(w[:-1])  # a plural stems as its singular: "trials" as "trial", "alternatives"
            w = w[: -len(suffix)]
            break
    if w.endswith("y") and len(w) > 4:
        w = w[:-1]
    if w.endswith("e") and len(w) > 4:
        w = w[:-1]
    return w


@dataclass(frozen=True)
class Token:
    text: str
    start: int
    end: int
    stem: str

    @property
    def is_word(self) -> bool:
        return self.text[0].isalnum()


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    tokens: tuple[Token, ...]


def tokenize(text: str, offset: int = 0) -> list[Token]:
    return [
        Token(m.group(), m.start() + offset, m.end() + offset, stem(m.group()) if m.group()[0].isalnum() else m.group())
        for m in _WORD.finditer(text)
    ]


def sentences(text: str) -> list[Sentence]:
    """Sentences as spans of ``text`` (no leading or trailing blanks), each with its tokens."""
    cuts = [0]
    for m in _SENTENCE_END.finditer(text):
        before = text[max(0, m.start() - 8) : m.start()]
        if any(before.endswith(a) for a in _ABBREVIATIONS):
            continue
        cuts.append(m.end())
    cuts.append(len(text))
    found = []
    for a, b in itertools.pairwise(cuts):
        chunk = text[a:b]
        lead = len(chunk) - len(chunk.lstrip())
        start, end = a + lead, a + len(chunk.rstrip())
        if end > start:
            found.append(Sentence(start, end, tuple(tokenize(text[start:end], start))))
    return found


@dataclass(frozen=True)
class Phrase:
    """A cue: stems to match in order; ``None`` is a gap of up to four words."""

    text: str
    stems: tuple[str | None, ...]
    loose: bool = False
    """Words of five letters or more also match a word that shares its stem's start ("regulat" matches "regulates",
    stemmed "regul", and "minimi" matches "minimizes", stemmed "minimiz"), as the lexicon places paraphrases."""

    @property
    def reach(self) -> int:
        """The most words a match spans: one per stem, four per gap."""
        return sum(1 if s is not None else 4 for s in self.stems)


def phrase(text: str, loose: bool = False) -> Phrase:
    parts: list[str | None] = []
    for piece in text.split():
        if piece == "...":
            parts.append(None)
        else:
            parts.extend(t.stem for t in tokenize(piece))
    return Phrase(text, tuple(parts), loose)


def phrases(texts: Iterable[str], loose: bool = False) -> tuple[Phrase, ...]:
    return tuple(phrase(t, loose) for t in texts)


def find(cue: Phrase, tokens: Sequence[Token], lo: int = 0, hi: int | None = None) -> list[tuple[int, int]]:
    """Every match of ``cue`` in ``tokens[lo:hi]``, as token index ranges [i, j)."""
    hi = len(tokens) if hi is None else hi
    found = []
    for i in range(lo, hi):
        end = _match(cue.stems, tokens, i, hi, cue.loose)
        if end is not None:
            found.append((i, end))
    return found


def _match(stems: tuple[str | None, ...], tokens: Sequence[Token], i: int, hi: int, loose: bool) -> int | None:
    if not stems:
        return i
    head, rest = stems[0], stems[1:]
    if head is None and not rest:
        last = i
        while last < hi and last - i < 4 and tokens[last].is_word:
            last += 1
        return last if last > i else None
    if head is None:
        for gap in range(0, 5):
            if i + gap > hi:
                break
            found = _match(rest, tokens, i + gap, hi, loose)
            if found is not None and found > i + gap:
                return found
        return None
    if i < hi and (tokens[i].stem == head or (loose and _shares_start(tokens[i].stem, head))):
        return _match(rest, tokens, i + 1, hi, loose)
    return None


def _shares_start(word: str, cue: str) -> bool:
    return len(cue) >= 5 and len(word) >= 5 and (word.startswith(cue) or cue.startswith(word))
