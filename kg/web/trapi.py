"""TRAPI over HTTP: ``POST /trapi/query`` (a one-hop lookup) and ``GET /trapi/meta_knowledge_graph``
(see kg.trapi.provider)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from kg.errors import UnsupportedMediaType
from kg.execution.executor import Executor
from kg.queries.catalog import Catalog
from kg.settings import Settings
from kg.trapi.provider import Provider
from kg.trapi.query_graph import parse_body, read_query
from kg.web.sparql import read_body


def _provider(request: Request) -> tuple[Provider, Executor, Catalog]:
    return request.app.state.trapi, request.app.state.executor, request.app.state.catalog


async def trapi_query(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    provider, executor, catalog = _provider(request)
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json":
        raise UnsupportedMediaType(f"POST body of type {media or '(none)'!r} is not accepted; send application/json")
    query = read_query(parse_body(await read_body(request, settings.max_body_bytes)), provider.model)
    index = await provider.index(executor, catalog)
    body = provider.answer(index, query, settings.max_rows)
    return JSONResponse(body, headers={"X-KG-Release": executor.release, "Cache-Control": "no-store"})


async def meta_knowledge_graph(request: Request) -> Response:
    provider, executor, catalog = _provider(request)
    index = await provider.index(executor, catalog)
    body = provider.meta_knowledge_graph(index)
    return JSONResponse(body, headers={"X-KG-Release": executor.release, "Cache-Control": "public, no-cache"})
