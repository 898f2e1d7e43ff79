"""The entities a draft can link to: every label and synonym of the graph, matched on word stems (so "therapies"
finds "therapy"), longest match first; abbreviations the article defines ("stem cell transplantation (SCT)") join
the index for the rest of the article."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pyoxigraph as ox

from kg.curation.draft.text import Token, tokenize
from kg.namespaces import PREFIXES, RDF_TYPE

_SCAD = PREFIXES["scad"]
_SKOS = PREFIXES["skos"]
_SUBCLASS = PREFIXES["rdfs"] + "subClassOf"
ENTITY_CLASS = _SCAD + "Entity"
_LONGEST = 8
_THERAPY_WORDS = ("therapy", "transplantation", "treatment", "transplant")
_CLAIM_FIELDS = frozenset(_SCAD + f for f in ("subject", "predicate", "object", "quote", "statedIn"))
LOOSE_KINDS = frozenset(
    {
        "Mechanism",
        "Outcome",
        "Challenge",
        "AdverseEffect",
        "PathologicalProcess",
        "ProcedureStep",
        "ConventionalTreatment",
    }
)
"""The kinds whose entities articles paraphrase rather than name."""
_FUNCTION = frozenset(
    {
        *("the", "a", "an", "of", "and", "or", "to", "in", "on", "for", "with", "by", "from", "as", "is", "are"),
        *("be", "its", "their", "into", "that", "this", "these", "those", "own", "all"),
    }
)


@dataclass(frozen=True)
class Entity:
    iri: str
    label: str
    kind: str
    """The local name of its most specific class: ``Disease``, ``StemCellTherapy``..."""
    proposed: bool = False


@dataclass(frozen=True)
class Mention:
    entity: Entity
    first: int
    """Index of its first token in the sentence."""
    last: int
    """Index after its last token."""
    start: int
    end: int
    how: str
    """How it was linked: "label", "synonym", "abbreviation", "anaphora", "use of" (the therapy with the cells named
    after "the use of"), "words" (most content words of a label),
    "quote" (most content words of a curated quote that states it) or "proposed"."""
    surface: str
    hint: str | None = None
    """For "quote": the relation of the curated claim whose quote it matched."""


@dataclass(frozen=True)
class Loose:
    """Content-word stems that name an entity when most of them occur close together."""

    content: tuple[str, ...]
    entity: Entity
    how: str
    hint: str | None = None
    variant: bool = False
    """Written with an equivalent word in place of one of the label's (not counted for how rare a word is)."""


@dataclass
class Kinds:
    """The class tree of the ontology, by local name."""

    parents: dict[str, set[str]] = field(default_factory=dict)

    def ancestors(self, kind: str) -> set[str]:
        seen = {kind}
        todo = [kind]
        while todo:
            for parent in self.parents.get(todo.pop(), ()):
                if parent not in seen:
                    seen.add(parent)
                    todo.append(parent)
        return seen

    def known(self) -> set[str]:
        """Every class of the tree."""
        return set(self.parents) | {p for parents in self.parents.values() for p in parents}

    def fits(self, kind: str, wanted: Iterable[str]) -> bool:
        mine = self.ancestors(kind)
        return any(w in mine for w in wanted)

    def family(self, kind: str) -> str:
        """The top kind under Entity: ``StemCellTherapy`` -> ``Therapy``."""
        current = kind
        while True:
            up = [p for p in self.parents.get(current, ()) if p != "Entity"]
            if not up:
                return current
            current = sorted(up)[0]


_COMBINING_FORMS = {"immuno": "immune"}
"""Word starts that join a second word into one ("immunomodulation"), and the word they stand for: articles write
the two apart ("modulate the immune response")."""


def _split_compound(text: str) -> tuple[str, ...]:
    """The two content words of a word made with a combining form: ("immun", "modul") for "immunomodulation"; ()
    for any other word."""
    word = text.strip().lower()
    for form, written in _COMBINING_FORMS.items():
        rest = word.removeprefix(form)
        if rest != word and len(rest) >= 4 and rest.isalpha():
            return (tokenize(written)[0].stem, tokenize(rest)[0].stem)
    return ()


