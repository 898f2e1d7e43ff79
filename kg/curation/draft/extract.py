"""Drafting: the claims one article states, found sentence by sentence with the lexicon and the cue patterns.

In each sentence the linked mentions (labels, synonyms, abbreviations the article defines, and generic nouns such
as "these conditions" that refer back) are paired: each entity that can be the object of a relation gets the
nearest subject whose kind fits a relation with it (in the sentence, else the last one the article named), and the
relation is the one whose cues the sentence holds (else the one its prior favours). Lists give the general-specific
pairs ("diseases such as lupus"). Certainty, negation and scope come from the ConText pass over the sentence."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field

from kg.curation.draft.claim import Decision, DraftClaim, drafted_role, make_claim, words
from kg.curation.draft.context import Analyzer
from kg.curation.draft.cues import Cues, RelationCues
from kg.curation.draft.lexicon import Entity, Lexicon, Loose, Mention
from kg.curation.draft.text import Phrase, Sentence, Token, find, sentences, tokenize
from kg.namespaces import KGR, PREFIXES

BROADER = PREFIXES["skos"] + "broader"
_LIST_ENDS = {";", ":", "\u2014", "\u2013", ".", "(", ")"}


@dataclass
class _Document:
    text: str
    lexicon: Lexicon
    cues: Cues
    topics: dict[str, Mention] = field(default_factory=dict)
    """The last entity of each family the article named (conventional treatments apart: _slot), for subjects
    carried over from earlier sentences, the family named least recently first."""
    proposals: dict[str, Entity] = field(default_factory=dict)
    generals: dict[str, Mention] = field(default_factory=dict)
    """The last general entity of each family a list named members of ("diseases such as lupus")."""
    combinations: dict[frozenset[str], Entity] = field(default_factory=dict)
    """The combination therapies of the lexicon by the two therapies their labels name."""
    previous: list[Mention] = field(default_factory=list)
    """The mentions of the sentence before."""
    components: set[int] = field(default_factory=set)
    """Where the sentence names a therapy it combines with another: not on its own the subject of what the
    combination achieves."""


def draft_claims(text: str, lexicon: Lexicon, cues: Cues) -> tuple[list[DraftClaim], list[Entity]]:
    """The claims found in ``text`` (in reading order) and the new entities they propose."""
    doc = _Document(text, _with_equivalents(_copy(lexicon), cues), cues)
    doc.combinations = _combinations_of(doc.lexicon)
    found: list[DraftClaim] = []
    seen: set[tuple[str, str, str]] = set()
    spans: set[tuple[tuple[str, str, str], int, int]] = set()
    for sentence in sentences(text):
        claims = _sentence_claims(doc, sentence)
        if _heading(text, sentence):
            continue  # a title or a question states nothing, though it names the topic
        for claim in claims:
            k = (claim.subject.iri, claim.predicate, claim.object.iri)
            if claim.subject.iri == claim.object.iri or (k, claim.start, claim.end) in spans:
                continue
            spans.add((k, claim.start, claim.end))
            # a statement the article repeats is drafted again only when its own sentence says it plainly: the
            # relation's cue stands between subject and object, both named there
            if k in seen and not _plain(claim):
                continue
            seen.add(k)
            found.append(claim)
    return found, list(doc.proposals.values())


def _heading(text: str, sentence: Sentence) -> bool:
    """A question, or a title: a line in title case without a full stop."""
    written = text[sentence.start : sentence.end].rstrip('"\u201d\u2019)')
    if written.endswith("?"):
        return True
    if written.endswith((".", "!")):
        return False
    long = [t.text for t in sentence.tokens if t.is_word and len(t.text) > 3]
    return bool(long) and sum(w[0].isupper() for w in long) >= 0.6 * len(long)


def _plain(claim: DraftClaim) -> bool:
    why = claim.decisions["relation"].why
    carried = claim.decisions["subject"].why.startswith("carried")
    return why.startswith(("cue", "list cue", "copula cue")) and "beside the pair" not in why and not carried


def _copy(lexicon: Lexicon) -> Lexicon:
    return Lexicon(
        lexicon.kinds,
        dict(lexicon.entities),
        dict(lexicon.index),
        dict(lexicon.exact),
        list(lexicon.loose),
        dict(lexicon.therapy_of),
    )


def _with_equivalents(lexicon: Lexicon, cues: Cues) -> Lexicon:
    """Each label also written with an equivalent word in place of one of its words ("autoimmune illness" for
    "autoimmune disease"), unless that spelling names an entity of its own."""
    other = {s: group for group in cues.equivalents for s in group}
    for key, (entity, _) in list(lexicon.index.items()):
        for k, word in enumerate(key):
            for alternative in other.get(word, ()):
                if alternative != word:
                    lexicon.index.setdefault((*key[:k], alternative, *key[k + 1 :]), (entity, "synonym"))
    for entry in list(lexicon.loose):
        for k, word in enumerate(entry.content):
            for alternative in other.get(word, ()):
                if alternative != word and alternative not in entry.content:
                    content = (*entry.content[:k], alternative, *entry.content[k + 1 :])
                    lexicon.loose.append(Loose(content, entry.entity, entry.how, entry.hint, variant=True))
    return lexicon


def _sentence_claims(doc: _Document, sentence: Sentence) -> list[DraftClaim]:
    tokens = sentence.tokens
    mentions = _shared_heads(doc, tokens, doc.lexicon.mentions(tokens))
    _learn_abbreviations(doc, tokens, mentions)
    mentions += _anaphora(doc, tokens, mentions) + _proposals(doc, tokens, mentions)
    mentions += _uses_of(doc, tokens, mentions)
    mentions += _combined(doc, tokens, mentions)
    mentions = sorted(mentions + doc.lexicon.loose_mentions(tokens, mentions, doc.cues.stopwords), key=_order)
    analyzer = Analyzer(doc.cues, tokens)
    claims = _broader_claims(doc, sentence, mentions, analyzer)
    for c in claims:
        general = next(m for m in mentions if m.entity.iri == c.object.iri)
        doc.generals[doc.lexicon.kinds.family(c.object.kind)] = general
    claims += _named_after_cells(doc, sentence, mentions, analyzer)
    paired = {frozenset((c.subject.iri, c.object.iri)) for c in claims}
    best: dict[frozenset[str], tuple[float, DraftClaim]] = {}
    firsts = [m.first for m in mentions]  # in ascending order
    for target in mentions:
        near = mentions[bisect_left(firsts, target.first - _REACH) : bisect_right(firsts, target.first + _REACH)]
        pick = _subject_for(doc, tokens, near, target)
        if pick is None:
            continue
        subject, relation, score, why, carried = pick
        if _parts_of(doc, subject, target) or _parts_of(doc, target, subject):
            continue  # a combination is not related to its own parts
        pair = frozenset((subject.entity.iri, target.entity.iri))
        if pair in paired or (pair in best and best[pair][0] >= score):
            continue
        best[pair] = (
            score,
            make_claim(doc.text, sentence, analyzer, subject, relation, target, score, why, carried),
        )
    claims += sorted((c for _, c in best.values()), key=lambda c: (c.start, c.object.iri))
    claims += _for_each_combination(doc, sentence, analyzer, mentions, claims)
    claims += _mechanisms_of_therapies(doc, sentence, analyzer, mentions, claims)
    _update_topics(doc, mentions, claims)
    doc.previous = mentions
    return claims


def _combinations_of(lexicon: Lexicon) -> dict[frozenset[str], Entity]:
    found = {}
    for entity in lexicon.entities.values():
        if not lexicon.kinds.fits(entity.kind, ["CombinationTherapy"]):
            continue
        tokens = tokenize(entity.label)
        joint = next((k for k, t in enumerate(tokens) if t.text.lower() == "with"), None)
        if joint is None:
            continue
        sides = [lexicon.mentions(tokens[:joint]), lexicon.mentions(tokens[joint + 1 :])]
        parts = {side[-1 if k == 0 else 0].entity.iri for k, side in enumerate(sides) if side}
        if len(parts) == 2 and all(lexicon.kinds.family(lexicon.entities[p].kind) == "Therapy" for p in parts):
            found[frozenset(parts)] = entity
    return found


def _parts_of(doc: _Document, combination: Mention, part: Mention) -> bool:
    """Whether ``part`` names one of the two therapies the combination mention ``combination`` joins."""
    if combination.how != "combination":
        return False
    return any(e == combination.entity and part.entity.iri in k for k, e in doc.combinations.items())


def _combined(doc: _Document, tokens: Sequence[Token], mentions: list[Mention]) -> list[Mention]:
    """ "Combining stem cell therapy with gene therapy": the combination therapy of the lexicon whose label names
    both, mentioned at the cue, and its two parts marked as components."""
    doc.components = set()
    relation = next((r for r in doc.cues.relations if r.iri == COMBINED_WITH), None)
    cue = next((hit for c in (relation.cues if relation else ()) for hit in find(c, tokens)), None)
    if cue is None:
        return []
    therapies = [m for m in mentions if doc.lexicon.kinds.family(m.entity.kind) == "Therapy"]
    found = []
    for a in therapies:
        for b in therapies:
            combination = doc.combinations.get(frozenset((a.entity.iri, b.entity.iri)))
            if a.first < b.first and combination is not None:
                i, j = cue
                surface = f"{words(tokens, i, j)} {a.surface} ... {b.surface}"
                found.append(Mention(combination, i, j, tokens[i].start, tokens[j - 1].end, "combination", surface))
                doc.components.update((a.first, b.first))
    return found


def _for_each_combination(
    doc: _Document, sentence: Sentence, analyzer: Analyzer, mentions: list[Mention], claims: list[DraftClaim]
) -> list[DraftClaim]:
    """What a sentence says of the combinations it names ("combining A with B or C could enhance ...") it says of
    each of them."""
    combinations = [m for m in mentions if m.how == "combination"]
    relations = {r.iri: r for r in doc.cues.relations}
    more = []
    for c in claims:
        if c.decisions["subject"].why.startswith("combination"):
            for other in combinations:
                if other.entity.iri != c.subject.iri:
                    target = next(m for m in mentions if m.entity.iri == c.object.iri)
                    why = c.decisions["relation"].why
                    score = 1.0
                    more.append(
                        make_claim(
                            doc.text,
                            sentence,
                            analyzer,
                            other,
                            relations[c.predicate],
                            target,
                            score,
                            why,
                            False,
                        )
                    )
    return more


HAS_CAPABILITY = PREFIXES["scad"] + "hasCapability"
HAS_MECHANISM = PREFIXES["scad"] + "hasMechanism"


def _mechanisms_of_therapies(
    doc: _Document, sentence: Sentence, analyzer: Analyzer, mentions: list[Mention], claims: list[DraftClaim]
) -> list[DraftClaim]:
    """What cells named in the sentence are able to do ("MSCs can suppress the immune response") is also how the
    therapy named after them works: both readings are drafted, for the curator to keep one."""
    relation = next((r for r in doc.cues.relations if r.iri == HAS_MECHANISM), None)
    if relation is None:
        return []
    paired = {(c.subject.iri, c.object.iri) for c in claims}
    more = []
    for c in claims:
        therapy = doc.lexicon.therapy_of.get(c.subject.iri)
        if c.predicate != HAS_CAPABILITY or therapy is None or (therapy.iri, c.object.iri) in paired:
            continue
        if c.decisions["subject"].why.split(" ", 1)[0] not in _NAMED:
            continue  # only cells named here: "they" may stand for other cells than the therapy's
        cells = next((m for m in mentions if m.entity.iri == c.subject.iri and m.how in _NAMED), None)
        target = next((m for m in mentions if m.entity.iri == c.object.iri), None)
        if cells is None or target is None:
            continue
        implied = Mention(therapy, cells.first, cells.last, cells.start, cells.end, "implied", cells.surface)
        why = f"{c.decisions['relation'].why}; the capability of the cells the therapy is named after"
        score = 0.5  # one of two readings: less sure than the relation its cue found
        more.append(make_claim(doc.text, sentence, analyzer, implied, relation, target, score, why, False))
        paired.add((therapy.iri, c.object.iri))
    return more


_NAMED = frozenset({"label", "synonym", "abbreviation"})
"""How a mention names its entity itself (not through anaphora, paraphrase or implication)."""
FOIL = "ConventionalTreatment"


def _slot(doc: _Document, kind: str) -> str:
    """The topic an entity of ``kind`` takes: its family's, except conventional treatments, which articles about
    new therapies name as the comparison (they keep a topic of their own, for "these treatments")."""
    return FOIL if doc.lexicon.kinds.fits(kind, [FOIL]) else doc.lexicon.kinds.family(kind)


def _update_topics(doc: _Document, mentions: list[Mention], claims: list[DraftClaim]) -> None:
    """What the next sentences talk about, per family: the entity this sentence says most about (the subject of
    most of its claims, named here), else the first entity of that family it names. Objects a sentence merely
    lists ("involves chemotherapy or radiation") do not take the topic from its subject."""
    said: dict[str, dict[str, int]] = {}
    for c in claims:
        if c.predicate != BROADER and not c.decisions["subject"].why.startswith("carried"):
            tally = said.setdefault(_slot(doc, c.subject.kind), {})
            tally[c.subject.iri] = tally.get(c.subject.iri, 0) + 1
    done: set[str] = set()
    for m in mentions:
        slot = _slot(doc, m.entity.kind)
        if slot in said:
            counts = said[slot]
            if m.entity.iri == max(counts, key=lambda k: counts[k]):
                doc.topics.pop(slot, None)
                doc.topics[slot] = m
                del said[slot]
                done.add(slot)
        elif m.how not in ("anaphora", "words", "quote") and slot not in done:
            doc.topics.pop(slot, None)
            doc.topics[slot] = m
            done.add(slot)


def _shared_heads(doc: _Document, tokens: Sequence[Token], mentions: list[Mention]) -> list[Mention]:
    """A list whose last item carries the head word for all ("bone, cartilage and fat cells"; "anti-inflammatory
    or immunosuppressive drugs"): each earlier item of up to three words that is a label with that head ("bone
    cell", "anti-inflammatory drugs") replaces what the item alone linked to ("bone")."""
    by_first = {m.first: m for m in mentions}
    out = list(mentions)
    for m in mentions:
        if m.last - m.first < 2:
            continue
        head = tokens[m.last - 1]
        k = m.first - 1
        while k >= 1 and (tokens[k].text == "," or tokens[k].text.lower() in {"and", "or"}):
            while k >= 1 and (tokens[k].text == "," or tokens[k].text.lower() in {"and", "or"}):
                k -= 1
            found = None
            for first in range(max(0, k - 2), k + 1):  # the longest item first
                item = tokens[first : k + 1]
                if all(t.is_word for t in item):
                    hit = doc.lexicon.index.get((*(t.stem for t in item), head.stem))
                    if hit is not None:
                        found = first, hit
                        break
            if found is None:
                break
            first, hit = found
            for old in [by_first.get(i) for i in range(first, k + 1)]:
                if old is not None and old in out:
                    out.remove(old)
            words = " ".join(t.text for t in tokens[first : k + 1])
            out.append(
                Mention(hit[0], first, k + 1, tokens[first].start, tokens[k].end, hit[1], f"{words} ... {head.text}")
            )
            k = first - 1
    return sorted(out, key=_order)


def _order(m: Mention) -> int:
    return m.first


def _learn_abbreviations(doc: _Document, tokens: Sequence[Token], mentions: list[Mention]) -> None:
    """``long form (ABBR)``: the abbreviation names the same entity for the rest of the article."""
    for m in mentions:
        if m.last + 2 < len(tokens) and tokens[m.last].text == "(" and tokens[m.last + 2].text == ")":
            word = tokens[m.last + 1].text
            short = word[:-1] if word.endswith("s") and word[:-1].isupper() else word
            if short.isupper() and 1 < len(short) <= 6:
                doc.lexicon.exact.setdefault(short, m.entity)


def _anaphora(doc: _Document, tokens: Sequence[Token], mentions: list[Mention]) -> list[Mention]:
    used = {k for m in mentions for k in range(m.first, m.last)}
    found = []
    for family, cues in doc.cues.anaphora.items():
        slots = [k for k in doc.topics if k == family or (k == FOIL and doc.lexicon.kinds.family(FOIL) == family)]
        topic = doc.topics[slots[-1]] if slots else None  # the one named most recently
        if topic is None:
            continue
        general = doc.generals.get(family)
        for cue in cues:
            for i, j in find(cue, tokens):
                if j < len(tokens) and tokens[j].text.lower() == "of":
                    continue  # "the treatment of lupus" names its own referent: not a mention of an earlier one
                if used.isdisjoint(range(i, j)):
                    used.update(range(i, j))
                    surface = " ".join(t.text for t in tokens[i:j])
                    # a plural noun ("these conditions") names the class the article listed members of, if any
                    plural = j - i > 1 or tokens[i].text.lower() not in _PRONOUNS
                    plural = plural and tokens[j - 1].text.lower().endswith("s") and family in _CLASS_NOUNS
                    entity = general.entity if plural and general is not None else topic.entity
                    if family in _KIND_NOUNS and j - i > 1 and tokens[j - 1].text.lower().endswith("s"):
                        entity = _several(doc, family) or entity
                    if tokens[i].text.lower() in _PRONOUNS and j - i == 1:
                        # a pronoun takes the first entity of its family named earlier in the same sentence
                        here = [
                            m for m in mentions if m.last <= i and doc.lexicon.kinds.family(m.entity.kind) == family
                        ]
                        entity = here[0].entity if here else entity
                    found.append(Mention(entity, i, j, tokens[i].start, tokens[j - 1].end, "anaphora", surface))
    return found


def _uses_of(doc: _Document, tokens: Sequence[Token], mentions: list[Mention]) -> list[Mention]:
    """ "The use of MSCs": the words name the therapy with those cells (the stem cell therapy named after them)."""
    found = []
    for m in mentions:
        therapy = doc.lexicon.therapy_of.get(m.entity.iri)
        k = m.first
        if therapy is None or k < 2 or tokens[k - 1].text.lower() != "of" or tokens[k - 2].stem != "use":
            continue
        use = tokens[k - 2]
        found.append(Mention(therapy, k - 2, k - 1, use.start, use.end, "use of", f"use of {m.surface}"))
    return found


def _several(doc: _Document, family: str) -> Entity | None:
    """ "These treatments" after a sentence naming several treatments of one kind: the entity named for that kind
    (Lexicon.named_for), which the claims of the members as a group are about."""
    members = {m.entity.iri: m.entity for m in doc.previous if doc.lexicon.kinds.family(m.entity.kind) == family}
    kinds = {e.kind for e in members.values()}
    return doc.lexicon.named_for(kinds.pop()) if len(members) >= 2 and len(kinds) == 1 else None


_KIND_NOUNS = frozenset({"Therapy"})
_PRONOUNS = frozenset({"they", "them", "it", "this", "these"})
_CLASS_NOUNS = frozenset({"Disease"})
"""The families whose plural nouns ("these conditions", "illnesses") name a class rather than its last member."""


def _proposals(doc: _Document, tokens: Sequence[Token], mentions: list[Mention]) -> list[Mention]:
    """Unknown items of a list whose other items are linked ("infections, organ damage, and X"): proposed entities
    of the kind the linked items share."""
    by_first = {m.first: m for m in mentions}
    used = {k for m in mentions for k in range(m.first, m.last)}
    found: list[Mention] = []
    for cue in _list_cues(doc.cues):
        for _, j in find(cue, tokens):
            items = _list_items(tokens, j)
            kinds = {by_first[a].entity.kind for a, _ in items if a in by_first}
            if len(kinds) != 1:
                continue
            kind = kinds.pop()
            for a, b in items:
                words = _trim(doc.cues, tokens, a, b)
                if words is None or not used.isdisjoint(range(words[0], words[1])):
                    continue
                entity = _propose(doc, tokens, words, kind)
                found.append(_proposed_mention(entity, tokens, words))
                used.update(range(words[0], words[1]))
    return found


def _list_cues(cues: Cues) -> tuple[Phrase, ...]:
    broader = next((r for r in cues.relations if r.iri == BROADER), None)
    return broader.list_cues if broader is not None else ()


def _list_items(tokens: Sequence[Token], j: int) -> list[tuple[int, int]]:
    items, start = [], j
    k = j
    while k < len(tokens) and tokens[k].text not in _LIST_ENDS:
        word = tokens[k].text.lower()
        if tokens[k].text == "," or word in {"and", "or"}:
            if k > start:
                items.append((start, k))
            start = k + 1
        k += 1
    if k > start:
        items.append((start, k))
    return items


def _trim(cues: Cues, tokens: Sequence[Token], a: int, b: int) -> tuple[int, int] | None:
    while a < b and (tokens[a].text.lower() in cues.stopwords or not tokens[a].is_word):
        a += 1
    while b > a and (tokens[b - 1].text.lower() in cues.stopwords or not tokens[b - 1].is_word):
        b -= 1
    if any(tokens[k].text.lower() in cues.stopwords - {"of"} for k in range(a, b)):
        return None  # a clause, not a name ("effective treatment is critical")
    return (a, b) if 0 < b - a <= 5 else None


def _propose(doc: _Document, tokens: Sequence[Token], words: tuple[int, int], kind: str) -> Entity:
    label = doc.text[tokens[words[0]].start : tokens[words[1] - 1].end]
    slug = "-".join(t.text.lower().replace("\u2019", "").replace("'", "") for t in tokens[words[0] : words[1]])
    iri = KGR + slug
    existing = doc.proposals.get(iri) or doc.lexicon.entities.get(iri)
    if existing is not None:
        return existing
    entity = Entity(iri, label.lower() if not label.isupper() else label, kind, proposed=True)
    doc.proposals[iri] = entity
    doc.lexicon.add(entity, label, "proposed")
    return entity


def _proposed_mention(entity: Entity, tokens: Sequence[Token], words: tuple[int, int]) -> Mention:
    a, b = words
    surface = " ".join(t.text for t in tokens[a:b])
    return Mention(entity, a, b, tokens[a].start, tokens[b - 1].end, "proposed", surface)


def _broader_claims(
    doc: _Document, sentence: Sentence, mentions: list[Mention], analyzer: Analyzer
) -> list[DraftClaim]:
    """General-specific pairs: "diseases such as A, B and C" and "A and B are autoimmune diseases"."""
    relation = next((r for r in doc.cues.relations if r.iri == BROADER), None)
    if relation is None:
        return []
    tokens, kinds = sentence.tokens, doc.lexicon.kinds
    claims: list[DraftClaim] = []
    for general in mentions:
        family = kinds.family(general.entity.kind)
        if not kinds.fits(general.entity.kind, relation.object):
            continue
        for cue in relation.list_cues:
            reach = min(len(tokens), general.last + 2 + cue.reach)  # the cue starts at most a word after it
            for i, j in [(i, j) for i, j in find(cue, tokens, general.last, reach) if i < general.last + 2]:
                for specific in _same_family_until_break(doc, tokens, mentions, j, family):
                    why = f"list cue '{words(tokens, i, j)}' after the general entity"
                    claims.append(
                        make_claim(doc.text, sentence, analyzer, specific, relation, general, 0.7, why, False)
                    )
        for cue in relation.class_cues:
            for i, j in find(cue, tokens, max(0, general.first - 3), general.first):
                if j != general.first:
                    continue
                reach = min(len(tokens), general.last + _REACH)
                end = next((k for k in range(general.last, reach) if tokens[k].text in {";", "."}), reach)
                members = [
                    m for m in mentions if general.last <= m.first < end and kinds.family(m.entity.kind) == family
                ]
                for specific in members:
                    why = f"class cue '{words(tokens, i, j)}' before the general entity"
                    claims.append(
                        make_claim(doc.text, sentence, analyzer, specific, relation, general, 0.6, why, False)
                    )
        for cue in relation.copula_cues:
            for i, j in find(cue, tokens, max(0, general.first - 6), general.first):
                if j < general.first - 1:
                    continue
                earlier = [m for m in mentions if i - _REACH <= m.first and m.last <= i]
                for specific in [m for m in earlier if kinds.family(m.entity.kind) == family]:
                    why = f"copula cue '{words(tokens, i, j)}' before the general entity"
                    claims.append(
                        make_claim(doc.text, sentence, analyzer, specific, relation, general, 0.6, why, False)
                    )
    return [c for c in claims if c.subject.iri != c.object.iri]


USES_CELL_TYPE = PREFIXES["scad"] + "usesCellType"
COMBINED_WITH = PREFIXES["scad"] + "combinedWith"


def _named_after_cells(
    doc: _Document, sentence: Sentence, mentions: list[Mention], analyzer: Analyzer
) -> list[DraftClaim]:
    """A stem cell therapy named after its cells uses them: where the article introduces the name with its
    abbreviation ("mesenchymal stem cell therapy (MSCT)") the name says so, plainly (asserted, whatever hedges the
    sentence)."""
    relation = next((r for r in doc.cues.relations if r.iri == USES_CELL_TYPE), None)
    if relation is None:
        return []
    cells_of = {t.iri: c for c, t in doc.lexicon.therapy_of.items()}
    claims = []
    for m in mentions:
        cell = doc.lexicon.entities.get(cells_of.get(m.entity.iri, ""))
        tokens = sentence.tokens
        if cell is None or m.how not in ("label", "synonym") or m.last - m.first < 2:
            continue
        if not (m.last + 2 < len(tokens) and tokens[m.last].text == "(" and tokens[m.last + 2].text == ")"):
            continue  # only where the article introduces the name, with its abbreviation
        cells = Mention(cell, m.first, m.last - 1, m.start, tokens[m.last - 2].end, "label", m.surface)
        why = "the therapy is named after its cells"
        claim = make_claim(doc.text, sentence, analyzer, m, relation, cells, 0.6, why, False)
        claim.certainty, claim.hedge_cue, claim.negated = "Asserted", None, False
        claim.quote_role = drafted_role("Asserted")
        claim.decisions["certainty"] = Decision("Asserted", 0.8, "a name states it")
        claim.decisions["negation"] = Decision("false", 0.8, "a name states it")
        claims.append(claim)
    return claims


def _aside(tokens: Sequence[Token], k: int) -> bool:
    """A one-word parenthesis ("(HSCs)") that a list goes on past."""
    if tokens[k].text == "(":
        return k + 2 < len(tokens) and tokens[k + 2].text == ")"
    return tokens[k].text == ")" and k >= 2 and tokens[k - 2].text == "("


def _same_family_until_break(
    doc: _Document, tokens: Sequence[Token], mentions: list[Mention], j: int, family: str
) -> list[Mention]:
    reach = min(len(tokens), j + _REACH)
    end = next((k for k in range(j, reach) if tokens[k].text in _LIST_ENDS and not _aside(tokens, k)), reach)
    return [m for m in mentions if j <= m.first < end and doc.lexicon.kinds.family(m.entity.kind) == family]


def _subject_for(
    doc: _Document, tokens: Sequence[Token], mentions: list[Mention], target: Mention
) -> tuple[Mention, RelationCues, float, str, bool] | None:
    """The subject and relation for an object mention, among the ``mentions`` near it (within _REACH words):
    nearest fitting subject before it, then the topic carried from earlier sentences (the most recently named
    first), then the nearest after it."""
    siblings = {id(m) for m in _list_of(tokens, mentions, target)}
    before = [m for m in mentions if m.last <= target.first and id(m) not in siblings][::-1]
    after = [m for m in mentions if m.first >= target.last and id(m) not in siblings]
    topics = [t for k, t in reversed(doc.topics.items()) if t.entity.iri != target.entity.iri and k != FOIL]
    for group, carried, penalty in ((before, False, 0.0), (topics, True, 0.2), (after, False, 0.3)):
        for named in group:
            if named.first in doc.components and doc.lexicon.kinds.family(target.entity.kind) in _IMPLIED_FOR:
                continue
            if named.how in _PARAPHRASED and named.entity.kind not in _PARAPHRASED_AGENTS:
                continue  # words that paraphrase a step or an outcome say what is done or found, not who does it
            for subject in (named, _implied_therapy(doc, named, target)):
                if subject is None or subject.entity.iri == target.entity.iri:
                    continue
                best = _relation_for(doc, tokens, subject, target, carried)
                strong = carried or subject.how == "implied"
                if best is not None and best[1] - penalty > 0 and (best[1] >= 1 or not strong):
                    return subject, best[0], best[1] - penalty, best[2], carried
    return None


_REACH = 60
"""The most words between a subject and its object in one sentence: a run-on "sentence" without full stops (a
list, a table pasted as text) pairs its mentions only with their neighbours, and drafts in linear time."""
_IMPLIED_FOR = frozenset({"Disease", "Outcome", "AdverseEffect"})
_PARAPHRASED = frozenset({"words", "quote"})
_PARAPHRASED_AGENTS = frozenset({"ConventionalTreatment"})
"""The paraphrased kinds whose entities act ("medications that suppress the immune system" treat)."""


def _implied_therapy(doc: _Document, m: Mention, target: Mention) -> Mention | None:
    """The stem cell therapy named after the cells of ``m``: in "MSCs can relieve symptoms" the cells stand for
    the therapy, for the relations only a therapy can have (outcomes, diseases it is tried for, side effects).
    Only cells named in the sentence (not "they"), and only with a relation cue."""
    therapy = doc.lexicon.therapy_of.get(m.entity.iri)
    if therapy is None or m.how not in ("label", "synonym", "abbreviation"):
        return None
    if doc.lexicon.kinds.family(target.entity.kind) not in _IMPLIED_FOR:
        return None
    return Mention(therapy, m.first, m.last, m.start, m.end, "implied", m.surface)


_JOINERS = {",", "and", "or", "as", "well", "also"}


def _list_of(tokens: Sequence[Token], mentions: list[Mention], target: Mention) -> list[Mention]:
    """The mentions listed together with ``target`` ("infections, fatigue and bleeding"): never each other's subject."""
    ordered = sorted(mentions, key=_order)
    k = next(i for i, m in enumerate(ordered) if m is target)
    group = [target]
    for step in (-1, 1):
        j = k
        while 0 <= j + step < len(ordered):
            a, b = (ordered[j + step], ordered[j]) if step < 0 else (ordered[j], ordered[j + step])
            gap = tokens[a.last : b.first]
            if not gap or not all(t.text.lower() in _JOINERS for t in gap):
                break
            j += step
            group.append(ordered[j])
    return group


def _relation_for(
    doc: _Document, tokens: Sequence[Token], subject: Mention, target: Mention, carried: bool
) -> tuple[RelationCues, float, str] | None:
    kinds = doc.lexicon.kinds
    same = kinds.family(subject.entity.kind) == kinds.family(target.entity.kind)
    best: tuple[RelationCues, float, str] | None = None
    for relation in doc.cues.relations:
        if relation.iri == BROADER or (same and not relation.same_kind):
            continue
        if not (kinds.fits(subject.entity.kind, relation.subject) and kinds.fits(target.entity.kind, relation.object)):
            continue
        if kinds.fits(subject.entity.kind, relation.not_subject):
            continue
        if carried:
            lo, hi, inner = max(0, target.first - 8), target.last, (max(0, target.first - 8), target.last)
        else:
            lo, hi = min(target.first, subject.first), max(target.last, subject.last)
            inner = (min(target.last, subject.last), max(target.first, subject.first))
        score, why = _score(relation, tokens, max(0, lo - 3), min(len(tokens), hi + 3), inner)
        if target.hint == relation.iri:
            score, why = score + 1.0, f"{why}; the relation of the curated claim whose quote matched"
        if score > 0 and (best is None or score > best[1]):
            best = (relation, score, why)
    return best


def _score(
    relation: RelationCues, tokens: Sequence[Token], lo: int, hi: int, inner: tuple[int, int]
) -> tuple[float, str]:
    """The relation's best cue near the pair: worth most between the two mentions, half as much around them."""
    best: tuple[float, str] = (relation.prior, "the kinds of subject and object only")
    for cue in relation.cues:
        for i, j in find(cue, tokens, lo, hi):
            between = inner[0] <= i and j <= inner[1]
            score = (1.0 if between else 0.5) + relation.prior + 0.1 * len(cue.stems)
            if score > best[0]:
                best = (score, f"cue '{words(tokens, i, j)}'" + ("" if between else " (beside the pair)"))
    return best
