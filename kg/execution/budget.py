"""Per-client fairness, after the Wikidata Query Service: each client has a budget of query time per minute and a
number of queries it may run at once; a client that has spent its budget gets 429 with ``Retry-After`` until it may
ask again, so a few runaway queries cannot starve everyone else.

The budget is a bucket of seconds that refills at ``seconds`` per minute, never above ``seconds``. A query is
admitted while the bucket, less the time its running queries have used so far, is above zero; when it ends, the
time it took is taken from the bucket. A query past the client's number at once waits (up to KG_QUERY_TIMEOUT) for
one of the client's own queries to end, and gets 429 only if none does: a burst queues behind its own client, never
in front of others. A client is the remote address of the connection (behind a trusted proxy, the address it
forwarded: see KG_TRUSTED_PROXIES).

Under `kg serve` every worker keeps the budgets in one table (kg.execution.ledger, in KG_RUNTIME_DIR), so a client has
one budget and one number at once whichever worker its connections land on. A single process (tests, a server
without a runtime folder) keeps them in memory (``Budgets``).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from kg.errors import KgError

MAX_CLIENTS = 10_000
"""Clients remembered at once; the ones whose bucket is full and who run nothing are forgotten first. When the table is
full, room is made for a hundredth more at once, so the search for clients to forget is paid once per hundred."""


class TooManyRequests(KgError):
    status = 429
    title = "Too Many Requests"

    def __init__(self, message: str, retry_after: int, busy: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.busy = busy
        """Refused for the number of queries at once (not the time spent)."""


def busy(name: str, running: int) -> TooManyRequests:
    return TooManyRequests(
        f"client {name} already runs {running} queries, the most one client may run at once (KG_CLIENT_QUERIES); "
        "retry when one has finished",
        1,
        busy=True,
    )


def spent(name: str, seconds: float, available: float) -> TooManyRequests:
    """The refusal of a client whose bucket, less its running queries, holds ``available`` (<= 0) seconds."""
    wait = max(1, math.ceil(-available * 60 / seconds))
    return TooManyRequests(
        f"client {name} has spent its query time of {seconds:g} s per minute (KG_CLIENT_BUDGET); retry in {wait} s",
        wait,
    )


class Admission:
    """What every table of budgets shares: waiting behind the client's own queries. ``admit`` and ``charge`` keep the
    table; a query that waits is woken when a query of its client ends in this process, and, when other processes
    share the table (``poll`` set), looks again every ``poll`` seconds."""

    poll: float | None = None

    def __init__(self, seconds: float, concurrent: int, most: int = MAX_CLIENTS) -> None:
        self.seconds = seconds
        self.concurrent = concurrent
        self.most = most
        self.room = max(1, most // 100)
        """Clients forgotten at least when the table is full."""
        self.waiting: dict[str, list[asyncio.Future[None]]] = {}
        """Queries of each client waiting in this process for one of its running queries to end."""

    def admit(self, name: str) -> int:
        """A ticket for one query of client ``name``, or TooManyRequests."""
        raise NotImplementedError

    def charge(self, name: str, ticket: int) -> None:
        """The query of ``ticket`` has ended: take the time it took from its client's bucket, and let the client's
        next waiting query (if any) try again."""
        raise NotImplementedError

    def close(self) -> None:
        """Let go of the table (nothing to do in memory)."""

    async def admitted(self, name: str) -> int:
        """``admit``, waiting for the table where others hold it."""
        return self.admit(name)

    async def acquire(self, name: str, timeout: float) -> int:
        """A ticket for one query of client ``name``, waiting up to ``timeout`` seconds while the client already runs
        its number of queries at once; TooManyRequests when it has spent its time, or is still busy at the end."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            try:
                return await self.admitted(name)
            except TooManyRequests as exc:
                remaining = deadline - loop.time()
                if not exc.busy or remaining <= 0:
                    raise
            turn: asyncio.Future[None] = loop.create_future()
            queue = self.waiting.setdefault(name, [])
            queue.append(turn)
            try:
                await asyncio.wait({turn}, timeout=remaining if self.poll is None else min(remaining, self.poll))
            finally:
                if turn in queue:
                    queue.remove(turn)
                if not queue and self.waiting.get(name) is queue:
                    del self.waiting[name]
                if not turn.done():
                    turn.cancel()

    def wake(self, name: str) -> None:
        """Let the next query of ``name`` waiting in this process try again."""
        queue = self.waiting.get(name, [])
        while queue:
            turn = queue.pop(0)
            if not turn.done():
                turn.set_result(None)
                break


@dataclass
class _Client:
    balance: float
    updated: float
    running: dict[int, float] = field(default_factory=dict)
    """Start times of this client's running queries, by ticket."""


class Budgets(Admission):
    """The budgets of one process, in memory."""

    def __init__(
        self, seconds: float, concurrent: int, clock: Callable[[], float] = time.monotonic, most: int = MAX_CLIENTS
    ) -> None:
        super().__init__(seconds, concurrent, most)
        self.clock = clock
        self.clients: dict[str, _Client] = {}
        self.tickets = 0

    def _client(self, name: str, now: float) -> _Client:
        client = self.clients.get(name)
        if client is None:
            if len(self.clients) >= self.most:
                self._forget(now)
            client = self.clients[name] = _Client(self.seconds, now)
        client.balance = min(self.seconds, client.balance + (now - client.updated) * self.seconds / 60)
        client.updated = now
        return client

    def _forget(self, now: float) -> None:
        for name, client in list(self.clients.items()):
            full = client.balance + (now - client.updated) * self.seconds / 60 >= self.seconds
            if full and not client.running and name not in self.waiting:
                del self.clients[name]
        while len(self.clients) > self.most - self.room:  # all busy or in debt: forget the oldest
            del self.clients[next(iter(self.clients))]

    def admit(self, name: str) -> int:
        now = self.clock()
        client = self._client(name, now)
        if len(client.running) >= self.concurrent:
            raise busy(name, len(client.running))
        available = client.balance - sum(now - started for started in client.running.values())
        if available <= 0:
            raise spent(name, self.seconds, available)
        self.tickets += 1
        client.running[self.tickets] = now
        return self.tickets

    def charge(self, name: str, ticket: int) -> None:
        now = self.clock()
        client = self._client(name, now)
        started = client.running.pop(ticket, None)
        if started is not None:
            client.balance -= now - started
        self.wake(name)
