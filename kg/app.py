"""The ASGI application: ``create_app(settings)``. The lifespan opens the backend and the query catalogue; errors
are mapped to responses in one table; no stack trace ever reaches a client."""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
import signal
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from kg import __version__
from kg.errors import Forbidden, KgError
from kg.execution.executor import Executor
from kg.graphql.context import Services
from kg.graphql.view import GraphQLView, allowed_documents
from kg.metrics import RELOADS, metrics_text
from kg.queries.catalog import Catalog
from kg.settings import Settings
from kg.store.backends import open_backend
from kg.store.labels import LABELS_FILE, LabelIndex
from kg.web import openapi
from kg.web.fastpath import FastPath
from kg.web.named_queries import list_queries, run_query
from kg.web.observability import Observe, configure_logging
from kg.web.pages.render import HERE
from kg.web.pages.routes import Pages, prefers_html
from kg.web.reload import validated
from kg.web.sparql import sparql

log = logging.getLogger("kg.app")
PROBLEM = "application/problem+json"


def problem(status: int, title: str, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def error_response(
    request: Request, status: int, title: str, detail: str, headers: dict[str, str] | None = None
) -> Response:
    """problem+json, or an HTML page when a browser asked for a page."""
    pages: Pages | None = getattr(request.app.state, "pages", None)
    if pages is not None and prefers_html(request) and request.method == "GET":
        response = pages.error_page(request, status, title, detail)
        response.headers.update(headers or {})
        return response
    return problem(status, title, detail, headers)


async def kg_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, KgError)
    headers = {"Retry-After": "1"} if exc.status == 503 else None
    return error_response(request, exc.status, exc.title, exc.message, headers)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}"
    elif exc.status_code == 404:
        detail = f"nothing at {request.url.path}; GET / lists what is here"
    else:
        detail = str(exc.detail)
    return error_response(request, exc.status_code, str(exc.detail), detail, dict(exc.headers or {}))


async def server_error(request: Request, exc: Exception) -> Response:
    incident = uuid.uuid4().hex[:12]
    log.error("unexpected error %s on %s %s", incident, request.method, request.url.path, exc_info=exc)
    return problem(500, "Internal Server Error", f"an unexpected error occurred (incident {incident})")


async def index(request: Request) -> Response:
    """``/``: the home page for a browser; for other clients, what is here (JSON)."""
    if prefers_html(request):
        pages: Pages = request.app.state.pages
        return await pages.home(request)
    executor: Executor = request.app.state.executor
    return JSONResponse(
        {
            "name": "Stem-cell therapies for autoimmune disease: knowledge graph",
            "version": __version__,
            "release": executor.release,
            "links": {
                "sparql": "/sparql",
                "queries": "/queries",
                "openapi": "/openapi.json",
                "health": "/healthz",
                "graphql": "/graphql",
                "ontology": "/ontology",
                "resource": "/id/{name}",
            },
        }
    )


async def healthz(request: Request) -> Response:
    executor: Executor = request.app.state.executor
    return JSONResponse({"status": "ok", "release": executor.release, "backend": executor.backend.kind})


async def readyz(request: Request) -> Response:
    """Ready when the store answers a query within a second."""
    executor: Executor = request.app.state.executor
    try:
        ready = await asyncio.wait_for(asyncio.to_thread(executor.backend.ping), 1.0)
    except (TimeoutError, OSError, KgError):
        ready = False
    body = {"status": "ready" if ready else "unavailable", "release": executor.release}
    return JSONResponse(body, status_code=200 if ready else 503)


async def metrics(request: Request) -> Response:
    body, media = metrics_text()
    return Response(body, media_type=media)


async def reload(request: Request) -> Response:
    """POST /admin/reload with ``Authorization: Bearer <KG_ADMIN_TOKEN>``: validate, then swap (or, under `kg serve`,
    have the supervisor replace every worker); a failed validation keeps the current release."""
    settings: Settings = request.app.state.settings
    if not settings.admin_token:
        raise Forbidden("the admin endpoint is disabled: set KG_ADMIN_TOKEN to enable it")
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return problem(
            401, "Unauthorized", "send Authorization: Bearer <KG_ADMIN_TOKEN>", {"WWW-Authenticate": "Bearer"}
        )
    if not hmac.compare_digest(token.encode(), settings.admin_token.encode()):
        raise Forbidden("the admin token is not valid")
    previous = request.app.state.executor.release
    problems = await validated(settings)
    if problems:
        RELOADS.labels("refused").inc()
        log.error("reload refused: the files do not validate", extra={"errors": problems[:20]})
        body = {"status": "kept", "release": previous, "errors": problems}
        return JSONResponse(body, status_code=422, media_type=PROBLEM)
    if settings.retire_on_timeout:  # supervised by `kg serve`: replace every worker, one by one
        RELOADS.labels("restart").inc()
        os.kill(os.getppid(), signal.SIGHUP)
        return JSONResponse({"status": "restarting workers", "previous": previous}, status_code=202)
    await request.app.state.swap()
    RELOADS.labels("reloaded").inc()
    release = request.app.state.executor.release
    log.info("reloaded", extra={"release": release, "previous": previous})
    return JSONResponse({"status": "reloaded", "release": release, "previous": previous})


