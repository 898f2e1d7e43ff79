"""The edge summaries of a release: for every statement (subject, predicate, object) the claims and independent
sources behind it, the non-promotional ones among them, the strongest certainty of each and the computed belief,
summed once from the rows of ``queries/edge_summaries.rq`` and ``queries/belief_scores.rq`` and kept in SQLite
(standard library), with the claims themselves (quote, source, certainty ...). `kg build` writes them beside an
on-disk store (``edges.sqlite``); a release loaded from another store builds them in memory. A GraphQL relation
connection reads these instead of aggregating the claims of every edge on every request, and the claims of an edge
are read from here instead of the store."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from kg.store.labels import check_written, truth

EDGES_FILE = "edges.sqlite"
"""The edge summaries beside an on-disk store (written by `kg build`)."""
CERTAINTY_RANKS = {
    "https://w3id.org/scad/ontology#Speculative": 1,
    "https://w3id.org/scad/ontology#Hedged": 2,
    "https://w3id.org/scad/ontology#ReportedFinding": 3,
    "https://w3id.org/scad/ontology#Asserted": 4,
}
"""Certainty IRI -> rank, weakest first (kg.graphql.model.Certainty.rank); 0 stands for no supporting claim."""
BATCH = 500
"""Entities looked up in one SQL statement (well under SQLite's limit of bound parameters)."""
CLAIMS_AT_ONCE = 10_000
"""Claims a build holds before it writes them."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS edge (
    subject TEXT NOT NULL, predicate TEXT NOT NULL, object TEXT NOT NULL,
    claims INTEGER NOT NULL, sources INTEGER NOT NULL, neutral_sources INTEGER NOT NULL,
    strongest INTEGER NOT NULL, strongest_neutral INTEGER NOT NULL, belief REAL,
    PRIMARY KEY (subject, predicate, object)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS edge_object ON edge (object, predicate, subject);
CREATE TABLE IF NOT EXISTS claim (
    subject TEXT NOT NULL, predicate TEXT NOT NULL, object TEXT NOT NULL, claim TEXT NOT NULL,
    quote TEXT NOT NULL, source TEXT NOT NULL, title TEXT NOT NULL, promotional INTEGER NOT NULL,
    certainty TEXT NOT NULL, negated INTEGER NOT NULL, evidence_direction TEXT NOT NULL, quote_role TEXT NOT NULL,
    scope TEXT, hedge TEXT, evidence TEXT,
    PRIMARY KEY (subject, predicate, object, claim)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS claim_object ON claim (object, predicate, subject, claim);
"""
_COLUMNS = "subject, predicate, object, claims, sources, neutral_sources, strongest, strongest_neutral, belief"
_CLAIM_COLUMNS = (
    "subject, predicate, object, claim, quote, source, title, promotional, certainty, negated, evidence_direction, "
    "quote_role, scope, hedge, evidence"
)
_CLAIM_VARIABLES = (
    "subject", "predicate", "object", "claim", "quote", "source", "title", "promotional", "certainty", "negated",
    "evidenceDirection", "quoteRole", "scope", "hedge", "evidence",
)  # fmt: skip
_SUMMED = tuple(_CLAIM_VARIABLES.index(n) for n in ("subject", "predicate", "object", "source", "certainty"))
"""Where the fields a summary is summed from stand in a claim row."""
_PROMOTIONAL, _NEGATED = _CLAIM_VARIABLES.index("promotional"), _CLAIM_VARIABLES.index("negated")


class EdgeIndexError(Exception):
    """An edge summary file that cannot be used."""


@dataclass(frozen=True)
class EdgeSummary:
    """The evidence of one statement. ``sources``, ``strongest``: of its non-negated (supporting) claims; the
    ``neutral_`` pair: of those of non-promotional sources only. A rank is 0 when no such claim exists."""

    subject: str
    predicate: str
    object: str
    claims: int
    sources: int
    neutral_sources: int
    strongest: int
    strongest_neutral: int
    belief: float | None


@dataclass
class _Sum:
    claims: int = 0
    sources: set[str] = field(default_factory=set)
    neutral: set[str] = field(default_factory=set)
    strongest: int = 0
    strongest_neutral: int = 0
    belief: float | None = None


class Row(Protocol):
    """A solution of a query: a pyoxigraph QuerySolution, or a row of kg.execution.executor (a dict of terms)."""

    def __getitem__(self, name: str, /) -> Any: ...


Statement = tuple[str, str, str]


@dataclass(frozen=True)
class ClaimRow:
    """One claim of a statement as the edge summaries keep it (the names of ``edge_summaries.rq``)."""

    subject: str
    predicate: str
    object: str
    claim: str
    quote: str
    source: str
    title: str
    promotional: bool
    certainty: str
    negated: bool
    evidence_direction: str
    quote_role: str
    scope: str | None
    hedge: str | None
    evidence: str | None


def value(row: Row, name: str) -> str | None:
    """The text of a term of the solution; None when the variable is unbound."""
    try:
        term = row[name]
    except KeyError:
        return None
    return None if term is None else str(term.value)


def _sum(claims: Iterable[Row], keep: Callable[[tuple[object, ...]], None]) -> dict[Statement, _Sum]:
    """Sum the solutions of ``edge_summaries.rq`` (one per claim) per statement; each row's columns also go to
    ``keep`` (for the claim table)."""
    sums: dict[Statement, _Sum] = {}
    for row in claims:
        values: list[object] = [value(row, name) for name in _CLAIM_VARIABLES]
        subject, predicate, obj, source, certainty = (str(values[k]) for k in _SUMMED)
        promotional, negated = truth(str(values[_PROMOTIONAL])), truth(str(values[_NEGATED]))
        values[_PROMOTIONAL], values[_NEGATED] = promotional, negated
        keep(tuple(values))
        found = sums.get((subject, predicate, obj))
        if found is None:
            found = sums[subject, predicate, obj] = _Sum()
        found.claims += 1
        if negated:
            continue
        rank = CERTAINTY_RANKS.get(certainty, 0)
        found.sources.add(source)
        found.strongest = max(found.strongest, rank)
        if not promotional:
            found.neutral.add(source)
            found.strongest_neutral = max(found.strongest_neutral, rank)
    return sums


def _summaries(sums: dict[Statement, _Sum], beliefs: Iterable[Row]) -> list[EdgeSummary]:
    for row in beliefs:
        key = (str(value(row, "subject")), str(value(row, "predicate")), str(value(row, "object")))
        if key in sums:
            sums[key].belief = float(str(value(row, "score")))
    return [
        EdgeSummary(s, p, o, v.claims, len(v.sources), len(v.neutral), v.strongest, v.strongest_neutral, v.belief)
        for (s, p, o), v in sorted(sums.items())
    ]


def _claim_row(row: tuple[Any, ...]) -> ClaimRow:
    s, p, o, claim, quote, source, title, promotional, certainty, negated, direction, role, scope, hedge, evidence = row
    return ClaimRow(
        s, p, o, claim, quote, source, title, bool(promotional), certainty, bool(negated), direction, role, scope,
        hedge, evidence,
    )  # fmt: skip


class EdgeIndex:
    """One SQLite database, in memory or in a file beside an on-disk store; safe to query from any thread."""

    def __init__(self, path: Path | str = ":memory:") -> None:
        uri = isinstance(path, str) and path.startswith("file:")
        self.connection = sqlite3.connect(str(path), check_same_thread=False, uri=uri)
        self.lock = threading.Lock()
        self.has_claims = False
        """Whether the claims of each statement are kept here too (a file of an older build has summaries only)."""

    @classmethod
    def from_rows(
        cls, claims: Iterable[Row], beliefs: Iterable[Row], path: Path | str = ":memory:", keep_claims: bool = True
    ) -> EdgeIndex:
        """The summaries and (unless not ``keep_claims``) the claims from the solutions of ``edge_summaries.rq`` and
        ``belief_scores.rq``. The claims are written as they are read, a batch at a time, so a build never holds all
        of them."""
        index = cls(path)
        # a claim with two values of a one-valued field (the shapes forbid it; a remote store may hold it anyway)
        # gives two rows: the first is kept
        insert = f"INSERT OR IGNORE INTO claim ({_CLAIM_COLUMNS}) VALUES ({', '.join('?' * len(_CLAIM_VARIABLES))})"
        batch: list[tuple[object, ...]] = []

        def keep(values: tuple[object, ...]) -> None:
            if not keep_claims:
                return
            batch.append(values)
            if len(batch) >= CLAIMS_AT_ONCE:
                index.connection.executemany(insert, batch)
                batch.clear()

        with index.lock, index.connection:
            index.connection.executescript(_SCHEMA)
            index.connection.execute("DELETE FROM claim")
            index.connection.execute("DELETE FROM edge")
            sums = _sum(claims, keep)
            index.connection.executemany(insert, batch)
            index.connection.executemany(
                f"INSERT INTO edge ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    (e.subject, e.predicate, e.object, e.claims, e.sources, e.neutral_sources, e.strongest,
                     e.strongest_neutral, e.belief)
                    for e in _summaries(sums, beliefs)
                ),
            )  # fmt: skip
        index.has_claims = keep_claims
        return index

    @classmethod
    def open(cls, path: Path) -> EdgeIndex:
        """Summaries written by `kg build`, opened read-only and checked: a corrupt or foreign file is refused with
        EdgeIndexError (at start-up, not at the first card)."""
        what = f"edge summaries {path} are"
        if not path.is_file():
            raise FileNotFoundError(f"{what} missing; rebuild the store with `kg build`")
        index = cls(f"{path.resolve().as_uri()}?mode=ro")
        try:
            tables = index.connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        except sqlite3.DatabaseError:
            tables = []  # the check below names the problem
        claims = ("claim",) in tables  # a file of an older build has the summaries only: claims come from the store
        probes = [f"SELECT {_COLUMNS} FROM edge LIMIT 1"] + [f"SELECT {_CLAIM_COLUMNS} FROM claim LIMIT 1"] * claims
        # the summaries are checked whole; the claims (ten times their size: a second per 100 MB read cold, which
        # a start must not wait for) by their probe
        check_written(index.connection, what, "edge summaries", probes, EdgeIndexError, table="edge")
        if claims:  # an empty table is a graph without claims, or a build that kept none: ask the store
            index.has_claims = index.connection.execute("SELECT 1 FROM claim LIMIT 1").fetchone() is not None
        return index

    def of(self, entities: Sequence[str]) -> dict[str, list[EdgeSummary]]:
        """The summaries of the statements each entity is the subject or the object of."""
        found: dict[str, list[EdgeSummary]] = {e: [] for e in entities}
        for entity, _, row in self._about("edge", _COLUMNS, list(found)):
            found[entity].append(EdgeSummary(*row))
        return found

    def claims_of(self, entities: Sequence[str]) -> dict[str, list[tuple[str, ClaimRow]]]:
        """The claims of the statements each entity is the subject or the object of, each with its direction from
        the entity ("out" when it is the subject), unordered (an edge orders its own)."""
        found: dict[str, list[tuple[str, ClaimRow]]] = {e: [] for e in entities}
        for entity, direction, row in self._about("claim", _CLAIM_COLUMNS, list(found)):
            found[entity].append((direction, _claim_row(row)))
        return found

    def _about(self, table: str, columns: str, entities: list[str]) -> list[tuple[str, str, tuple[Any, ...]]]:
        """(entity, "out" or "in", row) for each row of ``table`` (subject first, object third) whose subject or
        object is one of ``entities``; a statement about itself is found once, as "out"."""
        found = []
        with self.lock:
            for start in range(0, len(entities), BATCH):
                chunk = entities[start : start + BATCH]
                marks = ", ".join("?" * len(chunk))
                for column, direction, at in (("subject", "out", 0), ("object", "in", 2)):
                    query = f"SELECT {columns} FROM {table} WHERE {column} IN ({marks})"
                    for row in self.connection.execute(query, chunk).fetchall():
                        if direction == "out" or row[0] != row[2]:
                            found.append((row[at], direction, row))
        return found

    def all(self) -> list[EdgeSummary]:
        with self.lock:
            return [EdgeSummary(*row) for row in self.connection.execute(f"SELECT {_COLUMNS} FROM edge")]
