"""The search document (``queries/graphql/search.graphql``, what search-as-you-type sends) answered from the label
index alone, on the event loop, before GraphQL: a few SQLite lookups, no store query and no thread hop, so a search
never waits behind cards and pages being built (at 1M triples under mixed load, bench/search.py, its p50 went
from 90-240 ms to about 25-30 ms on a loaded two-core machine, for a label lookup of about 2 ms).

The answer is the one the GraphQL ``search`` field gives: the same hits from the same index, each entity's kind and
label as its card has them (recorded by `kg build` with the card builder itself: kg.graphql.recorded). Anything else
goes to GraphQL unchanged: another document, variables the field would refuse or default differently, an Origin
(CORS), the debug header, or a label index without the recorded heads (a store built before them, or no store)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kg.graphql.limits import MAX_PAGE
from kg.graphql.types import TYPES
from kg.graphql.view import DEBUG_HEADER, JSON, response_media
from kg.store.labels import LabelIndex, Match

BODY_LIMIT = 4096
"""Larger bodies are not the search document with its two variables."""
TEXT_LIMIT = 200
"""The longest text the search field accepts (longer is refused there, with its message)."""


def search_document(queries_dir: Path) -> str | None:
    """The search document of the queries folder (None without one: every search then goes to GraphQL)."""
    try:
        return (queries_dir / "graphql" / "search.graphql").read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


class SearchPath:
    def __init__(self, app: ASGIApp, document: str | None) -> None:
        self.app = app
        self.document = document
        self.typenames = {kind: cls.__strawberry_definition__.name for kind, cls in TYPES.items()}  # type: ignore[attr-defined]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.document is None or scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != "/graphql":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        length = headers.get(b"content-length", b"")
        labels = self.labels(scope)
        if (
            labels is None
            or not length.isdigit()
            or int(length) > BODY_LIMIT
            or headers.get(b"content-type", b"").decode("latin-1").split(";")[0].strip().lower() != JSON
            or b"origin" in headers
            or headers.get(DEBUG_HEADER.encode(), b"") in (b"1", b"true")
        ):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay(b"".join(chunks), message, receive), send)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        executor = scope["app"].state.executor
        answer = self.answer(labels, body, executor.release)
        if answer is None:
            await self.app(scope, _replay(body, None, receive), send)
            return
        media = response_media(headers.get(b"accept", b"").decode("latin-1"))
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", media.encode()),
                    (b"content-length", str(len(answer)).encode()),
                    (b"x-kg-release", executor.release.encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": answer})

    def labels(self, scope: Scope) -> LabelIndex | None:
        view = getattr(scope["app"].state, "graphql", None)
        services = getattr(view, "services", None)
        labels: LabelIndex | None = getattr(services, "labels", None)
        return labels if labels is not None and labels.has_heads() else None

    def answer(self, labels: LabelIndex, body: bytes, release: str) -> bytes | None:
        """The JSON answer to ``body`` if it is the search document with variables the field accepts as given."""
        try:
            request = json.loads(body)
        except (ValueError, RecursionError):  # GraphQL's view says what is wrong with it
            return None
        if not isinstance(request, dict) or request.get("query") != self.document:
            return None
        if set(request) - {"query", "variables", "operationName"} or request.get("operationName") not in (
            None,
            "Search",
        ):
            return None
        variables: Any = request.get("variables") or {}
        if not isinstance(variables, dict) or set(variables) - {"text", "first"}:
            return None
        text, first = variables.get("text"), variables.get("first", 10)  # the document's default
        if not isinstance(text, str) or len(text) > TEXT_LIMIT or not _utf8(text):
            return None
        if isinstance(first, bool) or not isinstance(first, int) or not 0 <= first <= MAX_PAGE:
            return None
        hits = labels.search(text, (), first)
        heads = labels.heads(h.entity for h in hits)
        found = []
        for hit in hits:
            head = heads.get(hit.entity)
            if head is None or head[0] not in self.typenames:
                continue
            kind, label = head
            entity = {"id": hit.entity, "label": label, "__typename": self.typenames[kind]}
            found.append({"match": Match(hit.match).name, "matched": hit.label, "entity": entity})
        answer = {"data": {"search": found}, "extensions": {"release": release}}
        return json.dumps(answer, separators=(",", ":")).encode()


def _utf8(text: str) -> bool:
    """Whether ``text`` is UTF-8 text (no lone surrogate, which the view refuses with 400)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _replay(body: bytes, pending: Message | None, receive: Receive) -> Receive:
    """``receive`` as if nothing had been read: the body first (and the message read after it, if any)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent, pending
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": pending is not None}
        if pending is not None:
            message, pending = pending, None
            return message
        return await receive()

    return replay
