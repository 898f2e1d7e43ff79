"""The named queries over HTTP: ``GET /queries`` (the catalogue) and ``GET /queries/{name}?param=...``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from kg.errors import InvalidParameter, NotFound
from kg.execution.executor import Executor, Plan
from kg.queries.catalog import Catalog, ParameterError, UnknownQuery
from kg.queries.formats import known
from kg.web.pages.results import results_page, wants_table
from kg.web.pages.routes import Pages, prefers_html
from kg.web.sparql import answer

RESERVED = {"format"}


async def list_queries(request: Request) -> Response:
    """The catalogue: JSON, or a page for a browser (with a link that runs each query on its example)."""
    catalog: Catalog = request.app.state.catalog
    entries = [q.describe() | {"href": f"/queries/{q.name}"} for q in catalog]
    if prefers_html(request):
        pages: Pages = request.app.state.pages
        return await pages.page(request, catalogue_page(entries))
    return JSONResponse({"queries": entries})


def catalogue_page(entries: list[dict[str, Any]]) -> Callable[[], Awaitable[tuple[str, dict[str, Any]]]]:
    async def build() -> tuple[str, dict[str, Any]]:
        for entry in entries:
            examples = {p["name"]: p["example"] for p in entry["params"] if p["example"] is not None}
            shown = "csv" if entry["kind"] in ("SELECT", "ASK") else "ttl"
            entry["example"] = entry["href"] + "?" + urlencode(examples | {"format": shown})
            entry["shown"] = "CSV" if shown == "csv" else "Turtle"
        return "queries.html", {"queries": entries}

    return build


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
    format_name = known(request.query_params.getlist("format"))

    def plan(name: str | None) -> Plan:
        return executor.plan(query.text, bindings=bindings, accept=request.headers.get("accept"), format_name=name)

    if format_name is None and wants_table(request):
        return await results_page(request, executor, query.kind, plan)
    return await answer(request, executor, plan(format_name))
