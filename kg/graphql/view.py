"""The GraphQL endpoint at ``/graphql``: strawberry's ASGI view with a typed per-request context, automatic
persisted queries (by SHA-256, with an optional allow-list for production), a body-size cap and GraphiQL, speaking
GraphQL over HTTP: a client that accepts ``application/graphql-response+json`` gets it, and with it a 400 without a
``data`` entry when the request fails before execution (parse, validation or variable coercion errors); a client of
``application/json`` (or of anything, or that says nothing) gets that, with 200 for every well-formed request."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from cross_web import HTTPException
from graphql import ExecutionResult, GraphQLError
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.types import ExecutionResult as Outcome

from kg.errors import QueryTimeout
from kg.graphql.context import Context, Services
from kg.graphql.schema import build_schema
from kg.lru import Lru
from kg.queries.formats import parse_accept

DEBUG_HEADER = "x-kg-debug"
MISSING = "kgPersistedQueryNotFound"
GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


def response_media(accept: str | None) -> str:
    """The media type of a GraphQL answer for this Accept header: application/graphql-response+json when the client
    accepts it at least as much as application/json, else application/json (also for */*, or no Accept)."""
    best, best_q = JSON, 0.0
    for media, q in parse_accept(accept):
        if q <= 0:
            continue
        if media == GRAPHQL_RESPONSE and q >= best_q:
            best, best_q = GRAPHQL_RESPONSE, q
        elif media in (JSON, "application/*", "*/*") and q > best_q:
            best, best_q = JSON, q
    return best


def request_failed(errors: list[GraphQLError] | None, data: object) -> bool:
    """True when the operation never ran: no data, and only request errors (parse, validation, variable coercion),
    which unlike field errors have no path."""
    return data is None and bool(errors) and all(e.path is None for e in errors or [])


def allowed_documents(directory: Path) -> dict[str, str]:
    """The operations of ``directory/*.graphql`` by the SHA-256 of their text (the production allow-list)."""
    documents = {}
    for path in sorted(directory.glob("*.graphql")) if directory.is_dir() else []:
        text = path.read_text(encoding="utf-8")
        documents[hashlib.sha256(text.encode("utf-8")).hexdigest()] = text
    return documents


MAX_JSON_DEPTH = 64
"""Deepest nesting of arrays and objects accepted in a GraphQL request body."""


def json_depth(value: object) -> int:
    """How deep arrays and objects nest in ``value`` (iterative: no recursion to overflow)."""
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            items: list[object] = list(item.values())
        elif isinstance(item, list):
            items = item
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_JSON_DEPTH:
            return deepest
        stack.extend((child, depth + 1) for child in items)
    return deepest


class GraphQLView(GraphQL[Context, None]):
    def __init__(
        self,
        services: Services,
        *,
        debug: bool,
        max_body_bytes: int,
        max_result_bytes: int = 64_000_000,
        deadline: float = 10.0,
        allowlist: dict[str, str] | None,
        persisted_entries: int = 2048,
        persisted_bytes: int = 16_000_000,
        ide: Callable[[Request], Awaitable[Response]] | None = None,
    ) -> None:
        super().__init__(build_schema(mask=not debug), graphql_ide="graphiql", allow_queries_via_get=True)
        self.services = services
        self.ide = ide
        self.debug_all = debug
        self.max_body_bytes = max_body_bytes
        self.max_result_bytes = max_result_bytes
        self.deadline = deadline
        self.allowlist = allowlist
        self.persisted: Lru[str, str] = Lru(max(persisted_entries, len(allowlist or {})), persisted_bytes)
        for digest, text in (allowlist or {}).items():
            self.persisted.put(digest, text)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        response: Response
        try:
            response = await self.run(request)
        except HTTPException as e:
            response = PlainTextResponse(e.reason, status_code=e.status_code)
        media = getattr(request.state, "graphql_media", None)
        if media is not None and response.media_type == JSON:
            response.headers["content-type"] = media
            response.status_code = getattr(request.state, "graphql_status", response.status_code)
        await response(scope, receive, send)

    async def render_graphql_ide(self, request: Request) -> Response:
        """The GraphiQL page: the web layer's (pinned files, CSP) when one is given, else strawberry's own."""
        if self.ide is not None:
            return await self.ide(request)
        return await super().render_graphql_ide(request)

    async def process_result(self, request: Request | Any, result: Outcome) -> GraphQLHTTPResponse:
        """The answer, shaped for the media type the client accepts (noted on the request for ``__call__``)."""
        answer = await super().process_result(request, result)
        if response_media(request.headers.get("accept")) == GRAPHQL_RESPONSE:
            request.state.graphql_media = GRAPHQL_RESPONSE
            if request_failed(result.errors, result.data):
                answer.pop("data", None)
                request.state.graphql_status = 400
        return answer

    def parse_json(self, data: str | bytes) -> Any:
        """The request's JSON, refused with 400 unless it is UTF-8, parses, is an object (or a list, refused later as
        a batch), nests at most MAX_JSON_DEPTH deep and holds no lone surrogate."""
        try:
            text = data.decode("utf-8") if isinstance(data, bytes) else data
        except UnicodeDecodeError as exc:
            raise HTTPException(400, f"the request body is not valid UTF-8 (byte {exc.start})") from None
        try:
            value = json.loads(text)
        except RecursionError:
            raise HTTPException(400, f"the request body nests deeper than {MAX_JSON_DEPTH} levels") from None
        except ValueError as exc:  # malformed, or an integer of more than 4300 digits
            raise HTTPException(400, f"the request body is not valid JSON ({str(exc)[:120]})") from None
        if not isinstance(value, (dict, list)):
            raise HTTPException(400, f"the request body is a JSON {type(value).__name__}; expected an object")
        if json_depth(value) > MAX_JSON_DEPTH:
            raise HTTPException(400, f"the request body nests deeper than {MAX_JSON_DEPTH} levels")
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise HTTPException(
                400, "the request body holds a lone surrogate (\\ud800-\\udfff); send UTF-8 text"
            ) from None
        return value

    def encode_json(self, data: object) -> str | bytes:
        """The answer as JSON, or an error in its place when it is larger than KG_MAX_RESULT_BYTES."""
        text = json.dumps(data, separators=(",", ":"))
        if len(text) <= self.max_result_bytes:
            return text
        message = f"the answer is larger than {self.max_result_bytes} bytes (KG_MAX_RESULT_BYTES); ask for less"
        return json.dumps({"data": None, "errors": [{"message": message}]}, separators=(",", ":"))

    async def get_context(self, request: Request | Any, response: Response | Any) -> Context:
        debug = self.debug_all or request.headers.get(DEBUG_HEADER, "") in ("1", "true")
        return Context(services=self.services, debug=debug)

    async def parse_http_body(self, request: Any) -> GraphQLRequestData | list[GraphQLRequestData]:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            raise HTTPException(413, f"request body is larger than {self.max_body_bytes} bytes (KG_MAX_BODY_BYTES)")
        if request.method == "POST":
            media = (request.content_type or "").split(";")[0].strip().lower()
            if media != JSON:
                raise HTTPException(
                    415, f"POST body of type {media or '(none)'!r} is not accepted; send {JSON} (GraphQL over HTTP)"
                )
        data = await super().parse_http_body(request)
        if isinstance(data, list):
            raise HTTPException(400, "batched GraphQL requests are not accepted; send one operation per request")
        return self.resolve_persisted(data)

    def resolve_persisted(self, data: GraphQLRequestData) -> GraphQLRequestData:
        persisted = (data.extensions or {}).get("persistedQuery")
        if persisted is None:
            listed = data.query is not None and hashlib.sha256(data.query.encode()).hexdigest() in (
                self.allowlist or {}
            )
            if self.allowlist is not None and not listed:
                raise HTTPException(403, "only the persisted operations of the allow-list are accepted here")
            return data
        if not isinstance(persisted, dict) or not isinstance(persisted.get("sha256Hash"), str):
            raise HTTPException(400, "extensions.persistedQuery needs a sha256Hash")
        digest = persisted["sha256Hash"].lower()
        if data.query is not None:
            if hashlib.sha256(data.query.encode("utf-8")).hexdigest() != digest:
                raise HTTPException(400, "provided sha256Hash does not match the query")
            if self.allowlist is not None and digest not in self.allowlist:
                raise HTTPException(403, "only the persisted operations of the allow-list are accepted here")
            self.persisted.put(digest, data.query)
            return data
        text = self.persisted.get(digest)
        if text is None:  # the client sends the query with its hash next (automatic persisted queries)
            return GraphQLRequestData(
                query=None,
                variables=None,
                operation_name=None,
                extensions={MISSING: True},
                protocol=data.protocol,
            )
        return GraphQLRequestData(
            query=text,
            variables=data.variables,
            operation_name=data.operation_name,
            extensions=data.extensions,
            protocol=data.protocol,
        )

    async def execute_operation(
        self,
        request: Any,
        request_adapter: Any,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: Context,
        root_value: None,
        sub_response: Any,
    ) -> Any:
        if isinstance(request_data, GraphQLRequestData) and (request_data.extensions or {}).get(MISSING):
            error = GraphQLError("PersistedQueryNotFound", extensions={"code": "PERSISTED_QUERY_NOT_FOUND"})
            return ExecutionResult(data=None, errors=[error])
        # The answer leaves at the deadline: the operation is cancelled then, and not waited for (its resolvers may
        # take a while to unwind), so the client gets 503 on time whatever is still in flight.
        operation = asyncio.ensure_future(
            super().execute_operation(request, request_adapter, request_data, context, root_value, sub_response)
        )
        done, _ = await asyncio.wait({operation}, timeout=self.deadline)
        if not done:
            operation.cancel()
            operation.add_done_callback(lambda t: t.cancelled() or t.exception())
            raise QueryTimeout(
                f"the GraphQL operation ran longer than {self.deadline:g} s (KG_QUERY_TIMEOUT) and was stopped"
            )
        return operation.result()
