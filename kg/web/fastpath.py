"""Repeated requests answered before routing. Data never changes within a release, so a repeat gets the same answer
the full stack would give, for a fraction of the work:

- an exact repeat of a GET whose route remembered its answer (a query, a resource description, a page) is sent from
  the answer cache with the route's headers, or answered 304;
- an exact repeat of a GraphQL POST of JSON (the same body, with an Accept that gets the same media type) whose
  answer had no errors replays that answer, in that media type."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kg.execution.executor import Executor
from kg.graphql.view import JSON, response_media

Key = tuple[str, bytes, bytes]

GRAPHQL_BODY_LIMIT = 64 * 1024


def request_key(scope: Scope) -> Key | None:
    """(path, query string, Accept) of a plain GET; None for anything else (CORS, conditional...)."""
    if scope["type"] != "http" or scope["method"] != "GET":
        return None
    accept = b""
    for name, value in scope["headers"]:
        if name == b"accept":
            accept = value
        elif name == b"origin":
            return None  # CORS responses take the full path
    return scope["path"], scope["query_string"], accept


def _conditional(scope: Scope, etag: bytes) -> bool:
    return any(name == b"if-none-match" and etag in value for name, value in scope["headers"])


async def _send(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _capture(
    app: ASGIApp, scope: Scope, receive: Receive, send: Send, extra: list[tuple[bytes, bytes]]
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Run the app, passing its response on (with ``extra`` headers), and return what it sent."""
    status = 0
    headers: list[tuple[bytes, bytes]] = []
    parts: list[bytes] = []

    async def capture(message: Message) -> None:
        nonlocal status, headers
        if message["type"] == "http.response.start":
            status = message["status"]
            headers = [*message.get("headers", []), *extra]
            message = {**message, "headers": headers}
        elif message["type"] == "http.response.body":
            parts.append(message.get("body", b""))
        await send(message)

    await app(scope, receive, capture)
    return status, headers, b"".join(parts)


async def replay(executor: Executor, scope: Scope, send: Send, last: Sequence[tuple[bytes, bytes]] = ()) -> int | None:
    """Send the remembered answer of a repeated GET (200, or 304 when the client has it), with ``last`` headers
    after the route's; the status sent, or None when this request is not one remembered."""
    key = request_key(scope)
    found = executor.answered(key) if key is not None else None
    if found is None:
        return None
    answer, extra = found
    etag = answer.etag.encode()
    headers = [
        (b"etag", etag),
        (b"x-kg-release", executor.release.encode()),
        (b"cache-control", b"public, no-cache"),
        (b"vary", b"Accept, Origin"),  # as the full stack, where the CORS middleware adds Origin
        *((name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in extra.items()),
    ]
    if _conditional(scope, etag):
        await _send(send, 304, [*headers, *last], b"")
        return 304
    headers += [
        (b"content-type", answer.format.content_type.encode()),
        (b"content-length", str(len(answer.body)).encode()),
        *last,
    ]
    await _send(send, 200, headers, answer.body)
    return 200


class FastPath:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        executor: Executor | None = getattr(scope["app"].state, "executor", None)
        if executor is None or not executor.backend.cacheable or executor.cache.entries == 0:
            await self.app(scope, receive, send)
            return
        if scope["method"] == "POST" and scope["path"] == "/graphql":
            await self.graphql(executor, scope, receive, send)
            return
        if await replay(executor, scope, send) is None:
            await self.app(scope, receive, send)

    async def graphql(self, executor: Executor, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope["headers"])
        length = headers.get(b"content-length", b"")
        content_type = headers.get(b"content-type", b"").decode("latin-1")
        accept = headers.get(b"accept", b"").decode("latin-1")
        cacheable = (
            content_type.split(";")[0].strip().lower() == JSON
            and length.isdigit()
            and int(length) <= GRAPHQL_BODY_LIMIT
            and b"origin" not in headers
            and headers.get(b"x-kg-debug", b"") not in (b"1", b"true")
        )
        if not cacheable:
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, receive, send)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        media = response_media(accept)
        key = hashlib.sha256(media.encode() + b"\x1f" + body).hexdigest()
        cached = executor.graphql_answers.get(key)
        release = executor.release.encode()
        if cached is not None:
            headers_out = [
                (b"content-type", media.encode()),
                (b"content-length", str(len(cached)).encode()),
                (b"x-kg-release", release),
            ]
            await _send(send, 200, headers_out, cached)
            return

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        status, _, answer = await _capture(self.app, scope, replay, send, [(b"x-kg-release", release)])
        if status == 200 and b'"errors"' not in answer:
            executor.graphql_answers.put(key, answer)
