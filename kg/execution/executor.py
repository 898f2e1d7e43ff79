"""Running a query for a client: refuse what must not run, negotiate the format, answer repeated queries from a
cache, and run new ones within the deadline and the size caps.

Client SPARQL text (a plan marked ``untrusted``) runs in a sandbox process of kg.execution.pool, under the client's
budget (kg.execution.budget): at the deadline the sandbox is killed and replaced, and nothing else in this worker
notices. Query text written here (named queries, GraphQL, pages) runs in a thread of this worker: pyoxigraph releases
the GIL while it works, so the event loop keeps serving, and the client gets 503 at the deadline. pyoxigraph cannot
cancel a query, so for those in-process queries alone the worker still retires under ``kg serve`` if one outlives
its deadline (their text is ours and their parameters are bound, so that takes a bug, not a client).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import queue
import threading
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import pyoxigraph as ox

from kg.errors import BackendUnavailable, Forbidden, QuerySyntaxError, QueryTimeout
from kg.execution.budget import Admission, Budgets
from kg.execution.pool import SandboxPool, error_of
from kg.execution.sandbox import FORMATS
from kg.execution.serialize import Caps, format_for, serialize
from kg.lru import Lru
from kg.metrics import CACHE, QUERY_TIMEOUTS, STORE_QUERIES
from kg.queries.formats import GRAPHS, RESULTS, Format, choose
from kg.queries.text import check_depth, inline_rows, lex, line_column, looks_like_update, query_form, service_calls
from kg.settings import Settings
from kg.store.backends import Backend, Bindings, Result, syntax_message

log = logging.getLogger("kg.execution.executor")
Term = ox.NamedNode | ox.BlankNode | ox.Literal
T = TypeVar("T")


@dataclass(frozen=True)
class Plan:
    text: str
    bindings: Bindings
    default_graphs: tuple[str, ...]
    named_graphs: tuple[str, ...]
    format: Format | None
    """None when the query form could not be read before running (the engine decides)."""
    accept: str | None
    format_name: str | None
    key: str
    etag: str
    base_iri: str | None = None
    """What relative IRIs in the query resolve against (the endpoint's URL)."""
    untrusted: bool = False
    """Client-written text: runs in a sandbox, under the client's budget."""
    form: str | None = None
    """SELECT, ASK, CONSTRUCT or DESCRIBE, read from the text when it is lexed for the plan (None if unreadable)."""


@dataclass(frozen=True)
class Answer:
    body: bytes
    format: Format
    etag: str
    cached: bool = False


def _rows_size(rows: list[dict[str, Term]]) -> int:
    """About how many bytes the rows of a SELECT hold in memory."""
    return 64 + sum(72 + sum(len(name) + len(term.value) + 120 for name, term in row.items()) for row in rows)


class _Answers(Lru[str, Answer]):
    """Serialized answers by plan key, bounded in entries and bytes; every lookup is counted in the metrics."""

    def get(self, key: str) -> Answer | None:
        answer = super().get(key)
        CACHE.labels("miss" if answer is None else "hit").inc()
        return answer


class _Workers:
    """Daemon threads that run queries. A thread still busy with a stopped query never holds up the exit of a
    retiring process, and handing a query to a waiting thread costs far less than a general-purpose executor."""

    def __init__(self, threads: int) -> None:
        self.jobs: queue.SimpleQueue[tuple[asyncio.AbstractEventLoop, asyncio.Future[Any], Callable[[], Any]]]
        self.jobs = queue.SimpleQueue()
        for n in range(threads):
            threading.Thread(target=self._work, name=f"kg-query-{n}", daemon=True).start()

    def submit(self, job: Callable[[], T]) -> asyncio.Future[T]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self.jobs.put((loop, future, job))
        return future

    def _work(self) -> None:
        while True:
            loop, future, job = self.jobs.get()
            if future.cancelled():
                continue
            try:
                result = job()
            except BaseException as exc:  # handed to the waiting request, which maps it
                loop.call_soon_threadsafe(_settle, future, None, exc)
            else:
                loop.call_soon_threadsafe(_settle, future, result, None)


def _settle(future: asyncio.Future[Any], result: Any, exc: BaseException | None) -> None:
    if future.done():  # the request gave up waiting (timeout, or the client went away)
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)


