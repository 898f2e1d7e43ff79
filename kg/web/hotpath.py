"""The ``/sparql`` hot path: queries from programs answered as plain ASGI at the top of the middleware stack, ahead of
the request-id, body-limit, fast-path and CORS middleware, the router and Starlette's request and response objects,
with what the full route gives them: the same parsing and refusals (kg.web.sparql), body limit, error documents,
cache and ETag headers, request id, metrics and access log.

Requests it does not take go down the full stack unchanged: other paths and methods; a browser (an Accept naming HTML
first: results page, YASGUI, HTML error pages); a cross-origin request (CORS headers); a GET without a query (the
service description); a query string that is not UTF-8 (refused there); anything before the app has started.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Sequence
from urllib.parse import parse_qsl

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Receive, Scope, Send

from kg.errors import BadRequest, KgError, PayloadTooLarge
from kg.execution.executor import Executor
from kg.queries.formats import known, parse_accept
from kg.settings import Settings
from kg.web.fastpath import replay, request_key
from kg.web.limits import query_string_problem
from kg.web.observability import record, request_id_of
from kg.web.sparql import (
    LONG_TEXT,
    body_params,
    cache_headers,
    client_plan,
    query_text,
    refuse_update,
    scope_endpoint_iri,
)

log = logging.getLogger("kg.web.hotpath")
Headers = list[tuple[bytes, bytes]]
PROBLEM = b"application/problem+json"


class _Request:
    """What the hot path reads from a request's headers, in one pass."""

    __slots__ = ("accept", "chunked", "content_length", "content_type", "if_none_match", "taken")

    def __init__(self, headers: Headers) -> None:
        self.accept: bytes | None = None
        self.content_type = b""
        self.content_length: bytes | None = None
        self.chunked = False
        self.if_none_match: bytes | None = None
        self.taken = True
        for name, value in headers:
            if name == b"accept":
                self.accept = value
            elif name == b"content-type":
                self.content_type = value
            elif name == b"content-length":
                self.content_length = value
            elif name == b"transfer-encoding":
                self.chunked = True
            elif name == b"if-none-match":
                self.if_none_match = value
            elif name == b"origin":
                self.taken = False  # CORS: the full stack adds its headers
        if self.accept is not None and _html_first(self.accept):
            self.taken = False  # a browser: results page, YASGUI or an HTML error page


def _html_first(accept: bytes) -> bool:
    """As kg.web.pages.routes.prefers_html: the first type accepted (q > 0) is HTML."""
    if b"html" not in accept:
        return False
    for media, q in parse_accept(accept.decode("latin-1")):
        if q > 0:
            return media in ("text/html", "application/xhtml+xml")
    return False