async def openapi_json(request: Request) -> Response:
    return JSONResponse(openapi.document(request.app.state.catalog))


def _retirement(settings: Settings) -> Callable[[], None] | None:
    """Under `kg serve`, a worker that timed out a query asks itself to shut down gracefully: uvicorn finishes the
    requests in flight, the process exits (ending the runaway query), and the supervisor starts a replacement."""
    if not settings.retire_on_timeout:
        return None
    retiring = False

    def retire() -> None:
        nonlocal retiring
        if retiring:
            return
        retiring = True
        log.warning("worker %s retires after a query timeout; a fresh worker replaces it", os.getpid())
        os.kill(os.getpid(), signal.SIGTERM)

    return retire


async def graphql_services(executor: Executor, catalog: Catalog, settings: Settings) -> Services:
    """The label index and the class kinds the GraphQL layer needs, from the store (or beside an on-disk store)."""
    kinds_rows, _ = await executor.select(catalog.get("class_kinds").text)
    kinds = {r["class"].value: r["kind"].value.rsplit("#", 1)[-1] for r in kinds_rows}
    labels_file = settings.store_dir / LABELS_FILE if settings.store_dir and not settings.sparql_url else None
    if labels_file is not None and labels_file.is_file():
        labels = LabelIndex.open(labels_file)
    else:
        rows, _ = await executor.select(catalog.get("entity_labels").text)
        labels = LabelIndex.build(
            (r["entity"].value, r["kind"].value, r["label"].value, r["preferred"].value == "true") for r in rows
        )
    caching = settings.graphql_batching and executor.backend.cacheable
    return Services(
        executor=executor,
        catalog=catalog,
        labels=labels,
        kinds=kinds,
        batching=settings.graphql_batching,
        cache_entries=settings.cache_entries if caching else 0,
    )


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings()

    async def open_runtime(app: Starlette) -> None:
        """Open a backend and everything built on it, then swap them in with plain assignments."""
        backend = await asyncio.to_thread(open_backend, settings)
        executor = Executor(backend, settings, _retirement(settings))
        services = await graphql_services(executor, app.state.catalog, settings)
        app.state.executor = executor
        graphql.services = services

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.catalog = Catalog(settings.queries_dir)
        app.state.pages = pages
        app.state.graphql = graphql
        app.state.swap = lambda: open_runtime(app)
        await open_runtime(app)
        try:
            yield
        finally:
            app.state.executor.backend.close()

    graphql = GraphQLView(
        None,  # type: ignore[arg-type]  # the lifespan provides the services
        debug=settings.debug,
        max_body_bytes=settings.max_body_bytes,
        allowlist=allowed_documents(settings.queries_dir / "graphql") if settings.graphql_allowlist_only else None,
    )
    pages = Pages(settings.queries_dir)
    routes = [
        Route("/", index),
        Route("/search", pages.search),
        Route("/id/{name:path}", pages.resource),
        Route("/ontology", pages.ontology),
        Route("/ontology.{extension}", pages.ontology),
        Route("/graph/{path:path}", pages.named_graph),
        Route("/explore/{name:path}", pages.explore),
        Route("/matrix", pages.matrix),
        Route("/disagreements", pages.disagreements),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        Route("/graphql", graphql, methods=["GET", "POST"]),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics),
        Route("/admin/reload", reload, methods=["POST"]),
        Route("/sparql", sparql, methods=["GET", "POST"]),
        Route("/queries", list_queries),
        Route("/queries/{name}", run_query),
        Route("/openapi.json", openapi_json),
    ]
    middleware = [
        Middleware(Observe),
        Middleware(FastPath),
        Middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Accept", "Content-Type", "If-None-Match"],
            expose_headers=["ETag", "X-KG-Release"],
        ),
    ]
    return Starlette(
        debug=settings.debug,
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={KgError: kg_error, HTTPException: http_error, Exception: server_error},
    )


def create_app_from_environment() -> Starlette:
    """The factory `kg serve` hands to uvicorn: settings come from the ``KG_`` environment of the worker."""
    settings = Settings()
    configure_logging(access_log=settings.access_log)
    return create_app(settings)
