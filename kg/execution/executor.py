"""Running a query for a client: refuse what must not run, negotiate the format, answer repeated queries from a
cache, run new ones in a worker thread with a deadline, and serialize within the size caps.

pyoxigraph cannot cancel a running query, but it releases the GIL while it works, so a query runs in a thread and the
event loop keeps serving. At the deadline the client gets 503 and, under ``kg serve``, the worker process retires:
it finishes its other requests and exits, which is what stops the runaway query; the supervisor starts a fresh one.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import logging
import queue
import threading
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

import pyoxigraph as ox

from kg.errors import BadRequest, Forbidden, NotAcceptable, QuerySyntaxError, QueryTimeout, ResultTooLarge
from kg.lru import Lru
from kg.metrics import CACHE, QUERY_TIMEOUTS, STORE_QUERIES
from kg.namespaces import PREFIXES
from kg.queries.formats import GRAPHS, RESULTS, Format, by_name, negotiate
from kg.queries.text import (
    check_depth,
    dataset_clauses,
    inline_rows,
    lex,
    line_column,
    looks_like_update,
    query_form,
    service_calls,
)
from kg.settings import Settings
from kg.store.backends import Backend, Bindings, Result, syntax_message

if TYPE_CHECKING:
    from typing_extensions import Buffer

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


PREFIXED = (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG)
"""Graph formats written with the graph's prefixes (those a person reads)."""
_NAMESPACES = {iri: name for name, iri in PREFIXES.items()}


def used_prefixes(triples: Sequence[ox.Triple]) -> dict[str, str]:
    """The prefixes of kg.namespaces that the IRIs of ``triples`` use (each namespace ends with # or /)."""
    used: dict[str, str] = {}
    for triple in triples:
        for term in (triple.subject, triple.predicate, triple.object):
            if isinstance(term, ox.NamedNode):
                iri = term.value
                cut = max(iri.rfind("#"), iri.rfind("/")) + 1
                name = _NAMESPACES.get(iri[:cut])
                if name is not None:
                    used[name] = iri[:cut]
    return used


