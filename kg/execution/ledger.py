"""The client budgets of kg.execution.budget shared by every worker of one `kg serve`: a SQLite table in
KG_RUNTIME_DIR, so a client has one bucket of query time and one number of queries at once, whichever worker its
connections land on.

Each admission and each charge is one short transaction (``BEGIN IMMEDIATE``: the table is read and written under
SQLite's write lock, in WAL mode, without syncing to disk: the table lives as long as the server). A row per client
holds its bucket (balance, last update, on the system-wide monotonic clock, which every process reads alike); a row per
running query holds its start, by the worker that runs it (pid and the process's start time, so a reused pid is not
mistaken for it) and that worker's ticket. A worker that dies with queries running cannot charge them: every worker
sweeps the table (at most once a second, at an admission) for rows of workers that have ended, charges each its time
up to then (at most KG_QUERY_TIMEOUT, the longest a query holds its ticket) and drops it.

A query waiting for one of its client's running queries to end is woken at once when that query ran in the same
worker, and looks at the table again every ``POLL_SECONDS`` for queries in other workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from kg.errors import BackendUnavailable
from kg.execution.budget import MAX_CLIENTS, Admission, Budgets, TooManyRequests, busy, spent
from kg.settings import Settings

log = logging.getLogger("kg.execution.ledger")

LEDGER = "budgets.sqlite3"
"""The file, in KG_RUNTIME_DIR, of the shared budgets."""
BUSY_SECONDS = 0.5
"""How long a query waits for the table's lock before it is answered 503 (a transaction holds it for microseconds)."""
LOCK_SECONDS = 0.001
"""How often a worker tries again for the lock another worker holds (never blocking its event loop meanwhile)."""
SWEEP_SECONDS = 1.0
POLL_SECONDS = 0.05


class Locked(Exception):
    """Another worker holds the table's write lock."""


SCHEMA = """
CREATE TABLE IF NOT EXISTS client (
    name TEXT PRIMARY KEY, balance REAL NOT NULL, updated REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS client_by_update ON client (updated);
CREATE TABLE IF NOT EXISTS running (
    pid INTEGER NOT NULL, born INTEGER NOT NULL, ticket INTEGER NOT NULL, name TEXT NOT NULL, started REAL NOT NULL,
    PRIMARY KEY (pid, born, ticket)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS running_by_client ON running (name);
"""

TICKETS = itertools.count(1)
"""Ticket numbers of this process (unique whatever number of tables it opens)."""