class SparqlHotPath:
    taken = 0
    """Requests answered here since the process started (the rest went down the full stack)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/sparql" or scope["method"] not in ("GET", "POST"):
            await self.app(scope, receive, send)
            return
        executor: Executor | None = getattr(scope["app"].state, "executor", None)
        request = _Request(scope["headers"])
        if executor is None or not request.taken:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = request_id_of(scope["headers"])
        last = [(b"x-request-id", request_id.encode())]
        if scope["method"] == "GET":  # an exact repeat first: its query string was read when it was remembered
            replayed = await replay(executor, scope, send, last)
            if replayed is not None:
                SparqlHotPath.taken += 1
                record(scope, replayed, time.perf_counter() - started, request_id)
                return
        if query_string_problem(scope["query_string"]) is not None:
            await self.app(scope, receive, send)
            return
        params = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
        if scope["method"] == "GET" and not any(name in ("query", "update") for name, _ in params):
            await self.app(scope, receive, send)  # the service description
            return
        SparqlHotPath.taken += 1
        status = 500
        try:
            status = await self.answer(executor, scope, receive, send, request, params, last)
        except KgError as exc:
            status = exc.status
            retry_after = getattr(exc, "retry_after", None)
            first = [(b"retry-after", str(retry_after or 1).encode())] if status in (429, 503) else []
            await _problem(send, status, exc.title, exc.message, first, last)
        except ClientDisconnect:
            status = 400  # nobody to answer
        except Exception as exc:
            incident = uuid.uuid4().hex[:12]
            log.error("unexpected error %s on %s %s", incident, scope["method"], scope["path"], exc_info=exc)
            detail = f"an unexpected error occurred (incident {incident})"
            await _problem(send, 500, "Internal Server Error", detail, [], last)
        finally:
            record(scope, status, time.perf_counter() - started, request_id)

    async def answer(
        self,
        executor: Executor,
        scope: Scope,
        receive: Receive,
        send: Send,
        request: _Request,
        params: list[tuple[str, str]],
        last: Headers,
    ) -> int:
        settings: Settings = scope["app"].state.settings
        method = scope["method"]
        if method == "POST":
            content_type = request.content_type.decode("latin-1")
            refuse_update(content_type)
            body = await _read_body(receive, request, settings.max_body_bytes)
            params = body_params(params, content_type, body)
        text = query_text(params, method, settings)
        assert text is not None  # a GET without a query went down the full stack
        format_name = known([v for n, v in params if n == "format"])
        accept = None if request.accept is None else request.accept.decode("latin-1")
        base_iri = scope_endpoint_iri(scope)
        if len(text) <= LONG_TEXT:
            plan = client_plan(executor, text, params, accept, base_iri, format_name)
        else:
            plan = await asyncio.to_thread(client_plan, executor, text, params, accept, base_iri, format_name)
        headers = [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in cache_headers(plan.etag, executor.release).items()
        ]
        headers[-1] = (b"vary", b"Accept, Origin")  # as the full stack, where the CORS middleware adds Origin
        if _unchanged(request.if_none_match, plan.etag):
            await _send(send, 304, [*headers, *last], b"")
            return 304
        client = (scope.get("client") or ("unknown", 0))[0]
        result = await executor.execute(plan, client)
        key = request_key(scope)
        if key is not None:
            executor.remember(key, plan.key, {})
        headers += [
            (b"content-length", str(len(result.body)).encode()),
            (b"content-type", result.format.content_type.encode()),
            *last,
        ]
        await _send(send, 200, headers, result.body)
        return 200


def _unchanged(tags: bytes | None, etag: str) -> bool:
    """As kg.web.sparql.not_modified."""
    if not tags:
        return False
    text = tags.decode("latin-1")
    return text.strip() == "*" or etag in [t.strip() for t in text.split(",")]


async def _read_body(receive: Receive, request: _Request, limit: int) -> bytes:
    """As kg.web.sparql.read_body (with the counting of kg.web.limits.BodyLimit): refused with 413 as soon as it
    passes ``limit`` bytes."""
    declared = request.content_length
    if declared is not None:
        try:
            too_big = int(declared) > limit
        except ValueError:
            raise BadRequest(f"Content-Length {declared.decode('latin-1')!r} is not a number") from None
        if too_big:
            raise PayloadTooLarge(
                f"request body of {declared.decode('latin-1')} bytes is larger than {limit} bytes (KG_MAX_BODY_BYTES)"
            )
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"request body is larger than {limit} bytes (KG_MAX_BODY_BYTES)")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _send(send: Send, status: int, headers: Headers, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _problem(
    send: Send, status: int, title: str, detail: str, first: Sequence[tuple[bytes, bytes]], last: Headers
) -> None:
    """The problem document kg.app.problem answers with, byte for byte, and its headers."""
    document = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    body = json.dumps(document, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")).encode()
    headers = [
        *first,
        (b"content-length", str(len(body)).encode()),
        (b"content-type", PROBLEM),
        (b"vary", b"Origin"),
        *last,
    ]
    await _send(send, status, headers, body)
