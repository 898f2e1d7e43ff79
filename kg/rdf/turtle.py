"""Canonical Turtle: one deterministic text per graph, so a curator's change is a small git diff.

Layout: the prefixes of ``kg.namespaces`` that the graph uses, sorted; then one block per subject, separated by a blank
line, ordered by kind (ontology header, classes, properties, shapes, everything else) and then by IRI (a record named
``resource_suffix`` follows its resource); inside a block ``a`` first, then labels, definitions and the core fields of
claims and mappings, then the other predicates by IRI, one ``predicate object ;`` per line.
Blank nodes that are objects of exactly one triple are written inline (``[ ... ]`` or a ``( ... )`` list).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

import pyoxigraph as ox

from kg.namespaces import PREFIXES, RDF_TYPE
from kg.rdf.comments import Comment, Comments

Subject = ox.NamedNode | ox.BlankNode
Term = ox.NamedNode | ox.BlankNode | ox.Literal

_RDF = PREFIXES["rdf"]
_XSD = PREFIXES["xsd"]
_FIRST, _REST, _NIL = _RDF + "first", _RDF + "rest", _RDF + "nil"
_LOCAL = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_\-])?$")
_INTEGER = re.compile(r"^[+-]?[0-9]+$")
_INDENT = "    "

_PREDICATE_ORDER = [
    RDF_TYPE,
    PREFIXES["skos"] + "prefLabel",
    PREFIXES["rdfs"] + "label",
    PREFIXES["skos"] + "altLabel",
    PREFIXES["skos"] + "definition",
    PREFIXES["rdfs"] + "comment",
    PREFIXES["scad"] + "subject",
    PREFIXES["scad"] + "predicate",
    PREFIXES["scad"] + "object",
    PREFIXES["scad"] + "objectLiteral",
    PREFIXES["scad"] + "statedIn",
    PREFIXES["scad"] + "quote",
    PREFIXES["scad"] + "certainty",
    PREFIXES["scad"] + "negated",
    PREFIXES["scad"] + "mappingSubject",
    PREFIXES["scad"] + "mappingPredicate",
    PREFIXES["scad"] + "mappingObject",
]
_KIND_ORDER = [
    PREFIXES["owl"] + "Ontology",
    PREFIXES["owl"] + "Class",
    PREFIXES["owl"] + "ObjectProperty",
    PREFIXES["owl"] + "DatatypeProperty",
    PREFIXES["owl"] + "AnnotationProperty",
    PREFIXES["sh"] + "NodeShape",
    PREFIXES["sh"] + "PropertyShape",
]


def _escape(value: str, long: bool) -> str:
    """A long string keeps its line feeds as written; a carriage return is always escaped, so that no editor, git
    setting or newline translation between curator and parser can turn it into a line feed or drop it."""
    out = value.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "\\r")
    if not long:
        out = out.replace("\n", "\\n").replace("\t", "\\t")
    return out


def iri_text(iri: str) -> str:
    """``prefix:local`` when a known prefix fits and the local part needs no escaping, else ``<iri>``."""
    best = ""
    for name, ns in PREFIXES.items():
        if iri.startswith(ns) and len(ns) > len(PREFIXES.get(best, "")):
            local = iri[len(ns) :]
            if local == "" or _LOCAL.match(local):
                best = name
    if best:
        return f"{best}:{iri[len(PREFIXES[best]) :]}"
    return f"<{iri}>"


def literal_text(lit: ox.Literal) -> str:
    datatype = lit.datatype.value
    value = lit.value
    if datatype == _XSD + "boolean" and value in ("true", "false"):
        return value
    if datatype == _XSD + "integer" and _INTEGER.match(value):
        return value
    long = "\n" in value
    quote = '"""' if long else '"'
    body = f"{quote}{_escape(value, long)}{quote}"
    if lit.language:
        return f"{body}@{lit.language}"
    if datatype == _XSD + "string":
        return body
    return f"{body}^^{iri_text(datatype)}"


