"""Lexical scanning of SPARQL text: where the code is, outside strings, IRIs and comments, read as the SPARQL grammar
reads them (and as the engine does: a comment ends at a line feed or a carriage return, an IRI may hold ``\\u``
escapes, ``\\'`` in a prefixed name is an escape, not a quote).

Enough to tell the query form before running it, to find ``SERVICE`` clauses (refused unless allowed), to cap the
nesting of groups before the engine's recursive parser sees them, and to find the ``WHERE`` group into which the
remote backend inlines bound parameters as ``VALUES``. It is not a parser: the engine parses, and reports syntax
errors. Every scan here is linear in the length of the text: one pass, and patterns that never backtrack.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import pyoxigraph as ox

from kg.errors import BadRequest

MAX_DEPTH = 400
"""Deepest nesting of ``{``, ``(`` and ``[`` accepted; the engine's recursive parser overflows its stack far below
the depth a body-size cap allows (a few thousand)."""

_IRI = re.compile(r'<(?:[^<>"{}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*+>')
_STRINGS = {
    "'''": re.compile(r"'''(?:(?:''|')?+(?:[^'\\]|\\.))*+'''", re.DOTALL),
    '"""': re.compile(r'"""(?:(?:""|")?+(?:[^"\\]|\\.))*+"""', re.DOTALL),
    "'": re.compile(r"'(?:[^'\\\n\r]|\\.)*+'", re.DOTALL),
    '"': re.compile(r'"(?:[^"\\\n\r]|\\.)*+"', re.DOTALL),
}
_COMMENT = re.compile(r"#[^\n\r]*+")
_SPECIAL = re.compile(r"[#<'\"\\{}()\[\]]")
_LEXING = frozenset("'#")
"""Characters that change how the rest is read; an IRI-like ``<...>`` holding one of them is read both ways."""
_OPEN = frozenset("{([")
_CLOSE = frozenset("})]")

_FORM = re.compile(r"(?<![\w:?$])(SELECT|ASK|CONSTRUCT|DESCRIBE)(?![\w:])", re.IGNORECASE)
_UPDATE = re.compile(r"(?<![\w:?$])(INSERT|DELETE|LOAD|CLEAR|DROP|CREATE|ADD|MOVE|COPY)(?![\w:])", re.IGNORECASE)
_WHERE = re.compile(r"(?<![\w:?$])WHERE\s*+\{", re.IGNORECASE)
_FROM = re.compile(r"(?<![\w:?$])FROM(?![\w:])(\s++NAMED(?![\w:]))?", re.IGNORECASE)
_SERVICE_LETTERS = re.compile(r"[Ss][Ee][Rr][Vv][Ii][Cc][Ee]")
_SERVICE = re.compile(r"(?<![\w:?$\\-])SERVICE(?=[\s<?$])", re.IGNORECASE)
_SILENT = re.compile(r"\s++SILENT(?=[\s<?$])", re.IGNORECASE)
_SPACE = re.compile(r"\s*+")


@dataclass(frozen=True)
class Lexed:
    """A query's text with every string, IRI and comment blanked out (same length, so positions still match: an
    IRI keeps its ``<``, a string its quote), and where its IRIs are."""

    text: str
    masked: str
    iris: Mapping[int, int]
    """Start -> end of each IRI."""
    depth: int
    """Deepest nesting of groups, lists and blank-node property lists."""
    unterminated: int | None
    """Where a string starts that never ends (the engine refuses such a query; nothing after it is code)."""
    alternative: str
    """The masked text read the other way where a ``<`` may be an operator (``1<'>'``): a check that must not be
    fooled looks at both."""


def _scan(text: str, iri_first: bool, limit: int) -> tuple[str, dict[int, int], int, int | None]:
    parts: list[str] = []
    iris: dict[int, int] = {}
    depth = deepest = 0
    position = 0
    while True:
        found = _SPECIAL.search(text, position)
        if found is None:
            parts.append(text[position:])
            break
        start = found.start()
        parts.append(text[position:start])
        char = text[start]
        end = start + 1
        if char in _OPEN:
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    parts.append(text[start:])
                    break
            parts.append(char)
        elif char in _CLOSE:
            depth -= 1
            parts.append(char)
        elif char == "\\":  # an escape in a prefixed name (e:a\'b): the next character is part of the name
            end = min(start + 2, len(text))
            parts.append(text[start:end])
        elif char == "#":
            comment = _COMMENT.match(text, start)
            assert comment is not None
            end = comment.end()
            parts.append(" " * (end - start))
        elif char == "<":
            iri = _IRI.match(text, start)
            if iri is not None and (iri_first or not _LEXING.intersection(iri.group(0))):
                end = iri.end()
                iris[start] = end
                parts.append("<" + " " * (end - start - 1))
            else:
                parts.append(char)
        else:  # a quote
            opener = text[start : start + 3]
            pattern = _STRINGS.get(opener) if opener in ("'''", '"""') else None
            string = (pattern or _STRINGS[char]).match(text, start)
            if string is None:  # the engine refuses the query; the other reading takes the rest as code
                parts.append(char + " " * (len(text) - start - 1) if iri_first else text[start:])
                return "".join(parts), iris, deepest, start
            end = string.end()
            parts.append(char + " " * (end - start - 1))
        position = end
    return "".join(parts), iris, deepest, None


def lex(text: str, max_depth: int = MAX_DEPTH) -> Lexed:
    """Read ``text`` once each way; linear in its length."""
    masked, iris, depth, unterminated = _scan(text, True, max_depth)
    alternative, _, other_depth, _ = _scan(text, False, max_depth)
    return Lexed(text, masked, iris, max(depth, other_depth), unterminated, alternative)


@lru_cache(maxsize=1024)
def mask(text: str) -> str:
    """``text`` with strings, IRIs and comments blanked out (same length, so positions still match). For query text
    written here (the named queries); a client's text goes through ``lex`` once per request."""
    return lex(text).masked


def line_column(text: str, position: int) -> str:
    line = text.count("\n", 0, position) + 1
    return f"line {line}, column {position - (text.rfind(chr(10), 0, position) + 1) + 1}"


def check_depth(lexed: Lexed, limit: int = MAX_DEPTH) -> None:
    if lexed.depth > limit:
        raise BadRequest(
            f"the query nests groups, lists or blank nodes ({{, ( or [) more than {limit} deep (KG_MAX_QUERY_DEPTH)"
        )


def query_form(lexed: Lexed) -> str | None:
    """SELECT, ASK, CONSTRUCT or DESCRIBE, or None when no query form is found."""
    m = _FORM.search(lexed.masked)
    return m.group(1).upper() if m else None


def looks_like_update(lexed: Lexed) -> bool:
    """True when the text has an update keyword and no query form: an update sent as a query."""
    return _FORM.search(lexed.masked) is None and _UPDATE.search(lexed.masked) is not None


def dataset_clauses(lexed: Lexed) -> list[str]:
    """``FROM`` and ``FROM NAMED`` clauses of the query (as written, upper case)."""
    return ["FROM NAMED" if m.group(1) else "FROM" for m in _FROM.finditer(lexed.masked)]


_FROM_LETTERS = re.compile(r"[Ff][Rr][Oo][Mm]")


def names_dataset(text: str) -> bool:
    """True when the query has a FROM or FROM NAMED clause (a quick look first: most texts have no 'from' at all)."""
    return _FROM_LETTERS.search(text) is not None and bool(dataset_clauses(lex(text)))


_PREFIX_DECL = re.compile(r"(?<![\w:?$])PREFIX\s++([^\s:]*+):", re.IGNORECASE)
_PREFIXED = re.compile(r"([A-Za-z][\w.-]*+)?:([\w.-]*+)")


def dataset_graphs(text: str, prefixes: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """The graph IRIs of the query's FROM and FROM NAMED clauses, prefixed names expanded with the query's PREFIX
    declarations over ``prefixes``. A clause whose graph cannot be read is left out (the engine reports it)."""
    lexed = lex(text)
    declared = dict(prefixes)

    def iri_at(position: int) -> str | None:
        start = _SPACE.match(text, position)
        begin = start.end() if start else position
        end = lexed.iris.get(begin)
        return text[begin + 1 : end - 1] if end is not None else None

    for m in _PREFIX_DECL.finditer(lexed.masked):
        iri = iri_at(m.end())
        if iri is not None:
            declared[m.group(1)] = iri
    default: list[str] = []
    named: list[str] = []
    for m in _FROM.finditer(lexed.masked):
        graph = iri_at(m.end())
        if graph is None:
            space = _SPACE.match(text, m.end())
            prefixed = _PREFIXED.match(text, space.end() if space else m.end())
            if prefixed is None or (prefixed.group(1) or "") not in declared:
                continue
            graph = declared[prefixed.group(1) or ""] + prefixed.group(2)
        (named if m.group(1) else default).append(graph)
    return default, named


@dataclass(frozen=True)
class ServiceCall:
    target: str
    """The endpoint IRI, or the text written in its place (a prefixed name, a variable, whatever follows)."""
    is_iri: bool
    position: int
    """Where the keyword starts (``line_column`` gives a person's view of it)."""


def service_calls(lexed: Lexed) -> Iterator[ServiceCall]:
    """Every place where the engine could read a SERVICE clause, and the endpoint it names, first to last.

    Deliberately wider than the grammar: the letters ``service`` in any case anywhere outside strings, IRIs and
    comments (in a prefix, a variable, glued to another keyword) count, in either reading of an ambiguous ``<``.
    Only ``SERVICE [SILENT] <iri>`` written plainly names an endpoint that an allow-list can accept."""
    yield from (_service_call(lexed, lexed.masked, m.start()) for m in _SERVICE_LETTERS.finditer(lexed.masked))
    for found in _SERVICE_LETTERS.finditer(lexed.alternative):
        if lexed.masked[found.start() : found.end()] != found.group(0):  # not seen in the first reading
            yield _service_call(lexed, lexed.alternative, found.start())


def _service_call(lexed: Lexed, masked: str, start: int) -> ServiceCall:
    keyword = _SERVICE.match(masked, start)
    if keyword is None:
        word = lexed.text[start : start + 60].split(maxsplit=1)
        return ServiceCall(word[0] if word else "SERVICE", is_iri=False, position=start)
    position = keyword.end()
    silent = _SILENT.match(masked, position)
    if silent is not None:
        position = silent.end()
    space = _SPACE.match(masked, position)
    position = space.end() if space else position
    end = lexed.iris.get(position) if masked is lexed.masked else None
    if end is not None:
        return ServiceCall(lexed.text[position + 1 : end - 1], is_iri=True, position=start)
    token = lexed.text[position : position + 60].split(maxsplit=1)
    return ServiceCall(token[0] if token else "", is_iri=False, position=start)


def inline_values(text: str, bindings: Mapping[ox.Variable, ox.NamedNode | ox.Literal]) -> str:
    """The query with the bound parameters as a ``VALUES`` block at the start of its ``WHERE`` group.

    The terms are written by pyoxigraph in N-Triples syntax, so a value cannot change the query's structure.
    """
    if not bindings:
        return text
    return inline_rows(text, list(bindings), [list(bindings.values())])


def inline_rows(
    text: str, variables: Sequence[ox.Variable], rows: Sequence[Sequence[ox.NamedNode | ox.Literal]]
) -> str:
    """The query with a ``VALUES`` block of several rows at the start of its ``WHERE`` group (a batch)."""
    where = _where_group(text)
    if where is None:
        raise ValueError("cannot bind parameters: the query has no 'WHERE {' group")
    names = " ".join(str(v) for v in variables)
    values = " ".join("(" + " ".join(str(t) for t in row) + ")" for row in rows)
    return f"{text[:where]} VALUES ({names}) {{ {values} }} {text[where:]}"


def insert_into_where(text: str, clause: str) -> str:
    """The query with ``clause`` at the start of its (outermost) ``WHERE`` group."""
    where = _where_group(text)
    if where is None:
        raise ValueError("cannot bind parameters: the query has no 'WHERE {' group")
    return f"{text[:where]} {clause} {text[where:]}"


@lru_cache(maxsize=256)
def _where_group(text: str) -> int | None:
    """Where the ``WHERE`` group of a query opens (just after its ``{``). Only the named queries of ``queries/``
    bind parameters, so the few texts cached here are ours, never a client's."""
    m = _WHERE.search(lex(text).masked)
    return None if m is None else m.end()
