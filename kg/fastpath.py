"""Repeated requests answered before routing. An exact repeat of a GET to /sparql or /queries/{name} whose answer is
cached is sent straight from the cache, with its ETag (or 304); so is an exact repeat of a GraphQL POST whose answer
had no errors. Data never changes within a release, so this is the same answer the full stack would give, for a
fraction of the work."""

from __future__ import annotations

import hashlib
from collections import OrderedDict

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kg.executor import Executor

GRAPHQL_BODY_LIMIT = 64 * 1024


def request_key(scope: Scope) -> tuple[str, bytes, bytes] | None:
    """(path, query string, Accept) of a plain GET to a query route; None for anything else (CORS, conditional...)."""
    if scope["type"] != "http" or scope["method"] != "GET":
        return None
    path: str = scope["path"]
    if path != "/sparql" and not path.startswith("/queries/"):
        return None
    accept = b""
    for name, value in scope["headers"]:
        if name == b"accept":
            accept = value
        elif name == b"origin":
            return None  # CORS responses take the full path
    return path, scope["query_string"], accept


class FastPath:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == "/graphql":
            await self.graphql(scope, receive, send)
            return
        key = request_key(scope)
        if key is not None:
            executor: Executor | None = getattr(scope["app"].state, "executor", None)
            answer = executor.answered(key) if executor is not None else None
            if answer is not None and executor is not None:
                etag = answer.etag.encode()
                headers = [
                    (b"etag", etag),
                    (b"x-kg-release", executor.release.encode()),
                    (b"cache-control", b"public, no-cache"),
                    (b"vary", b"Accept"),
                ]
                if any(name == b"if-none-match" and etag in value for name, value in scope["headers"]):
                    await send({"type": "http.response.start", "status": 304, "headers": headers})
                    await send({"type": "http.response.body", "body": b""})
                    return
                headers += [
                    (b"content-type", answer.format.content_type.encode()),
                    (b"content-length", str(len(answer.body)).encode()),
                ]
                await send({"type": "http.response.start", "status": 200, "headers": headers})
                await send({"type": "http.response.body", "body": answer.body})
                return
        await self.app(scope, receive, send)

    async def graphql(self, scope: Scope, receive: Receive, send: Send) -> None:
        executor: Executor | None = getattr(scope["app"].state, "executor", None)
        headers = dict(scope["headers"])
        length = headers.get(b"content-length", b"")
        cacheable = (
            executor is not None
            and executor.backend.cacheable
            and executor.cache.entries > 0
            and length.isdigit()
            and int(length) <= GRAPHQL_BODY_LIMIT
            and b"origin" not in headers
            and headers.get(b"x-kg-debug", b"") not in (b"1", b"true")
        )
        if not cacheable or executor is None:
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
        key = hashlib.sha256(body).hexdigest()
        answers: OrderedDict[str, bytes] = executor.graphql_answers
        cached = answers.get(key)
        release = executor.release.encode()
        if cached is not None:
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(cached)).encode()),
                        (b"x-kg-release", release),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": cached})
            return

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        status = 0
        parts: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", []), (b"x-kg-release", release)]}
            elif message["type"] == "http.response.body":
                parts.append(message.get("body", b""))
            await send(message)

        await self.app(scope, replay, capture)
        answer = b"".join(parts)
        if status == 200 and b'"errors"' not in answer:
            answers[key] = answer
            while len(answers) > executor.cache.entries:
                answers.popitem(last=False)