class _Writer:
    def __init__(self, triples: Iterable[ox.Triple], comments: Comments | None = None) -> None:
        self.comments = comments or Comments()
        self.by_subject: dict[Subject, list[tuple[ox.NamedNode, Term]]] = defaultdict(list)
        self.object_uses: dict[ox.BlankNode, int] = defaultdict(int)
        for t in set(triples):
            if isinstance(t.subject, ox.Triple) or isinstance(t.object, ox.Triple):
                raise ValueError(f"RDF-star triple terms cannot be written as canonical Turtle: {t}")
            self.by_subject[t.subject].append((t.predicate, t.object))
            if isinstance(t.object, ox.BlankNode):
                self.object_uses[t.object] += 1
        self.inlined: set[ox.BlankNode] = {
            b for b, n in self.object_uses.items() if n == 1 and b in self.by_subject and not self._cyclic(b)
        }
        # Blank nodes that cannot be written inline get labels from their content, not from the parser's random ids.
        self.labels: dict[ox.BlankNode, str] = {}
        named = [
            b for b in {*self.by_subject, *self.object_uses} if isinstance(b, ox.BlankNode) and b not in self.inlined
        ]
        keys = {b: self.predicates(b, 1) if b in self.by_subject else "" for b in named}
        for n, b in enumerate(sorted(named, key=lambda b: keys[b])):
            self.labels[b] = f"b{n}"

    def _cyclic(self, node: ox.BlankNode, seen: frozenset[ox.BlankNode] = frozenset()) -> bool:
        if node in seen:
            return True
        for _, o in self.by_subject.get(node, []):
            if isinstance(o, ox.BlankNode) and self.object_uses[o] == 1 and self._cyclic(o, seen | {node}):
                return True
        return False

    def _list_items(self, node: ox.BlankNode) -> list[Term] | None:
        items: list[Term] = []
        current: Term = node
        while isinstance(current, ox.BlankNode):
            pairs = self.by_subject.get(current, [])
            first = [o for p, o in pairs if p.value == _FIRST]
            rest = [o for p, o in pairs if p.value == _REST]
            if len(pairs) != 2 or len(first) != 1 or len(rest) != 1:
                return None
            if current != node and current not in self.inlined:
                return None
            items.append(first[0])
            current = rest[0]
        if not (isinstance(current, ox.NamedNode) and current.value == _NIL):
            return None
        return items

    def term(self, term: Term, depth: int) -> str:
        if isinstance(term, ox.Literal):
            return literal_text(term)
        if isinstance(term, ox.NamedNode):
            return iri_text(term.value)
        if term in self.inlined:
            items = self._list_items(term)
            if items is not None:
                return "( " + " ".join(self.term(i, depth) for i in items) + " )" if items else "()"
            body = self.predicates(term, depth + 1)
            return "[\n" + body + "\n" + _INDENT * depth + "]"
        return f"_:{self.labels.get(term, '?')}"

    def predicates(self, subject: Subject, depth: int) -> str:
        def key(pair: tuple[ox.NamedNode, Term]) -> tuple[int, str, str]:
            p, o = pair
            rank = _PREDICATE_ORDER.index(p.value) if p.value in _PREDICATE_ORDER else len(_PREDICATE_ORDER)
            return (rank, p.value, self.term(o, depth))

        notes = self.comments.blocks.get(subject.value) if depth == 1 and isinstance(subject, ox.NamedNode) else None
        placed: set[str] = set()
        lines = []
        for p, o in sorted(self.by_subject[subject], key=key):
            pred = "a" if p.value == RDF_TYPE else iri_text(p.value)
            line = f"{_INDENT * depth}{pred} {self.term(o, depth)}"
            if notes is not None and p.value in notes.by_predicate and p.value not in placed:
                placed.add(p.value)
                line = _comment_lines(notes.by_predicate[p.value], depth) + line
            lines.append(line)
        return " ;\n".join(lines)

    def blocks(self) -> list[str]:
        def key(subject: Subject) -> tuple[int, int, str]:
            types = {
                o.value for p, o in self.by_subject[subject] if p.value == RDF_TYPE and isinstance(o, ox.NamedNode)
            }
            kind = min((_KIND_ORDER.index(t) for t in types if t in _KIND_ORDER), default=len(_KIND_ORDER))
            is_blank = isinstance(subject, ox.BlankNode)
            # "_" separates a satellite record from the resource it belongs to (kgr:lupus_map-...): sort it first,
            # so the record follows its resource.
            return (kind, int(is_blank), "" if is_blank else subject.value.replace("_", "\x00"))

        out = []
        top = [s for s in self.by_subject if s not in self.inlined]
        for subject in sorted(top, key=lambda s: (key(s), self.predicates(s, 1))):
            if isinstance(subject, ox.BlankNode) and self.object_uses[subject] == 0:
                out.append("[\n" + self.predicates(subject, 1) + "\n] .")
            else:
                notes = self.comments.blocks.get(subject.value) if isinstance(subject, ox.NamedNode) else None
                leading = _comment_lines(notes.leading, 0) if notes else ""
                out.append(leading + self.term(subject, 0) + "\n" + self.predicates(subject, 1) + " .")
        return out


def _comment_lines(comments: list[Comment], depth: int) -> str:
    # A predicate line of a block follows "... ;\n", so comments go between that break and the predicate.
    return "".join(f"{_INDENT * depth}{c.text}\n" for c in comments)


def serialize(triples: Iterable[ox.Triple], comments: Comments | None = None) -> str:
    """The canonical Turtle text for ``triples`` (a graph without named-graph information), with the curator's
    ``comments`` (``kg.rdf.comments``) in their places: header first, each block's before it and among its lines."""
    writer = _Writer(triples, comments)
    body = "\n\n".join(writer.blocks())
    used = {name for name, ns in PREFIXES.items() if re.search(rf"(?<![\w<\-]){name}:", _code(body))}
    head = "".join(f"@prefix {name}: <{PREFIXES[name]}> .\n" for name in sorted(used))
    text = head + ("\n" if head and body else "") + body + ("\n" if body else "")
    if comments and comments.header:
        text = _comment_lines(comments.header, 0) + ("\n" if text else "") + text
    if comments and comments.footer:
        text = text + ("\n" if text else "") + _comment_lines(comments.footer, 0)
    return text


def _code(body: str) -> str:
    """The text without its comment lines (a prefix named only in a comment is not used)."""
    return "\n".join(line for line in body.split("\n") if not line.lstrip().startswith("#"))
