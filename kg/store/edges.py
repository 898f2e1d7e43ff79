"""The edge summaries of a release: for every statement (subject, predicate, object) the claims and independent
sources behind it, the non-promotional ones among them, the strongest certainty of each and the computed belief,
summed once from the rows of ``queries/edge_summaries.rq`` and ``queries/belief_scores.rq`` and kept in SQLite
(standard library). `kg build` writes them beside an on-disk store (``edges.sqlite``); a release loaded from another
store builds them in memory. A GraphQL relation connection reads these instead of aggregating the claims of every
edge on every request."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Sequence
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

_SCHEMA = """
CREATE TABLE IF NOT EXISTS edge (
    subject TEXT NOT NULL, predicate TEXT NOT NULL, object TEXT NOT NULL,
    claims INTEGER NOT NULL, sources INTEGER NOT NULL, neutral_sources INTEGER NOT NULL,
    strongest INTEGER NOT NULL, strongest_neutral INTEGER NOT NULL, belief REAL,
    PRIMARY KEY (subject, predicate, object)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS edge_object ON edge (object, predicate, subject);
"""
_COLUMNS = "subject, predicate, object, claims, sources, neutral_sources, strongest, strongest_neutral, belief"


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


def value(row: Row, name: str) -> str | None:
    """The text of a term of the solution; None when the variable is unbound."""
    try:
        term = row[name]
    except KeyError:
        return None
    return None if term is None else str(term.value)


def summarize(claims: Iterable[Row], beliefs: Iterable[Row] = ()) -> list[EdgeSummary]:
    """The summaries from the solutions of ``edge_summaries.rq`` (one per claim) and ``belief_scores.rq``."""
    sums: dict[Statement, _Sum] = {}
    for row in claims:
        subject, predicate, obj, source, promotional, certainty, negated = (
            str(value(row, name))
            for name in ("subject", "predicate", "object", "source", "promotional", "certainty", "negated")
        )
        found = sums.get((subject, predicate, obj))
        if found is None:
            found = sums[subject, predicate, obj] = _Sum()
        found.claims += 1
        if truth(negated):
            continue
        rank = CERTAINTY_RANKS.get(certainty, 0)
        found.sources.add(source)
        found.strongest = max(found.strongest, rank)
        if not truth(promotional):
            found.neutral.add(source)
            found.strongest_neutral = max(found.strongest_neutral, rank)
    for row in beliefs:
        key = (str(value(row, "subject")), str(value(row, "predicate")), str(value(row, "object")))
        if key in sums:
            sums[key].belief = float(str(value(row, "score")))
    return [
        EdgeSummary(s, p, o, v.claims, len(v.sources), len(v.neutral), v.strongest, v.strongest_neutral, v.belief)
        for (s, p, o), v in sorted(sums.items())
    ]


class EdgeIndex:
    """One SQLite database, in memory or in a file beside an on-disk store; safe to query from any thread."""

    def __init__(self, path: Path | str = ":memory:") -> None:
        uri = isinstance(path, str) and path.startswith("file:")
        self.connection = sqlite3.connect(str(path), check_same_thread=False, uri=uri)
        self.lock = threading.Lock()

    @classmethod
    def build(cls, summaries: Iterable[EdgeSummary], path: Path | str = ":memory:") -> EdgeIndex:
        index = cls(path)
        with index.lock, index.connection:
            index.connection.executescript(_SCHEMA)
            index.connection.execute("DELETE FROM edge")
            index.connection.executemany(
                f"INSERT INTO edge ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    (
                        e.subject,
                        e.predicate,
                        e.object,
                        e.claims,
                        e.sources,
                        e.neutral_sources,
                        e.strongest,
                        e.strongest_neutral,
                        e.belief,
                    )
                    for e in summaries
                ),
            )
        return index

    @classmethod
    def open(cls, path: Path) -> EdgeIndex:
        """Summaries written by `kg build`, opened read-only and checked: a corrupt or foreign file is refused with
        EdgeIndexError (at start-up, not at the first card)."""
        what = f"edge summaries {path} are"
        if not path.is_file():
            raise FileNotFoundError(f"{what} missing; rebuild the store with `kg build`")
        index = cls(f"{path.resolve().as_uri()}?mode=ro")
        probe = f"SELECT {_COLUMNS} FROM edge LIMIT 1"
        check_written(index.connection, what, "edge summaries", [probe], EdgeIndexError)
        return index

    def of(self, entities: Sequence[str]) -> dict[str, list[EdgeSummary]]:
        """The summaries of the statements each entity is the subject or the object of."""
        found: dict[str, list[EdgeSummary]] = {e: [] for e in entities}
        unique = list(found)
        with self.lock:
            for start in range(0, len(unique), BATCH):
                chunk = unique[start : start + BATCH]
                marks = ", ".join("?" * len(chunk))
                for column in ("subject", "object"):
                    rows = self.connection.execute(
                        f"SELECT {_COLUMNS} FROM edge WHERE {column} IN ({marks})", chunk
                    ).fetchall()
                    for row in rows:
                        summary = EdgeSummary(*row)
                        if column == "subject":
                            found[summary.subject].append(summary)
                        elif summary.object != summary.subject:  # a statement about itself is found once
                            found[summary.object].append(summary)
        return found

    def all(self) -> list[EdgeSummary]:
        with self.lock:
            return [EdgeSummary(*row) for row in self.connection.execute(f"SELECT {_COLUMNS} FROM edge")]
