"""HTTP limits that must hold before the application sees a request: the total size of a request's head (431), how
long a client may take to send it and then its body (408), and the size of a body however it is framed (413,
chunked included).

uvicorn's httptools protocol keeps every header it is sent and waits for them without a deadline (only its h11
protocol has a size cap), so ``LimitedHttpTools`` counts the bytes of the request line and headers as the parser
hands them over and answers 431 as soon as they pass ``KG_MAX_HEADER_BYTES``, before buffering more.

Past uvicorn's ``limit_concurrency`` (KG_MAX_CONNECTIONS) uvicorn answers a request with its own 503 (plain text, no
``Retry-After``) when the worker holds that many connections, idle keep-alive ones and the request's own included, or
runs that many requests; ``LimitedHttpTools`` answers it instead with a problem document that names the setting and
``Retry-After``, and closes the connection as uvicorn does, which frees its place.
"""

from __future__ import annotations

import asyncio
import json
import re
from functools import cache
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn._types import ASGI3Application, ASGIReceiveCallable, ASGISendCallable
from uvicorn._types import Scope as AnyScope
from uvicorn.protocols.http.flow_control import service_unavailable
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

from kg.errors import PayloadTooLarge
from kg.settings import Settings


@cache
def _settings() -> Settings:
    return Settings()


def _refusal(status: int, reason: str, detail: str) -> bytes:
    body = json.dumps({"type": "about:blank", "title": reason, "status": status, "detail": detail}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/problem+json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


class LimitedHttpTools(HttpToolsProtocol):
    """uvicorn's httptools protocol with a cap on the size of the request head and a deadline for sending it. The
    bytes are counted as they arrive, before the parser (which buffers a header until it is complete) sees them. One
    timer per connection, re-armed when it fires, watches the deadline (not one per request: repeats stay cheap)."""

    reading_head = True
    head_bytes = 0
    head_started: float | None = None
    tail = b""
    refused = False
    head_timer: asyncio.TimerHandle | None = None
    body_started: float | None = None
    """When the head of a request with a body was in, until its body is (a slow body holds a connection too)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.head_started = self.loop.time()
        self._arm(_settings().header_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.refused:
            return
        if self.reading_head:
            if self.head_started is None:
                self.head_started = self.loop.time()
            limit = _settings().max_header_bytes
            over = self.head_bytes + len(data) > limit
            if over and b"\r\n\r\n" not in self.tail + data[: max(0, limit - self.head_bytes) + 4]:
                self._refuse(
                    431,
                    "Request Header Fields Too Large",
                    f"the request line and headers are larger than {limit} bytes (KG_MAX_HEADER_BYTES)",
                )
                return
            self.head_bytes += len(data)
            self.tail = data[-3:] if len(data) >= 3 else (self.tail + data)[-3:]
        super().data_received(data)

    def on_headers_complete(self) -> None:
        self.reading_head = False
        self.head_started = None
        super().on_headers_complete()
        if _has_body(self.headers):
            self.body_started = self.loop.time()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self.body_started = None
        self.reading_head = True  # whatever comes next on this connection is the head of the next request
        self.head_bytes = 0
        self.tail = b""

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: ASGI3Application) -> None:
        super()._start_asgi_task(cycle, too_many_connections if app is service_unavailable else app)

    def _refuse(self, status: int, reason: str, detail: str) -> None:
        self.refused = True
        self._disarm()
        if not self.transport.is_closing():
            self.transport.write(_refusal(status, reason, detail))
            self.transport.close()

    def _arm(self, delay: float) -> None:
        self.head_timer = self.loop.call_later(delay, self._watch)

    def _disarm(self) -> None:
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None

    def _watch(self) -> None:
        self.head_timer = None
        if self.refused or self.transport.is_closing():
            return
        timeout = _settings().header_timeout
        if self.reading_head and self.head_started is not None:
            waited = self.loop.time() - self.head_started
            if waited >= timeout:
                self._refuse(408, "Request Timeout", f"the request head was not received within {timeout:g} s")
                return
            self._arm(timeout - waited)
            return
        if self.body_started is not None:
            limit = _settings().body_timeout
            waited = self.loop.time() - self.body_started
            if waited < limit:
                self._arm(min(timeout, limit - waited))
                return
            cycle = self.cycle
            if cycle is None or not cycle.response_started:
                self._refuse(408, "Request Timeout", f"the request body was not received within {limit:g} s")
                return
            if cycle.response_complete:  # answered without reading the body: the rest of it is never read
                self.refused = True
                self.transport.close()
                return
            self._arm(timeout)  # an answer is under way while the body still comes: it closes or completes
            return
        self._arm(timeout)


def _has_body(headers: list[tuple[bytes, bytes]]) -> bool:
    for name, value in headers:
        if name == b"transfer-encoding" or (name == b"content-length" and value.strip() not in (b"0", b"")):
            return True
    return False


class BodyLimit:
    """Refuse a request body larger than ``limit`` bytes with 413, whether it declares its length or is chunked: the
    body is counted as the application reads it, and the route's error handler answers."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problem = query_string_problem(scope["query_string"])
        if problem is not None:
            await send_refusal(send, 400, "Bad Request", problem)
            return
        if not any(name in (b"content-length", b"transfer-encoding") for name, _ in scope["headers"]):
            await self.app(scope, receive, send)  # no body to count (the fast path of repeated GETs stays fast)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise PayloadTooLarge(f"request body is larger than {self.limit} bytes (KG_MAX_BODY_BYTES)")
            return message

        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except PayloadTooLarge as exc:  # raised where no route maps it (a middleware reading the body)
            if started:
                raise
            await send_refusal(send, 413, "Content Too Large", exc.message)


_HIGH_ESCAPE = re.compile(rb"%[89A-Fa-f]")


async def too_many_connections(scope: AnyScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
    """uvicorn's answer past KG_MAX_CONNECTIONS, as a problem document with Retry-After."""
    limit = _settings().max_connections
    detail = (
        f"this server process already holds {limit} connections or requests (KG_MAX_CONNECTIONS); retry in a second"
    )
    body = json.dumps({"type": "about:blank", "title": "Service Unavailable", "status": 503, "detail": detail}).encode()
    headers = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", b"1"),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def query_string_problem(query: bytes) -> str | None:
    """Why a query string cannot be read as UTF-8 (Starlette would silently put U+FFFD in its place), or None."""
    if query.isascii() and _HIGH_ESCAPE.search(query) is None:
        return None  # only %80-%FF escapes or raw bytes above 127 can be non-UTF-8
    raw = unquote_to_bytes(query.replace(b"+", b" "))
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"the query string is not valid UTF-8 (byte {exc.start} once percent-decoded); encode it as UTF-8"
    return None


async def send_refusal(send: Send, status: int, title: str, detail: str) -> None:
    body = json.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail}).encode()
    headers = [(b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
