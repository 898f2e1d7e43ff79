"""Lexical scanning of SPARQL text: where the keywords are, outside strings, IRIs and comments.

Enough to tell the query form before running it, to find ``SERVICE`` clauses (refused unless allowed), and to find
the ``WHERE`` group into which the remote backend inlines bound parameters as ``VALUES``. It is not a parser: the
engine parses, and reports syntax errors.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import pyoxigraph as ox

_IRI = re.compile(r"<[^<>\"{}|^`\\\x00-\x20]*>")
_FORM = re.compile(r"(?<![\w:?$])(SELECT|ASK|CONSTRUCT|DESCRIBE)(?![\w:])", re.IGNORECASE)
_SERVICE = re.compile(r"(?<![\w:?$])SERVICE(?![\w:])", re.IGNORECASE)
_SILENT = re.compile(r"\s*SILENT(?![\w:])", re.IGNORECASE)
_WHERE = re.compile(r"(?<![\w:?$])WHERE\s*\{", re.IGNORECASE)
_FROM = re.compile(r"(?<![\w:?$])FROM(?![\w:])(\s+NAMED(?![\w:]))?\s*", re.IGNORECASE)
_PREFIX_DECL = re.compile(r"(?<![\w:?$])PREFIX\s+([^\s:]*):\s*", re.IGNORECASE)
_PREFIXED = re.compile(r"([A-Za-z][\w.-]*)?:([\w.-]*)")
_UPDATE = re.compile(r"(?<![\w:?$])(INSERT|DELETE|LOAD|CLEAR|DROP|CREATE|ADD|MOVE|COPY)(?![\w:])", re.IGNORECASE)


_OPAQUE = re.compile(
    r"#[^\n]*"  # a comment
    r"|<[^<>\"{}|^`\\\x00-\x20]*>"  # an IRI
    r'|"""(?:[^"\\]|\\.|"(?!""))*"""'  # long strings
    r"|'''(?:[^'\\]|\\.|'(?!''))*'''"
    r'|"(?:[^"\\\n]|\\.)*"'  # short strings
    r"|'(?:[^'\\\n]|\\.)*'",
    re.DOTALL,
)


@lru_cache(maxsize=1024)
def mask(text: str) -> str:
    """``text`` with strings, IRIs and comments blanked out (same length, so positions still match)."""
    return _OPAQUE.sub(lambda m: m.group(0)[0] + " " * (len(m.group(0)) - 1), text)


def query_form(text: str) -> str | None:
    """SELECT, ASK, CONSTRUCT or DESCRIBE, or None when no query form is found."""
    m = _FORM.search(mask(text))
    return m.group(1).upper() if m else None


def looks_like_update(text: str) -> bool:
    """True when the text has an update keyword and no query form: an update sent as a query."""
    masked = mask(text)
    return _FORM.search(masked) is None and _UPDATE.search(masked) is not None


def has_dataset_clause(text: str) -> bool:
    """True when the query names its own dataset (FROM or FROM NAMED)."""
    return _FROM.search(mask(text)) is not None


def dataset_clauses(text: str, prefixes: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """The graph IRIs of the query's FROM and FROM NAMED clauses, prefixed names expanded with the query's PREFIX
    declarations over ``prefixes``. A clause whose graph cannot be read is left out (the engine reports it)."""
    masked = mask(text)
    declared = dict(prefixes)
    for m in _PREFIX_DECL.finditer(masked):
        iri = _IRI.match(text, m.end())
        if iri:
            declared[m.group(1)] = iri.group(0)[1:-1]
    default: list[str] = []
    named: list[str] = []
    for m in _FROM.finditer(masked):
        iri = _IRI.match(text, m.end())
        prefixed = None if iri else _PREFIXED.match(text, m.end())
        if iri:
            graph = iri.group(0)[1:-1]
        elif prefixed and (prefixed.group(1) or "") in declared:
            graph = declared[prefixed.group(1) or ""] + prefixed.group(2)
        else:
            continue
        (named if m.group(1) else default).append(graph)
    return default, named


@dataclass(frozen=True)
class ServiceCall:
    target: str
    """The endpoint IRI, or the text written in its place (a prefixed name or a variable)."""
    is_iri: bool


def service_calls(text: str) -> list[ServiceCall]:
    """Every SERVICE clause and the endpoint it names."""
    masked = mask(text)
    calls = []
    for m in _SERVICE.finditer(masked):
        position = m.end()
        silent = _SILENT.match(masked, position)
        if silent:
            position = silent.end()
        rest = text[position:].lstrip()
        iri = _IRI.match(rest)
        if iri:
            calls.append(ServiceCall(iri.group(0)[1:-1], is_iri=True))
        else:
            token = re.match(r"\S+", rest)
            calls.append(ServiceCall(token.group(0) if token else "", is_iri=False))
    return calls


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
    names = " ".join(str(v) for v in variables)
    values = " ".join("(" + " ".join(str(t) for t in row) + ")" for row in rows)
    return insert_into_where(text, f"VALUES ({names}) {{ {values} }}")


def insert_into_where(text: str, clause: str) -> str:
    """The query with ``clause`` at the start of its (outermost) ``WHERE`` group."""
    m = _WHERE.search(mask(text))
    if m is None:
        raise ValueError("cannot bind parameters: the query has no 'WHERE {' group")
    return f"{text[: m.end()]} {clause} {text[m.end() :]}"
