"""Per-client fairness, after the Wikidata Query Service: each client has a budget of query time per minute and a
number of queries it may run at once; a client that has spent its budget gets 429 with ``Retry-After`` until it may
ask again, so a few runaway queries cannot starve everyone else.

The budget is a bucket of seconds that refills at ``seconds`` per minute, never above ``seconds``. A query is
admitted while the bucket, less the time its running queries have used so far, is above zero; when it ends, the
time it took is taken from the bucket. A query past the client's number at once waits (up to KG_QUERY_TIMEOUT) for
one of the client's own queries to end, and gets 429 only if none does: a burst queues behind its own client, never
in front of others. A client is the remote address of the connection (behind a trusted proxy, the address it
forwarded: see KG_TRUSTED_PROXIES). Each HTTP worker keeps its own budgets.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from kg.errors import KgError

MAX_CLIENTS = 10_000
"""Clients remembered at once; the ones whose bucket is full and who run nothing are forgotten first."""


class TooManyRequests(KgError):
    status = 429
    title = "Too Many Requests"

    def __init__(self, message: str, retry_after: int, busy: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.busy = busy
        """Refused for the number of queries at once (not the time spent)."""


@dataclass
class _Client:
    balance: float
    updated: float
    running: dict[int, float] = field(default_factory=dict)
    """Start times of this client's running queries, by ticket."""
    waiting: list[asyncio.Future[None]] = field(default_factory=list)
    """Queries of this client waiting for one of its running queries to end."""


class Budgets:
    def __init__(self, seconds: float, concurrent: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self.concurrent = concurrent
        self.clock = clock
        self.clients: dict[str, _Client] = {}
        self.tickets = 0

    def _client(self, name: str, now: float) -> _Client:
        client = self.clients.get(name)
        if client is None:
            if len(self.clients) >= MAX_CLIENTS:
                self._forget(now)
            client = self.clients[name] = _Client(self.seconds, now)
        client.balance = min(self.seconds, client.balance + (now - client.updated) * self.seconds / 60)
        client.updated = now
        return client

    def _forget(self, now: float) -> None:
        for name, client in list(self.clients.items()):
            full = client.balance + (now - client.updated) * self.seconds / 60 >= self.seconds
            if full and not client.running and not client.waiting:
                del self.clients[name]
        while len(self.clients) >= MAX_CLIENTS:  # all busy or in debt: forget the oldest
            del self.clients[next(iter(self.clients))]

    def admit(self, name: str) -> int:
        """A ticket for one query of client ``name``, or TooManyRequests."""
        now = self.clock()
        client = self._client(name, now)
        if len(client.running) >= self.concurrent:
            raise TooManyRequests(
                f"client {name} already runs {len(client.running)} queries, the most one client may run at once "
                f"(KG_CLIENT_QUERIES); retry when one has finished",
                1,
                busy=True,
            )
        available = client.balance - sum(now - started for started in client.running.values())
        if available <= 0:
            wait = max(1, math.ceil(-available * 60 / self.seconds))
            raise TooManyRequests(
                f"client {name} has spent its query time of {self.seconds:g} s per minute (KG_CLIENT_BUDGET); "
                f"retry in {wait} s",
                wait,
            )
        self.tickets += 1
        client.running[self.tickets] = now
        return self.tickets

    async def acquire(self, name: str, timeout: float) -> int:
        """A ticket for one query of client ``name``, waiting up to ``timeout`` seconds while the client already runs
        its number of queries at once; TooManyRequests when it has spent its time, or is still busy at the end."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            try:
                return self.admit(name)
            except TooManyRequests as exc:
                remaining = deadline - loop.time()
                if not exc.busy or remaining <= 0:
                    raise
            client = self._client(name, self.clock())
            turn: asyncio.Future[None] = loop.create_future()
            client.waiting.append(turn)
            try:
                await asyncio.wait({turn}, timeout=remaining)
            finally:
                if turn in client.waiting:
                    client.waiting.remove(turn)
                if not turn.done():
                    turn.cancel()

    def charge(self, name: str, ticket: int) -> None:
        """The query of ``ticket`` has ended: take the time it took from its client's bucket, and let the client's
        next waiting query (if any) try again."""
        now = self.clock()
        client = self._client(name, now)
        started = client.running.pop(ticket, None)
        if started is not None:
            client.balance -= now - started
        while client.waiting:
            turn = client.waiting.pop(0)
            if not turn.done():
                turn.set_result(None)
                break
