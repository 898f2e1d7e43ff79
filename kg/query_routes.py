"""The named queries over HTTP: ``GET /queries`` (the catalogue) and ``GET /queries/{name}?param=...``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from kg.errors import InvalidParameter, NotFound
from kg.executor import Executor
from kg.queries import Catalog, ParameterError, UnknownQuery
from kg.sparql_endpoint import answer

RESERVED = {"format"}


async def list_queries(request: Request) -> Response:
    catalog: Catalog = request.app.state.catalog
    return JSONResponse({"queries": [q.describe() | {"href": f"/queries/{q.name}"} for q in catalog]})


async def run_query(request: Request) -> Response:
    catalog: Catalog = request.app.state.catalog
    executor: Executor = request.app.state.executor
    name = request.path_params["name"]
    try:
        query = catalog.get(name)
    except UnknownQuery as exc:
        raise NotFound(f"{exc}; GET /queries lists them") from None
    raw: dict[str, str] = {}
    for key, value in request.query_params.multi_items():
        if key in RESERVED:
            continue
        if key in raw:
            raise InvalidParameter(f"Query '{name}' parameter '{key}' is given more than once")
        raw[key] = value
    try:
        bindings = query.bind(raw)
    except ParameterError as exc:
        raise InvalidParameter(str(exc)) from None
    plan = executor.plan(
        query.text,
        bindings=bindings,
        accept=request.headers.get("accept"),
        format_name=request.query_params.get("format"),
    )
    return await answer(request, executor, plan)