@dataclass
class Lexicon:
    kinds: Kinds
    entities: dict[str, Entity] = field(default_factory=dict)
    index: dict[tuple[str, ...], tuple[Entity, str]] = field(default_factory=dict)
    """Stems of a label -> the entity and whether the label is its prefLabel ("label") or a synonym."""
    exact: dict[str, Entity] = field(default_factory=dict)
    """Short all-capital labels (MS, RA), matched only as written."""
    loose: list[Loose] = field(default_factory=list)
    """Content-word stems of labels of two words or more, for paraphrases ("halting the progression of the
    illness" for "halted disease progression"): most of them within a few words."""
    therapy_of: dict[str, Entity] = field(default_factory=dict)
    """A stem cell type -> the stem cell therapy named after it ("mesenchymal stem cell" -> "mesenchymal stem
    cell therapy"), for sentences where the cells stand for the therapy ("MSCs can relieve symptoms")."""

    def name_therapies(self) -> None:
        """Fill ``therapy_of`` from the labels: a StemCellTherapy whose label is a cell type's label followed by a
        therapy word ("therapy", "transplantation", "treatment", "transplant")."""
        heads = [tokenize(word)[0].stem for word in _THERAPY_WORDS]
        for key, (entity, _) in list(self.index.items()):
            if self.kinds.family(entity.kind) != "CellType" or entity.iri in self.therapy_of:
                continue
            for head in heads:
                hit = self.index.get((*key, head))
                if hit is not None and self.kinds.fits(hit[0].kind, ["StemCellTherapy"]):
                    self.therapy_of[entity.iri] = hit[0]
                    break

    def add(self, entity: Entity, text: str, how: str) -> None:
        if len(text) <= 4 and text.isupper():
            self.exact.setdefault(text, entity)
            return
        words = [t for t in tokenize(text) if t.is_word]
        key = tuple(t.stem for t in words)
        if not key:
            return
        present = self.index.get(key)
        if present is None or (how == "label" and present[1] != "label"):
            self.index[key] = (entity, how)
        parts = (p for t in words for p in _split_compound(t.text) or [t.stem])  # "immunomodulation": two words
        content = tuple(dict.fromkeys(p for p in parts if p not in _FUNCTION))
        if len(content) >= 2:
            self.loose.append(Loose(content, entity, "words"))

    def named_for(self, kind: str) -> Entity | None:
        """The one entity of ``kind`` whose label holds every word of the kind's name (the entity
        "conventional immune-suppressing treatment" of ConventionalTreatment): what the article means by the kind
        when it speaks of several of its members at once ("these treatments")."""
        wanted = {tokenize(w)[0].stem for w in re.findall(r"[A-Z][a-z]+", kind)}
        found = [
            e
            for e in self.entities.values()
            if e.kind == kind and not e.proposed and wanted <= {t.stem for t in tokenize(e.label)}
        ]
        return found[0] if len(found) == 1 else None

    def paraphrased(self, kind: str) -> bool:
        """Whether articles paraphrase entities of ``kind`` rather than name them (LOOSE_KINDS)."""
        return kind in LOOSE_KINDS or self.kinds.family(kind) in LOOSE_KINDS

    def remember(self, quote: str, subject: Entity, obj: Entity, predicate: str, subject_labels: Iterable[str]) -> None:
        """A curated claim's quote, less its subject's words, as evidence for its object (and its relation)."""
        if not self.paraphrased(obj.kind):
            return
        drop = {t.stem for label in subject_labels for t in tokenize(label)} | _FUNCTION
        content = tuple(dict.fromkeys(t.stem for t in tokenize(quote) if t.is_word and t.stem not in drop))
        if 2 <= len(content) <= 10:
            self.loose.append(Loose(content, obj, "quote", predicate))

    def loose_mentions(
        self, tokens: Sequence[Token], found: list[Mention], skip: frozenset[str] = frozenset()
    ) -> list[Mention]:
        """Entities of the paraphrased kinds most of whose content words appear close together, at least one of
        them rare among the labels and outside the mentions ``found``, which must not name them already. Words in
        ``skip`` (as written, lower case) stand for no content word."""
        named = {m.entity.iri for m in found}
        inside = {k for m in found for k in range(m.first, m.last)}
        where: dict[str, list[int]] = {}
        for i, t in enumerate(tokens):
            if t.is_word and t.text.lower() not in skip:
                where.setdefault(t.stem, []).append(i)
        frequency: dict[str, int] = {}
        for entry in self.loose:
            for c in entry.content if entry.how == "words" and not entry.variant else ():
                frequency[c] = frequency.get(c, 0) + 1
        hits: list[tuple[float, Mention]] = []
        placed: dict[str, list[int]] = {}
        for entry in self.loose:
            content, entity = entry.content, entry.entity
            if entity.iri in named or not self.paraphrased(entity.kind):
                continue
            for c in content:
                if c not in placed:
                    placed[c] = _places(c, where)  # once per sentence: labels share many words
            need = len(content) if len(content) <= 2 else -(-2 * len(content) // 3)
            if sum(1 for c in content if placed[c]) < need:
                continue
            places = _tighten(_closest({c: placed[c] for c in content}), need, len(content) + 3, frequency)
            if max(places.values()) - min(places.values()) > len(content) + 3:
                continue
            if not any(frequency.get(c, 0) <= 2 and i not in inside for c, i in places.items()):
                continue
            own = [i for i in places.values() if i not in inside] or list(places.values())
            first, last = min(own), max(own) + 1  # the words no other mention holds
            mention = _mention(entity, tokens, first, last, entry.how)
            if entry.hint is not None:
                mention = Mention(**{**mention.__dict__, "hint": entry.hint})
            hits.append((len(places) / len(content) + 0.01 * len(places), mention))
        chosen: list[Mention] = []
        for _, m in sorted(hits, key=lambda h: -h[0]):
            if all(m.last <= c.first or c.last <= m.first for c in chosen):
                chosen.append(m)
        return chosen

    def mentions(self, tokens: Sequence[Token], taken: set[int] | None = None) -> list[Mention]:
        """Linked mentions in ``tokens``, longest first, never overlapping (nor touching ``taken`` indexes)."""
        used = set(taken or ())
        found: list[Mention] = []
        i = 0
        while i < len(tokens):
            hit = self._longest(tokens, i, used)
            if hit is None:
                i += 1
                continue
            found.append(hit)
            used.update(range(hit.first, hit.last))
            i = hit.last
        return found

    def _longest(self, tokens: Sequence[Token], i: int, used: set[int]) -> Mention | None:
        if i in used or not tokens[i].is_word:
            return None
        stems: list[str] = []
        best: Mention | None = None
        for j in range(i, min(len(tokens), i + _LONGEST)):
            if j in used or not tokens[j].is_word:
                break
            stems.append(tokens[j].stem)
            hit = self.index.get(tuple(stems))
            if hit is not None:
                best = _mention(hit[0], tokens, i, j + 1, hit[1])
        if best is not None and best.last > i + 1:
            return best
        word = tokens[i].text
        short = word[:-1] if word.endswith("s") and word[:-1].isupper() else word
        exact = self.exact.get(word) or self.exact.get(short)
        if exact is not None:
            return _mention(exact, tokens, i, i + 1, "abbreviation")
        return best


def _places(stem: str, where: dict[str, list[int]]) -> list[int]:
    """Where a content stem occurs in the sentence: as it is, or as a word that shares its first five or more
    letters and differs only at the end ("reduct" of reduction, "reduc" of reduce)."""
    if stem in where:
        return where[stem]
    if len(stem) < 5:
        return []
    return sorted(
        i for s, places in where.items() if len(s) >= 5 and (s.startswith(stem) or stem.startswith(s)) for i in places
    )


def _closest(found: dict[str, list[int]]) -> dict[str, int]:
    """One occurrence of each stem found, the occurrences closest together (a word the sentence repeats, such as
    "cells", counts where the other words are, not where it first occurs). The places are in ascending order."""
    best: dict[str, int] = {}
    for anchor in sorted({i for places in found.values() for i in places}):
        pick = {c: _nearest_to(places, anchor) for c, places in found.items() if places}
        if not best or max(pick.values()) - min(pick.values()) < max(best.values()) - min(best.values()):
            best = pick
    return best


def _nearest_to(places: list[int], anchor: int) -> int:
    """The place nearest ``anchor``, the earlier of two as near."""
    k = bisect.bisect_left(places, anchor)
    if k == len(places):
        return places[-1]
    if k == 0 or places[k] == anchor:
        return places[k]
    return places[k - 1] if anchor - places[k - 1] <= places[k] - anchor else places[k]


def _tighten(places: dict[str, int], need: int, spread: int, frequency: dict[str, int]) -> dict[str, int]:
    """Without the words, outermost first, that lie too far from the rest, as long as ``need`` of them are left:
    in "reversing some of the damage caused by the autoimmune response" the words of "reversal of autoimmune
    damage" are the first two; "autoimmune" belongs to another phrase. Of two outermost words that could go, the
    one more labels share goes."""
    kept = dict(places)
    while len(kept) > need and max(kept.values()) - min(kept.values()) > spread:
        ordered = sorted(kept, key=lambda c: kept[c])
        low, high = ordered[0], ordered[-1]
        left = {high: kept[ordered[-2]] - kept[low], low: kept[high] - kept[ordered[1]]}  # the spread without it
        fits = [c for c in (low, high) if left[c] <= spread]
        if len(fits) == 1:
            del kept[fits[0]]
        elif fits:
            del kept[max(fits, key=lambda c: frequency.get(c, 0))]
        else:
            del kept[min((low, high), key=lambda c: left[c])]
    return kept


def _mention(entity: Entity, tokens: Sequence[Token], first: int, last: int, how: str) -> Mention:
    start, end = tokens[first].start, tokens[last - 1].end
    surface = " ".join(t.text for t in tokens[first:last])
    return Mention(entity, first, last, start, end, how, surface)


def read_lexicon(quads: Iterable[ox.Quad], leave_out: str | None = None, quotes: bool = True) -> Lexicon:
    """The entities of a parsed graph (the ontology and its data) with their labels and synonyms, and the quotes of
    its claims as evidence for their objects, except the claims stated in the source ``leave_out`` (for measuring
    a source's draft without its own curated claims), and all of them without ``quotes``."""
    quads = list(quads)
    kinds = Kinds()
    for q in quads:
        child, parent = text_of(q.subject), text_of(q.object)
        if q.predicate.value == _SUBCLASS and child.startswith(_SCAD) and parent.startswith(_SCAD):
            kinds.parents.setdefault(_local(child), set()).add(_local(parent))
    types: dict[str, set[str]] = {}
    labels: dict[str, tuple[list[str], list[str]]] = {}
    for q in quads:
        subject, p, o = text_of(q.subject), q.predicate.value, q.object
        if p == RDF_TYPE and text_of(o).startswith(_SCAD):
            types.setdefault(subject, set()).add(_local(text_of(o)))
        elif p == _SKOS + "prefLabel" and isinstance(o, ox.Literal):
            labels.setdefault(subject, ([], []))[0].append(o.value)
        elif p == _SKOS + "altLabel" and isinstance(o, ox.Literal):
            labels.setdefault(subject, ([], []))[1].append(o.value)
    lexicon = Lexicon(kinds)
    for iri, (prefs, alts) in sorted(labels.items()):
        classes = {k for k in types.get(iri, set()) if kinds.fits(k, ["Entity"])}
        if not prefs or not classes:
            continue
        kind = min(classes, key=lambda k: (-len(kinds.ancestors(k)), k))
        entity = Entity(iri, prefs[0], kind)
        lexicon.entities[iri] = entity
        for label in prefs:
            lexicon.add(entity, label, "label")
        for label in sorted(alts):
            lexicon.add(entity, label, "synonym")
    lexicon.name_therapies()
    claims: dict[str, dict[str, str]] = {}
    for q in quads:
        if q.predicate.value in _CLAIM_FIELDS:
            claims.setdefault(text_of(q.subject), {})[q.predicate.value] = text_of(q.object)
    for fields in claims.values():
        said_by = lexicon.entities.get(fields.get(_SCAD + "subject", ""))
        said_of = lexicon.entities.get(fields.get(_SCAD + "object", ""))
        if not quotes or said_by is None or said_of is None or fields.get(_SCAD + "statedIn") == leave_out:
            continue
        names = [*labels[said_by.iri][0], *labels[said_by.iri][1]]
        lexicon.remember(fields.get(_SCAD + "quote", ""), said_by, said_of, fields[_SCAD + "predicate"], names)
    return lexicon


def text_of(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple | ox.DefaultGraph) -> str:
    """The IRI, blank node id or lexical form of a term (an RDF-star triple or the default graph as written)."""
    return term.value if isinstance(term, ox.NamedNode | ox.BlankNode | ox.Literal) else str(term)


def _local(iri: str) -> str:
    return iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
