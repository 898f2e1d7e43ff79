"""The label index for search-as-you-type: preferred labels and synonyms in SQLite (standard library), with a B-tree
for exact and prefix matches and an FTS5 trigram index for substrings, rebuilt whenever the store is.

Ranking: an exact preferred label, then an exact synonym, then a label or synonym starting with the text, then one
with a word starting with it, then any substring; ties go to the shorter label.
"""

from __future__ import annotations

import enum
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

LABELS_FILE = "labels.sqlite"
"""The label index beside an on-disk store (written by `kg build`)."""


class Match(enum.IntEnum):
    EXACT_LABEL = 0
    EXACT_SYNONYM = 1
    PREFIX_LABEL = 2
    PREFIX_SYNONYM = 3
    WORD_LABEL = 4
    WORD_SYNONYM = 5
    SUBSTRING = 6


@dataclass(frozen=True)
class Hit:
    entity: str
    kind: str
    label: str
    match: Match


_SCHEMA = """
CREATE TABLE IF NOT EXISTS label (
    id INTEGER PRIMARY KEY, entity TEXT NOT NULL, kind TEXT NOT NULL, label TEXT NOT NULL, folded TEXT NOT NULL,
    preferred INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS label_folded ON label (folded);
CREATE INDEX IF NOT EXISTS label_entity ON label (entity, preferred);
CREATE VIRTUAL TABLE IF NOT EXISTS label_text
    USING fts5 (folded, content='label', content_rowid='id', tokenize='trigram');
"""


class LabelIndexError(Exception):
    """A label index file that cannot be used."""


def truth(value: str) -> bool:
    """A flag of a query answer (``?preferred``): ``true`` or ``1``, the two lexical forms of xsd:boolean true. ``1``
    is also how Virtuoso answers ``BIND (true AS ?x)``: it computes boolean constants as the xsd:integer 1."""
    return value in ("true", "1")


_CONTROLS = dict.fromkeys([*range(0x20), *range(0x7F, 0xA0)], " ")
"""Control characters fold to a space: no label holds one, and a NUL would end SQLite's full-text query early."""


def fold(text: str) -> str:
    return " ".join(text.translate(_CONTROLS).casefold().split())