class _CappedWriter(io.BytesIO):
    """A binary sink for pyoxigraph's serializers that refuses to grow past ``limit`` bytes."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def write(self, data: Buffer, /) -> int:
        if self.tell() + len(memoryview(data)) > self.limit:
            raise ResultTooLarge(f"the answer is larger than {self.limit} bytes (KG_MAX_RESULT_BYTES); add a LIMIT")
        return super().write(data)


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
    def __init__(self, backend: Backend, settings: Settings, retire: Callable[[], None] | None = None) -> None:
        self.backend = backend
        self.settings = settings
        self.retire = retire
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
        if lexed.unterminated is not None:
            raise QuerySyntaxError(
                f"malformed query: the string that starts at {line_column(text, lexed.unterminated)} never ends"
            )
        if looks_like_update(lexed):
            raise Forbidden("this endpoint is read-only: SPARQL updates are refused")
        clauses = dataset_clauses(lexed)
        if clauses and (default_graphs or named_graphs):
            raise BadRequest(
                f"the query has a {clauses[0]} clause and the request names graphs (default-graph-uri or "
                "named-graph-uri): give the dataset one way, not both"
            )
        form = query_form(lexed)
        fmt = None
        if form is not None:
            offers, what = (RESULTS, "query results") if form in ("SELECT", "ASK") else (GRAPHS, "a graph")
            fmt = by_name(format_name, offers, what) if format_name else negotiate(accept, offers, what)
        terms = sorted((v.value, str(t)) for v, t in (bindings or {}).items())
        key_parts = [
            self.release,
            text,
            repr(terms),
            repr(tuple(default_graphs)),
            repr(tuple(named_graphs)),
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

    async def execute(self, plan: Plan) -> Answer:
        cached = self.cache.get(plan.key)
        if cached is not None:
            return Answer(cached.body, cached.format, cached.etag, cached=True)
        body, fmt = await self._off_loop(partial(self._run, plan), plan.text)
        answer = Answer(body, fmt, plan.etag)
        if self.backend.cacheable:
            self.cache.put(plan.key, answer)
        return answer

    async def _off_loop(self, job: Callable[[], T], text: str) -> T:
        """Run ``job`` on a query thread; at the deadline answer 503 and, under `kg serve`, retire this worker."""
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
            result = self.backend.query(plan.text, plan.bindings, plan.default_graphs, plan.named_graphs)
            fmt = plan.format or self._format_for(result, plan)
            return self.serialize(result, fmt), fmt
        except SyntaxError as exc:  # pyoxigraph parses lazily: some errors surface while iterating
            traceback.clear_frames(exc.__traceback__)
            raise QuerySyntaxError(syntax_message(exc)) from None
        except BaseException as exc:
            traceback.clear_frames(exc.__traceback__)
            raise
        finally:
            del result

    def _format_for(self, result: Result, plan: Plan) -> Format:
        graph = isinstance(result, (ox.QueryTriples, list))
        offers, what = (GRAPHS, "a graph") if graph else (RESULTS, "query results")
        if plan.format_name:
            return by_name(plan.format_name, offers, what)
        return negotiate(plan.accept, offers, what)

    def serialize(self, result: Result, fmt: Format) -> bytes:
        sink = _CappedWriter(self.settings.max_result_bytes)
        try:
            if isinstance(result, list):
                if fmt.rdf is None:
                    raise NotAcceptable(f"a graph cannot be served as {fmt.media_type}")
                ox.serialize(result, sink, fmt.rdf)
            elif isinstance(result, ox.QueryTriples):
                if fmt.rdf is None:
                    raise NotAcceptable(f"a graph cannot be served as {fmt.media_type}")
                if fmt.rdf in PREFIXED:  # for people: the graph's prefixes, triples sorted and grouped by subject
                    triples = sorted(
                        self._bounded(result), key=lambda t: (str(t.subject), str(t.predicate), str(t.object))
                    )
                    ox.serialize(triples, sink, fmt.rdf, prefixes=used_prefixes(triples))
                else:
                    result.serialize(sink, fmt.rdf)
            else:
                if fmt.results is None:
                    raise NotAcceptable(f"query results cannot be served as {fmt.media_type}")
                result.serialize(sink, fmt.results)
        except OSError as exc:
            cause = exc.__cause__ or exc.__context__
            if isinstance(cause, ResultTooLarge):
                raise cause from None
            raise
        body = sink.getvalue()
        self._check_rows(body, fmt)
        return body

    def _bounded(self, triples: ox.QueryTriples) -> list[ox.Triple]:
        """The triples of a CONSTRUCT or DESCRIBE, refused past KG_MAX_ROWS while they are read."""
        kept: list[ox.Triple] = []
        for triple in triples:
            kept.append(triple)
            if len(kept) > self.settings.max_rows:
                raise ResultTooLarge(
                    f"the answer has more than {self.settings.max_rows} rows (KG_MAX_ROWS); add a LIMIT"
                )
        return kept

    def _check_rows(self, body: bytes, fmt: Format) -> None:
        """Refuse answers of more than KG_MAX_ROWS rows. A row takes at least one byte in TSV (an empty row is a line
        feed), two in CSV and three in the other formats, so only bodies larger than that many rows need counting."""
        limit = self.settings.max_rows
        smallest = {ox.QueryResultsFormat.TSV: 1, ox.QueryResultsFormat.CSV: 2}.get(fmt.results, 3)  # type: ignore[arg-type]
        if len(body) <= limit * smallest:
            return
        if fmt.rdf is not None:
            rows = sum(1 for _ in ox.parse(body, fmt.rdf))
        elif fmt.results is ox.QueryResultsFormat.CSV:
            rows = max(0, sum(1 for _ in csv.reader(io.StringIO(body.decode("utf-8"), newline=""))) - 1)
        elif fmt.results is ox.QueryResultsFormat.TSV:  # a TSV term never holds a raw line feed
            rows = max(0, body.count(b"\n") - 1)
        else:
            assert fmt.results is not None
            parsed = ox.parse_query_results(body, fmt.results)
            rows = 0 if isinstance(parsed, ox.QueryBoolean) else sum(1 for _ in parsed)
        if rows > limit:
            raise ResultTooLarge(f"the answer has {rows} rows, more than {limit} (KG_MAX_ROWS); add a LIMIT")
