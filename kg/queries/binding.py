"""Whether a named query's parameters can be bound the fast way, decided on the query's SPARQL algebra (rdflib's
parser, not the text).

Every parameter is bound as a ``VALUES`` block at the start of the query's ``WHERE`` group (``kg.queries.text``).
That join means what the parameter promises only when the variable is bound, in every solution, by the first
element of the group that mentions it:

- an optional parameter *narrows*: the answer is the unparameterized answer restricted to the rows where the
  variable has the value. A ``VALUES`` join gives that only if no solution leaves the variable unbound: where it is
  unbound (only inside ``OPTIONAL``, in some branches of a ``UNION``, in a subquery that does not project it), the
  join adds the value to the row, a statement the graph does not make. It must also be projected (or there are no
  rows to restrict), a key of any ``GROUP BY``, and the query must have no ``LIMIT``/``OFFSET`` (a page of the
  narrowed answer is not the narrowed page);
- a required parameter (or one with a ``default``) is *substituted*, as pyoxigraph's ``substitutions=`` (SEP-0007)
  do: the same ``VALUES`` join, which is that, except where the variable is used before a pattern binds it (a
  ``BIND``, ``OPTIONAL`` or ``MINUS`` reached first).

An optional parameter whose variable is legitimately unbound in some rows (a claim's object, its claimed evidence)
declares ``bind: filter`` and narrows through a ``FILTER`` instead (see ``kg.queries.catalog``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parser import parseQuery
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.term import Variable

from kg.namespaces import PREFIXES
from kg.queries.catalog import NamedQuery, Param
from kg.queries.text import mask

_MODIFIERS = {"Project", "Distinct", "Reduced", "OrderBy", "Slice"}


@dataclass(frozen=True)
class Problem:
    param: str
    line: int
    message: str


def check(query: NamedQuery) -> list[Problem]:
    """What is wrong with binding each parameter of ``query``; empty when every parameter means what it says."""
    if not query.params:
        return []
    return list(_check(query.source or query.text, query.params))


@lru_cache(maxsize=256)
def _check(source: str, params: tuple[Param, ...]) -> tuple[Problem, ...]:
    """Cached by the query's text: a reload validates the same queries again."""
    try:
        algebra = translateQuery(parseQuery(source), initNs=PREFIXES).algebra
    except Exception as exc:  # pyparsing and rdflib raise many kinds: report, do not crash
        return (Problem(params[0].name, 1, f"the query cannot be parsed to check its parameters: {exc}"),)
    top = _Top.of(algebra)
    problems = []
    for p in params:
        reason = _reason(p, Variable(p.name), top)
        if reason is not None:
            problems.append(Problem(p.name, _line(source, p), f"parameter '{p.name}' {reason}"))
    return tuple(problems)


@dataclass
class _Top:
    where: CompValue
    projected: set[Variable] | None
    """None: every variable (CONSTRUCT, DESCRIBE, ASK, SELECT *)."""
    group_keys: list[Any] | None
    sliced: bool
    form: str

    @classmethod
    def of(cls, algebra: CompValue) -> _Top:
        form = algebra.name
        projected: set[Variable] | None = None
        if form == "SelectQuery" and algebra.get("PV"):
            projected = set(algebra["PV"])
        node, sliced, group_keys = algebra["p"], False, None
        while node.name in _MODIFIERS:
            sliced = sliced or node.name == "Slice"
            node = node["p"]
        below = node
        while below.name in ("Extend", "Filter"):  # select expressions and HAVING above an aggregation
            below = below["p"]
        if below.name == "AggregateJoin":
            group = below["p"]
            group_keys = list(group.get("expr") or [])
            node = group["p"]
        return cls(node, projected, group_keys, sliced, form)


def _reason(p: Param, x: Variable, top: _Top) -> str | None:
    substituted = p.required or p.default is not None
    state = "bound" if p.bind == "filter" else _chain(top.where, x)
    if state not in ("bound", "absent"):
        return state
    if p.bind == "filter":
        if substituted:
            return "is required or has a default, so it is substituted; `bind: filter` is for optional parameters"
        if _mentions(top.where, Variable(f"_bound_{p.name}")):
            return f"has `bind: filter`, whose companion variable ?_bound_{p.name} the query already uses"
        if not _mentions(top.where, x):
            return f"?{x} is not in scope in the WHERE group, so a FILTER on it cannot narrow the answer"
    if top.projected is not None and x not in top.projected:
        return f"?{x} is not in the SELECT projection, so its value cannot be seen (nor substituted by pyoxigraph)"
    if substituted:
        return None  # bound before any use, or used only after the WHERE group: the VALUES join is the substitution
    if state == "absent":
        return (
            f"?{x} is bound by no graph pattern, so a VALUES binding cannot narrow the answer; make it required, "
            "give it a default, or bind it in a pattern"
        )
    if top.group_keys is not None and x not in top.group_keys:
        return f"?{x} is not a GROUP BY key, so narrowing the groups' rows changes the aggregates"
    if top.sliced:
        return "is in a query with LIMIT or OFFSET, where a page of the narrowed answer is not the narrowed page"
    return None