class LabelIndex:
    """One SQLite database, in memory or in a file beside an on-disk store; safe to query from any thread."""

    def __init__(self, path: Path | str = ":memory:") -> None:
        uri = isinstance(path, str) and path.startswith("file:")
        self.connection = sqlite3.connect(str(path), check_same_thread=False, uri=uri)
        self.lock = threading.Lock()
        self._has_heads: bool | None = None

    @classmethod
    def build(cls, rows: Iterable[tuple[str, str, str, bool]], path: Path | str = ":memory:") -> LabelIndex:
        """From (entity IRI, kind IRI, label, preferred) rows."""
        index = cls(path)
        with index.lock, index.connection:
            index.connection.executescript(_SCHEMA)
            index.connection.execute("DELETE FROM label")
            index.connection.executemany(
                "INSERT INTO label (entity, kind, label, folded, preferred) VALUES (?, ?, ?, ?, ?)",
                ((e, k, label, fold(label), int(p)) for e, k, label, p in rows),
            )
            index.connection.execute("INSERT INTO label_text (label_text) VALUES ('rebuild')")
        return index

    @classmethod
    def open(cls, path: Path) -> LabelIndex:
        """An index written by `kg build`, opened read-only and checked: a corrupt or foreign file is refused with
        LabelIndexError (at start-up, not at the first search)."""
        what = f"label index {path} is"
        if not path.is_file():
            raise FileNotFoundError(f"{what} missing; rebuild the store with `kg build`")
        index = cls(f"{path.resolve().as_uri()}?mode=ro")
        probes = (
            "SELECT entity, kind, label, folded, preferred FROM label LIMIT 1",
            "SELECT rowid FROM label_text WHERE label_text MATCH 'abc' LIMIT 1",
        )
        check_written(index.connection, what, "a label index", probes, LabelIndexError)
        return index

    def record_heads(self, heads: Iterable[tuple[str, str, str]]) -> None:
        """Keep (entity IRI, kind name, preferred label) of the entities that GraphQL shows as cards, as its card
        builder made them when the release was built, so a search can be answered from this file alone."""
        with self.lock, self.connection:
            self.connection.execute(
                "CREATE TABLE IF NOT EXISTS head (entity TEXT PRIMARY KEY, kind TEXT NOT NULL, label TEXT NOT NULL)"
            )
            self.connection.execute("DELETE FROM head")
            self.connection.executemany("INSERT INTO head (entity, kind, label) VALUES (?, ?, ?)", heads)
        self._has_heads = True

    def has_heads(self) -> bool:
        """Whether the card heads were recorded (asked once: an index opened for serving is read-only)."""
        if self._has_heads is None:
            with self.lock:
                found = self.connection.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'head'")
                self._has_heads = found.fetchone() is not None
        return self._has_heads

    def heads(self, entities: Iterable[str]) -> dict[str, tuple[str, str]]:
        """Entity IRI -> (kind name, preferred label), for those of ``entities`` that have a card."""
        wanted = list(dict.fromkeys(entities))
        found: dict[str, tuple[str, str]] = {}
        with self.lock:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                rows = self.connection.execute(
                    f"SELECT entity, kind, label FROM head WHERE entity IN ({', '.join('?' * len(chunk))})", chunk
                ).fetchall()
                found.update((entity, (kind, label)) for entity, kind, label in rows)
        return found

    def entities(self) -> list[str]:
        """Every entity with a label or synonym."""
        with self.lock:
            return [e for (e,) in self.connection.execute("SELECT DISTINCT entity FROM label ORDER BY entity")]

    def preferred(self, entities: Sequence[str]) -> dict[str, str]:
        """The preferred label of each of ``entities`` that has a kind and a label (the others are left out)."""
        found: dict[str, str] = {}
        unique = list(dict.fromkeys(entities))
        with self.lock:
            for start in range(0, len(unique), 500):
                chunk = unique[start : start + 500]
                marks = ", ".join("?" * len(chunk))
                rows = self.connection.execute(
                    f"SELECT entity, label FROM label WHERE preferred = 1 AND entity IN ({marks})", chunk
                ).fetchall()
                found.update(rows)
        return found

    def search(self, text: str, kinds: Sequence[str] = (), limit: int = 10) -> list[Hit]:
        folded = fold(text)
        if not folded:
            return []
        kind_filter = f" AND kind IN ({','.join('?' * len(kinds))})" if kinds else ""
        candidates: set[tuple[str, str, str, bool]] = set()
        with self.lock:
            cursor = self.connection.cursor()
            # exact and prefix: a range scan of the B-tree
            for entity, kind, label, preferred in cursor.execute(
                f"SELECT entity, kind, label, preferred FROM label WHERE folded >= ? AND folded < ?{kind_filter} "
                "ORDER BY length(folded) LIMIT ?",
                (folded, folded + "\U0010ffff", *kinds, limit * 4),
            ):
                candidates.add((entity, kind, label, bool(preferred)))
            if len(folded) >= 3:
                rows = cursor.execute(
                    "SELECT l.entity, l.kind, l.label, l.preferred "
                    "FROM label_text JOIN label l ON l.id = label_text.rowid "
                    f"WHERE label_text MATCH ?{kind_filter.replace('kind', 'l.kind')} LIMIT ?",
                    ('"' + folded.replace('"', '""') + '"', *kinds, limit * 20),
                )
            else:
                rows = cursor.execute(
                    f"SELECT entity, kind, label, preferred FROM label WHERE instr(folded, ?) > 0{kind_filter} LIMIT ?",
                    (folded, *kinds, limit * 20),
                )
            for entity, kind, label, preferred in rows:
                candidates.add((entity, kind, label, bool(preferred)))
        best: dict[str, Hit] = {}
        for entity, kind, label, preferred in candidates:
            match = classify(fold(label), folded, preferred)
            if match is None:
                continue
            hit = Hit(entity, kind, label, match)
            current = best.get(entity)
            if current is None or (hit.match, len(hit.label)) < (current.match, len(current.label)):
                best[entity] = hit
        return sorted(best.values(), key=lambda h: (h.match, len(h.label), h.label.casefold()))[:limit]


def classify(label: str, text: str, preferred: bool) -> Match | None:
    if label == text:
        return Match.EXACT_LABEL if preferred else Match.EXACT_SYNONYM
    if label.startswith(text):
        return Match.PREFIX_LABEL if preferred else Match.PREFIX_SYNONYM
    if any(word.startswith(text) for word in label.replace("-", " ").replace("/", " ").split()):
        return Match.WORD_LABEL if preferred else Match.WORD_SYNONYM
    if text in label:
        return Match.SUBSTRING
    return None


def check_written(
    connection: sqlite3.Connection,
    what: str,
    kind: str,
    probes: Sequence[str],
    error: type[Exception],
    table: str | None = None,
) -> None:
    """Refuse a SQLite file that `kg build` wrote beside the store (``what``: "label index PATH is") when SQLite's
    quick check (of the whole file, or of ``table`` and its indexes only) fails or a probe query cannot run on it
    (it is not ``kind``): ``error``, the connection closed."""
    try:
        (verdict,) = connection.execute(f"PRAGMA quick_check({table})" if table else "PRAGMA quick_check").fetchone()
        for probe in probes:
            connection.execute(probe).fetchall()
    except sqlite3.DatabaseError as exc:
        connection.close()
        raise error(f"{what} corrupt or not {kind} ({exc}); rebuild the store with `kg build`") from None
    if verdict != "ok":
        connection.close()
        raise error(f"{what} corrupt ({verdict}); rebuild the store with `kg build`")