class Executor:
    def __init__(
        self,
        backend: Backend,
        settings: Settings,
        retire: Callable[[], None] | None = None,
        pool: SandboxPool | None = None,
        budgets: Admission | None = None,
    ) -> None:
        self.backend = backend
        self.settings = settings
        self.retire = retire
        self.pool = pool
        self.refusal: str | None = None
        """Why client SPARQL is refused on this server (no kernel network guard, risk not accepted), if it is."""
        self.budgets = budgets or Budgets(settings.client_budget, settings.client_queries)
        """The clients' budgets: the app's (kept across reloads, shared by the workers of `kg serve`)."""
        self.caps = Caps(settings.max_rows, settings.max_result_bytes)
        entries = settings.cache_entries if backend.cacheable else 0
        self.cache = _Answers(entries, settings.cache_bytes, lambda answer: len(answer.body) + 200)
        self.requests: Lru[tuple[str, bytes, bytes], tuple[str, Mapping[str, str]]] = Lru(
            entries, settings.cache_bytes // 16, lambda found: 200 + sum(len(k) + len(v) for k, v in found[1].items())
        )
        """GET requests already answered (path, query string, Accept) -> the cache key of their answer and the headers
        their route adds to it (see kg.web.fastpath)."""
        self.row_cache: Lru[str, list[dict[str, Term]]] = Lru(entries, settings.cache_bytes // 4, _rows_size)
        self.graphql_answers: Lru[str, bytes] = Lru(entries, settings.cache_bytes // 4, len)
        """GraphQL answers without errors, by the SHA-256 of the request body (see kg.web.fastpath)."""
        self.workers = _Workers(settings.query_threads)
        self.timeouts = 0
        self.store_queries = 0

    @property
    def release(self) -> str:
        return self.backend.release

    def plan(
        self,
        text: str,
        *,
        bindings: Bindings | None = None,
        default_graphs: Sequence[str] = (),
        named_graphs: Sequence[str] = (),
        accept: str | None = None,
        format_name: str | None = None,
        base_iri: str | None = None,
        untrusted: bool = False,
    ) -> Plan:
        """Everything that can be decided before running: refusals, the format, the cache key and the ETag. Linear in
        the length of ``text``; routes run it off the event loop for long texts."""
        lexed = lex(text, self.settings.max_query_depth)
        check_depth(lexed, self.settings.max_query_depth)
        for call in service_calls(lexed):
            if not call.is_iri or call.target not in self.settings.service_allowlist:
                where = line_column(text, call.position)
                raise Forbidden(
                    f"SERVICE {call.target or '(no endpoint)'} (at {where}) is not allowed: this endpoint makes no "
                    "outbound requests for clients (allowed endpoints are listed in KG_SERVICE_ALLOWLIST; the "
                    "letters 'service' outside strings, IRIs and comments count as a SERVICE clause)"
                )
            if untrusted and self.pool is not None:
                raise Forbidden(
                    f"SERVICE <{call.target}> is in KG_SERVICE_ALLOWLIST, but client queries run in sandboxes "
                    "that have no network (the allow-list works only with KG_SANDBOX=false)"
                )
        if lexed.unterminated is not None:
            raise QuerySyntaxError(
                f"malformed query: the string that starts at {line_column(text, lexed.unterminated)} never ends"
            )
        if looks_like_update(lexed):
            raise Forbidden("this endpoint is read-only: SPARQL updates are refused")
        form = query_form(lexed)
        fmt = None
        if form is not None:
            offers, what = (RESULTS, "query results") if form in ("SELECT", "ASK") else (GRAPHS, "a graph")
            fmt = choose(format_name, accept, offers, what)
        terms = sorted((v.value, str(t)) for v, t in (bindings or {}).items())
        key_parts = [
            self.release,
            text,
            repr(terms),
            repr(tuple(default_graphs)),
            repr(tuple(named_graphs)),
            base_iri or "",
            fmt.media_type if fmt else f"{accept}|{format_name}",
        ]
        digest = hashlib.sha256("\x1f".join(key_parts).encode("utf-8")).hexdigest()
        return Plan(
            text=text,
            bindings=dict(bindings or {}),
            default_graphs=tuple(default_graphs),
            named_graphs=tuple(named_graphs),
            format=fmt,
            accept=accept,
            format_name=format_name,
            key=digest,
            etag=f'"{self.release}-{digest[:20]}"',
            base_iri=base_iri,
            untrusted=untrusted,
            form=form,
        )

    async def select(
        self,
        text: str,
        bindings: Bindings | None = None,
        batch: tuple[ox.Variable, Sequence[ox.NamedNode]] | None = None,
    ) -> tuple[list[dict[str, Term]], bool]:
        """Rows of a SELECT as dicts (unbound variables left out), and whether the store was asked (not the cache).
        ``batch`` binds one variable to many IRIs at once through a VALUES block."""
        if batch is not None:
            variable, iris = batch
            text = inline_rows(text, [variable], [[t] for t in sorted(set(iris), key=str)])
        bound = sorted((v.value, str(t)) for v, t in (bindings or {}).items())
        key = hashlib.sha256(f"{text}\x1f{bound!r}".encode()).hexdigest()
        cached = self.row_cache.get(key)
        if cached is not None:
            return cached, False

        def job() -> list[dict[str, Term]]:
            self.store_queries += 1
            STORE_QUERIES.inc()
            result: Result | None = None
            try:
                result = self.backend.query(text, bindings)
                if not isinstance(result, ox.QuerySolutions):
                    raise QuerySyntaxError("expected a SELECT query")
                names = [v.value for v in result.variables]
                return [{n: row[n] for n in names if row[n] is not None} for row in result]
            except BaseException as exc:
                traceback.clear_frames(exc.__traceback__)
                raise
            finally:
                del result

        rows = await self._off_loop(job, text)
        self.row_cache.put(key, rows)
        return rows, True

    def remember(self, request: tuple[str, bytes, bytes], key: str, headers: Mapping[str, str]) -> None:
        """Note that this exact GET request is answered by the cached answer ``key`` with ``headers`` added, so a
        repeat can be served before routing."""
        if self.backend.cacheable and self.cache.entries:
            self.requests.put(request, (key, headers))

    def answered(self, request: tuple[str, bytes, bytes]) -> tuple[Answer, Mapping[str, str]] | None:
        found = self.requests.get(request)
        answer = None if found is None else self.cache.get(found[0])
        return None if answer is None or found is None else (answer, found[1])

    async def execute(self, plan: Plan, client: str | None = None) -> Answer:
        """The answer to ``plan``: from the cache, else run (in a sandbox when it is client text, charged to
        ``client``'s budget)."""
        cached = self.cache.get(plan.key)
        if cached is not None:
            return Answer(cached.body, cached.format, cached.etag, cached=True)
        if plan.untrusted and self.refusal is not None:
            raise BackendUnavailable(self.refusal)
        timeout = self.settings.query_timeout
        ticket = await self.budgets.acquire(client, timeout) if plan.untrusted and client is not None else None
        try:
            if plan.untrusted and self.pool is not None:
                body, fmt = await self._sandboxed(self.pool, plan)
            else:
                body, fmt = await self._off_loop(partial(self._run, plan), plan.text)
        finally:
            if ticket is not None:
                assert client is not None
                self.budgets.charge(client, ticket)
        answer = Answer(body, fmt, plan.etag)
        if self.backend.cacheable:
            self.cache.put(plan.key, answer)
        return answer

    async def _sandboxed(self, pool: SandboxPool, plan: Plan) -> tuple[bytes, Format]:
        self.store_queries += 1
        STORE_QUERIES.inc()
        request = {
            "text": plan.text,
            "default_graphs": plan.default_graphs,
            "named_graphs": plan.named_graphs,
            "base_iri": plan.base_iri,
            "media_type": plan.format.media_type if plan.format else None,
            "accept": plan.accept,
            "format_name": plan.format_name,
        }
        try:
            header, body = await pool.run(request, self.settings.query_timeout, plan.text)
        except QueryTimeout:
            self.timeouts += 1
            raise
        if not header.get("ok"):
            raise error_of(header, plan.text)
        fmt = FORMATS.get(str(header.get("media_type")))
        if fmt is None:
            raise error_of({"message": f"unknown media type {header.get('media_type')!r}"}, plan.text)
        return body, fmt

    async def _off_loop(self, job: Callable[[], T], text: str) -> T:
        """Run ``job`` on a query thread; at the deadline answer 503 and, under `kg serve`, retire this worker (the
        only way to stop a query in this process)."""
        try:
            return await asyncio.wait_for(self.workers.submit(job), self.settings.query_timeout)
        except TimeoutError:
            self.timeouts += 1
            QUERY_TIMEOUTS.inc()
            log.warning("query stopped at the %s s timeout: %.200s", self.settings.query_timeout, text)
            if self.retire is not None:
                self.retire()
            raise QueryTimeout(
                f"the query ran longer than {self.settings.query_timeout:g} s (KG_QUERY_TIMEOUT) and was stopped"
            ) from None

    def _run(self, plan: Plan) -> tuple[bytes, Format]:
        """Runs in a worker thread. pyoxigraph results must be dropped on the thread that made them, so nothing that
        refers to them (a local, a traceback frame) may leave this function."""
        self.store_queries += 1
        STORE_QUERIES.inc()
        result: Result | None = None
        try:
            result = self.backend.query(plan.text, plan.bindings, plan.default_graphs, plan.named_graphs, plan.base_iri)
            fmt = plan.format or format_for(result, plan.accept, plan.format_name)
            return serialize(result, fmt, self.caps), fmt
        except SyntaxError as exc:  # pyoxigraph parses lazily: some errors surface while iterating
            traceback.clear_frames(exc.__traceback__)
            raise QuerySyntaxError(syntax_message(exc)) from None
        except BaseException as exc:
            traceback.clear_frames(exc.__traceback__)
            raise
        finally:
            del result