def _chain(node: CompValue, x: Variable) -> str:
    """'bound' when the elements of the group, in order, reach one that certainly binds ``x`` before any other
    mentions it; 'absent' when none mentions it; otherwise why the VALUES join at the start of the group differs."""
    name = node.name
    if name in ("Join", "LeftJoin", "Minus"):
        first = _chain(node["p1"], x)
        if first != "absent":
            return first
        second = node["p2"]
        if name == "Join":
            return _leaf(second, x)
        mentioned = _mentions(second, x) or (name == "LeftJoin" and _mentions(node.get("expr"), x))
        if not mentioned:
            return "absent"
        where = "OPTIONAL" if name == "LeftJoin" else "MINUS"
        return (
            f"?{x} occurs inside {where} before any pattern binds it, so a VALUES binding is joined outside it and "
            "puts the value in rows where the graph does not have it; bind it in a required pattern first, or "
            "declare `bind: filter`"
        )
    if name == "Extend":
        first = _chain(node["p"], x)
        if first != "absent":
            return first
        if node["var"] == x:
            return f"?{x} is assigned by a BIND, where a VALUES binding conflicts with it"
        if _mentions(node["expr"], x):
            return f"?{x} is used in a BIND before any pattern binds it, where a VALUES binding changes its value"
        return "absent"
    if name == "Filter":
        return _chain(node["p"], x)  # a group's filters apply to the whole group
    return _leaf(node, x)


def _leaf(node: CompValue, x: Variable) -> str:
    if not _mentions(node, x):
        return "absent"
    if _certain(node, x):
        return "bound"
    return (
        f"?{x} is not bound in every solution of the first pattern that mentions it (an OPTIONAL, a UNION branch "
        "or a subquery that does not project it), so a VALUES binding puts the value where the graph does not "
        "have it; declare `bind: filter` or bind it in a required pattern"
    )


def _certain(node: CompValue, x: Variable) -> bool:
    """Whether every solution of ``node`` binds ``x``."""
    name = node.name
    if name == "BGP":
        return any(x in (s, p, o) for s, p, o in node["triples"])
    if name == "Join":
        return _certain(node["p1"], x) or _certain(node["p2"], x)
    if name in ("LeftJoin", "Minus"):
        return _certain(node["p1"], x)
    if name == "Union":
        return _certain(node["p1"], x) and _certain(node["p2"], x)
    if name == "Graph":
        return bool(node["term"] == x) or _certain(node["p"], x)
    if name == "Project":
        return x in node["PV"] and _certain(node["p"], x)
    if name in ("Filter", "Extend", "Distinct", "Reduced", "OrderBy", "Slice", "ToMultiSet"):
        return _certain(node["p"], x)
    if name == "values":
        return all(row.get(x) is not None for row in node["res"])
    return False


def _mentions(node: Any, x: Variable) -> bool:
    """Whether ``x`` occurs in ``node`` as the same variable (not inside a subquery that does not project it)."""
    return any(v == x for v in _variables(node))


def _variables(node: Any) -> Iterator[Variable]:
    if isinstance(node, Variable):
        yield node
    elif isinstance(node, CompValue):
        if node.name in ("Project", "SubSelect") and "PV" in node:
            yield from node["PV"]
            return
        for key, value in node.items():
            if key != "_vars":
                yield from _variables(value)
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _variables(key)
            yield from _variables(value)
    elif isinstance(node, list | tuple | set):
        for item in node:
            yield from _variables(item)


def _line(source: str, p: Param) -> int:
    """The line of the first mention of the parameter's variable in the WHERE group (else anywhere in the query),
    else of its entry in the header."""
    masked = mask(source)
    mention = re.compile(rf"[?$]{re.escape(p.name)}(?![\w])")
    where = re.search(r"(?i)\bWHERE\s*\{", masked)
    for start in (where.end() if where else 0, 0):
        found = mention.search(masked, start)
        if found:
            return masked.count("\n", 0, found.start()) + 1
    for number, line in enumerate(source.splitlines(), start=1):
        if re.match(rf"#\+\s*-\s*name:\s*{re.escape(p.name)}\s*$", line):
            return number
    return 1