def started_at(pid: int) -> int | None:
    """When process ``pid`` started (clock ticks since boot, from /proc), or None when it has ended (a zombie has).
    Where there is no /proc: 0 for a process that exists."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except FileNotFoundError:
        if Path("/proc/self/stat").exists():
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return 0
    fields = stat[stat.rindex(b")") + 2 :].split()  # after the command name, which may hold spaces and parentheses
    return None if fields[0] in (b"Z", b"X") else int(fields[19])


def connect(path: Path) -> sqlite3.Connection:
    """The table of budgets at ``path``, made if it is not there (`kg serve` makes it before it starts the workers)."""
    db = sqlite3.connect(path, timeout=10, isolation_level=None)  # a worker starting may wait for the others
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = OFF")
    db.executescript(SCHEMA)
    db.execute("PRAGMA busy_timeout = 0")  # serving, never wait for the lock inside SQLite (see admitted)
    return db


class SharedBudgets(Admission):
    """The budgets of every process that opens the table at ``path``. ``longest`` is the longest a query holds its
    ticket (KG_QUERY_TIMEOUT: waiting for a sandbox included), charged at most for a query whose worker died."""

    poll = POLL_SECONDS

    def __init__(
        self,
        path: Path,
        seconds: float,
        concurrent: int,
        longest: float,
        clock: Callable[[], float] = time.monotonic,
        most: int = MAX_CLIENTS,
    ) -> None:
        super().__init__(seconds, concurrent, most)
        self.db = connect(path)
        self.longest = longest
        self.clock = clock
        self.pid = os.getpid()
        self.born = started_at(self.pid) or 0
        self.swept = -SWEEP_SECONDS
        self.retry: asyncio.TimerHandle | None = None
        self.unsettled: list[tuple[str, int, float]] = []
        """Charges (client, ticket, end) that could not be written yet (the table was locked): written with the next
        transaction, so a query that ended never stays running."""

    def close(self) -> None:
        if self.retry is not None:
            self.retry.cancel()
        self.db.close()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One transaction under the table's write lock (Locked at once when another worker holds it); the charges
        left unsettled are written first. A refusal (TooManyRequests) keeps what the transaction wrote so far (a
        sweep); a failure of the table is a 503."""
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode == sqlite3.SQLITE_BUSY:
                raise Locked from None
            raise self._failed(exc) from None
        try:
            for name, ticket, ended in self.unsettled:
                self._end(name, ticket, ended)
            try:
                yield self.db
            except TooManyRequests:
                self.db.execute("COMMIT")
                self.unsettled.clear()
                raise
            self.db.execute("COMMIT")
            self.unsettled.clear()
        except sqlite3.Error as exc:
            self._rollback()
            raise self._failed(exc) from None
        except TooManyRequests:
            raise
        except BaseException:
            self._rollback()
            raise

    def _failed(self, exc: sqlite3.Error) -> BackendUnavailable:
        log.error("the table of client budgets failed: %s", exc)
        return BackendUnavailable("the table of client budgets is unavailable; retry in a second")

    def _rollback(self) -> None:
        if self.db.in_transaction:
            self.db.execute("ROLLBACK")

    async def admitted(self, name: str) -> int:
        """``admit``, trying again every ``LOCK_SECONDS`` while another worker holds the table's lock (the event loop
        serves meanwhile), 503 past ``BUSY_SECONDS``."""
        deadline = time.monotonic() + BUSY_SECONDS
        while True:
            try:
                return self.admit(name)
            except Locked:
                if time.monotonic() >= deadline:
                    log.error("the table of client budgets stayed locked past %s s", BUSY_SECONDS)
                    raise BackendUnavailable("the table of client budgets is busy; retry in a second") from None
            await asyncio.sleep(LOCK_SECONDS)

    def admit(self, name: str) -> int:
        """A ticket for one query of client ``name``, TooManyRequests, or Locked (another worker holds the lock)."""
        now = self.clock()
        with self._transaction() as db:
            if now - self.swept >= SWEEP_SECONDS:
                self._sweep(now)
            row = db.execute("SELECT balance, updated FROM client WHERE name = ?", (name,)).fetchone()
            if row is None:
                self._make_room(now)
                balance = self.seconds
            else:
                balance = min(self.seconds, row[0] + (now - row[1]) * self.seconds / 60)
            running = [started for (started,) in db.execute("SELECT started FROM running WHERE name = ?", (name,))]
            if len(running) >= self.concurrent:
                raise busy(name, len(running))
            available = balance - sum(now - started for started in running)
            if available <= 0:
                raise spent(name, self.seconds, available)
            ticket = next(TICKETS)
            db.execute("INSERT INTO running VALUES (?, ?, ?, ?, ?)", (self.pid, self.born, ticket, name, now))
            db.execute(
                "INSERT INTO client VALUES (?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET balance = excluded.balance, updated = excluded.updated",
                (name, balance, now),
            )
        return ticket

    def charge(self, name: str, ticket: int) -> None:
        """As in memory; while another worker holds the lock, the charge waits in ``unsettled`` and is written as
        soon as this worker gets the lock (a retry every ``LOCK_SECONDS``, or its next transaction)."""
        self.unsettled.append((name, ticket, self.clock()))
        self._settle()
        self.wake(name)

    def _settle(self) -> None:
        if not self.unsettled:
            return
        try:
            with self._transaction():
                pass
        except Locked:
            if self.retry is None:
                with contextlib.suppress(RuntimeError):  # no event loop (a benchmark): the next transaction writes it
                    self.retry = asyncio.get_running_loop().call_later(LOCK_SECONDS, self._retried)
        except BackendUnavailable:  # logged; the next transaction tries again
            pass

    def _retried(self) -> None:
        self.retry = None
        self._settle()

    def _end(self, name: str, ticket: int, now: float) -> None:
        found = self.db.execute(
            "DELETE FROM running WHERE pid = ? AND born = ? AND ticket = ? RETURNING started",
            (self.pid, self.born, ticket),
        ).fetchall()
        for (started,) in found:
            self._take(name, now - started, now)

    def _take(self, name: str, used: float, now: float) -> None:
        """Take ``used`` seconds from the bucket of ``name``, refilled up to ``now``."""
        values: dict[str, Any] = {"name": name, "full": self.seconds, "rate": self.seconds / 60, "used": used}
        self.db.execute(
            "INSERT INTO client VALUES (:name, :full - :used, :now) ON CONFLICT (name) DO UPDATE SET "
            "balance = MIN(:full, balance + (:now - updated) * :rate) - :used, updated = :now",
            {**values, "now": now},
        )

    def _sweep(self, now: float) -> None:
        """Charge and drop the running queries of workers that have ended."""
        self.swept = now
        for pid, born in self.db.execute("SELECT DISTINCT pid, born FROM running").fetchall():
            if (pid, born) == (self.pid, self.born) or started_at(pid) == born:
                continue
            ended = self.db.execute(
                "DELETE FROM running WHERE pid = ? AND born = ? RETURNING name, started", (pid, born)
            ).fetchall()
            for name, started in ended:
                self._take(name, min(now - started, self.longest), now)
            log.warning("worker %s ended with %d client queries running; charged them and let them go", pid, len(ended))

    def _make_room(self, now: float) -> None:
        """Forget clients until a new one fits: first those whose bucket is full and who run nothing, then (all busy
        or in debt) those least recently seen."""
        (count,) = self.db.execute("SELECT COUNT(*) FROM client").fetchone()
        if count < self.most:
            return
        self.db.execute(
            "DELETE FROM client WHERE balance + (? - updated) * ? >= ? AND name NOT IN (SELECT name FROM running)",
            (now, self.seconds / 60, self.seconds),
        )
        (count,) = self.db.execute("SELECT COUNT(*) FROM client").fetchone()
        if count > self.most - self.room:
            oldest = self.db.execute(
                "SELECT name FROM client ORDER BY updated LIMIT ?", (count - self.most + self.room,)
            ).fetchall()
            self.db.executemany("DELETE FROM client WHERE name = ?", oldest)
            self.db.executemany("DELETE FROM running WHERE name = ?", oldest)


def budgets_for(settings: Settings) -> Admission:
    """The shared table under `kg serve` (which gives its workers a runtime folder); else budgets in memory."""
    if settings.runtime_dir is None:
        return Budgets(settings.client_budget, settings.client_queries)
    return SharedBudgets(
        settings.runtime_dir / LEDGER, settings.client_budget, settings.client_queries, settings.query_timeout
    )
