"""The named queries of ``queries/``: a ``.rq`` file with a YAML header in ``#+`` comments; its file stem is its name.

Header fields: ``summary`` (one line), ``description``, ``tags`` (list), ``cq`` (competency question ids), ``params``
(list of ``{name, type, required, default, bind, example, description}``), and for quality rules in
``queries/checks/``: ``severity`` (error or warning) and ``message`` (a template with ``{variable}`` placeholders filled
from each row).

Parameters are bound as RDF terms in a ``VALUES`` block (see ``kg.queries.text.inline_values``), never spliced into the
query text. A parameter with ``bind: filter`` (an optional one whose variable is unbound in some rows, such as a
claim's object) binds a companion variable instead, ``?_bound_<name>``, which a ``FILTER`` written into the query's
``WHERE`` group compares with the variable: the answer then narrows to the rows that have the value, and a row without
it is left out rather than given it. ``kg.queries.binding`` checks that each binding means what it says.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import pyoxigraph as ox
import yaml

from kg.namespaces import PREFIXES, curie, expand
from kg.queries.text import insert_into_where

XSD: Final = PREFIXES["xsd"]
PARAM_TYPES: Final = {
    "iri": "an IRI such as kgr:lupus or https://w3id.org/scad/id/lupus",
    "string": "a string",
    "integer": "an integer such as 3",
    "decimal": "a decimal number such as 0.5",
    "boolean": "true or false",
    "date": "a date such as 2024-09-12",
}
_HEADER = re.compile(r"^#\+ ?(.*)$")
_KIND = re.compile(r"\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", re.IGNORECASE)
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_IRI_FORBIDDEN = re.compile(r'[\s<>"{}|^`\\]')
_INTEGER = re.compile(r"[+-]?[0-9]{1,40}")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]{1,40}(?:\.[0-9]{0,40})?|\.[0-9]{1,40})")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
BIND_MODES: Final = ("values", "filter")


class QueryError(Exception):
    """A named query file that cannot be used: bad header, unknown parameter type."""


class UnknownQuery(KeyError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name

    def __str__(self) -> str:
        return f"no named query '{self.name}'"


class ParameterError(ValueError):
    """A parameter value that does not fit its declared type, or a missing or unknown parameter."""

    def __init__(self, query: str, param: str, message: str) -> None:
        super().__init__(message)
        self.query = query
        self.param = param


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    required: bool = False
    example: str | None = None
    description: str = ""
    default: str | None = None
    """Bound when the parameter is left out: the parameter is then always substituted, like a required one."""
    bind: str = "values"
    """values: the variable itself in the VALUES block; filter: a companion variable and a FILTER (see above)."""

    @property
    def variable(self) -> ox.Variable:
        """The variable the VALUES block binds."""
        return ox.Variable(f"_bound_{self.name}" if self.bind == "filter" else self.name)


@dataclass(frozen=True)
class NamedQuery:
    name: str
    path: Path
    text: str
    kind: str
    summary: str
    source: str = ""
    """The file as written; ``text`` is what runs (with the FILTER of any ``bind: filter`` parameter)."""
    description: str = ""
    tags: tuple[str, ...] = ()
    cq: tuple[str, ...] = ()
    params: tuple[Param, ...] = ()
    severity: str | None = None
    message: str | None = None
    header: Mapping[str, Any] = field(default_factory=dict)

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    def bind(self, values: Mapping[str, str]) -> dict[ox.Variable, ox.NamedNode | ox.Literal]:
        """Typed RDF terms for the given raw parameter values; raises ParameterError naming the parameter."""
        for key in values:
            if self.param(key) is None:
                known = ", ".join(p.name for p in self.params) or "none"
                raise ParameterError(
                    self.name, key, f"Query '{self.name}' has no parameter '{key}'; its parameters: {known}"
                )
        bound: dict[ox.Variable, ox.NamedNode | ox.Literal] = {}
        for p in self.params:
            raw = values.get(p.name)
            if raw is None or raw == "":
                raw = p.default
            if raw is None or raw == "":
                if p.required:
                    raise ParameterError(
                        self.name, p.name, f"Query '{self.name}' needs parameter '{p.name}': {PARAM_TYPES[p.type]}"
                    )
                continue
            bound[p.variable] = self.term(p, raw)
        return bound

    def term(self, p: Param, raw: str) -> ox.NamedNode | ox.Literal:
        def bad() -> ParameterError:
            return ParameterError(
                self.name,
                p.name,
                f"Query '{self.name}' parameter '{p.name}' has value {raw!r}; expected {PARAM_TYPES[p.type]}",
            )

        if p.type == "iri":
            iri = expand(raw.strip())
            if not re.match(r"^[A-Za-z][A-Za-z0-9+.\-]*:", iri) or _IRI_FORBIDDEN.search(iri):
                raise bad()
            try:
                return ox.NamedNode(iri)
            except ValueError:
                raise bad() from None
        if p.type == "string":
            return ox.Literal(raw)
        if p.type == "integer" and _INTEGER.fullmatch(raw.strip()):
            return ox.Literal(str(int(raw)), datatype=ox.NamedNode(XSD + "integer"))
        if p.type == "decimal" and _DECIMAL.fullmatch(raw.strip()):
            return ox.Literal(raw.strip(), datatype=ox.NamedNode(XSD + "decimal"))
        if p.type == "boolean" and raw.strip().lower() in ("true", "false"):
            return ox.Literal(raw.strip().lower(), datatype=ox.NamedNode(XSD + "boolean"))
        if p.type == "date" and _DATE.fullmatch(raw.strip()) and _is_date(raw.strip()):
            return ox.Literal(raw.strip(), datatype=ox.NamedNode(XSD + "date"))
        raise bad()

    def describe(self) -> dict[str, Any]:
        """The catalogue entry: what ``GET /queries`` lists."""
        return {
            "name": self.name,
            "summary": self.summary,
            "description": self.description,
            "kind": self.kind,
            "tags": list(self.tags),
            "cq": list(self.cq),
            "params": [
                {
                    "name": p.name,
                    "type": p.type,
                    "required": p.required,
                    "default": p.default,
                    "example": p.example,
                    "description": p.description,
                }
                for p in self.params
            ],
        }


def _is_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def parse_query(path: Path) -> NamedQuery:
    text = path.read_text(encoding="utf-8")
    header_lines = []
    for line in text.splitlines():
        m = _HEADER.match(line)
        if m:
            header_lines.append(m.group(1))
    name = path.stem
    if not _NAME.match(name):
        raise QueryError(f"{path}: query name '{name}' must be lower_snake_case")
    try:
        header = yaml.safe_load("\n".join(header_lines)) or {}
    except yaml.YAMLError as exc:
        raise QueryError(f"{path}: the '#+' header is not valid YAML: {exc}") from exc
    if not isinstance(header, dict) or not isinstance(header.get("summary"), str):
        raise QueryError(f"{path}: the '#+' header needs a 'summary:' line")
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    body = re.sub(r"(?im)^\s*PREFIX\s+\S*\s*<[^>]*>", "", body)
    kind_match = _KIND.search(body)
    if not kind_match:
        raise QueryError(f"{path}: expected a SELECT, ASK, CONSTRUCT or DESCRIBE query")
    params = []
    for raw in header.get("params") or []:
        if not isinstance(raw, dict) or "name" not in raw:
            raise QueryError(f"{path}: each entry of 'params' needs a 'name'")
        ptype = str(raw.get("type", "string"))
        if ptype not in PARAM_TYPES:
            raise QueryError(
                f"{path}: parameter '{raw['name']}' has type '{ptype}'; expected one of {', '.join(PARAM_TYPES)}"
            )
        example, default = raw.get("example"), raw.get("default")
        bind = str(raw.get("bind", "values"))
        if bind not in BIND_MODES:
            raise QueryError(
                f"{path}: parameter '{raw['name']}' has bind '{bind}'; expected one of {', '.join(BIND_MODES)}"
            )
        params.append(
            Param(
                name=str(raw["name"]),
                type=ptype,
                required=bool(raw.get("required", False)),
                example=None if example is None else str(example),
                description=str(raw.get("description", "")),
                default=None
                if default is None
                else str(default).lower()
                if isinstance(default, bool)
                else str(default),
                bind=bind,
            )
        )
    filters = [
        f"FILTER (!BOUND({p.variable}) || sameTerm(?{p.name}, {p.variable}))" for p in params if p.bind == "filter"
    ]
    try:
        runs = insert_into_where(text, " ".join(filters)) if filters else text
    except ValueError as exc:
        raise QueryError(f"{path}: {exc}") from None
    severity = header.get("severity")
    if severity is not None and severity not in ("error", "warning"):
        raise QueryError(f"{path}: severity is '{severity}'; expected error or warning")
    return NamedQuery(
        name=name,
        path=path,
        text=runs,
        source=text,
        kind=kind_match.group(1).upper(),
        summary=header["summary"].strip(),
        description=str(header.get("description", "")).strip(),
        tags=tuple(str(t) for t in header.get("tags") or ()),
        cq=tuple(str(c) for c in header.get("cq") or ()),
        params=tuple(params),
        severity=severity,
        message=header.get("message"),
        header=header,
    )


class Catalog:
    """The named queries of one directory (not recursive), by name."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.queries: dict[str, NamedQuery] = {}
        for path in sorted(directory.glob("*.rq")):
            q = parse_query(path)
            self.queries[q.name] = q

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.queries.values())

    def __len__(self) -> int:
        return len(self.queries)

    def get(self, name: str) -> NamedQuery:
        try:
            return self.queries[name]
        except KeyError:
            raise UnknownQuery(name) from None


def term_text(term: object) -> str:
    """A short human form of a result term: a CURIE for IRIs, the lexical value for literals."""
    if isinstance(term, ox.NamedNode):
        return curie(term.value)
    if isinstance(term, ox.Literal):
        return term.value
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    return "" if term is None else str(term)
