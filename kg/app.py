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

import pyoxigraph as ox
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from kg import __version__
from kg.errors import Forbidden, KgError
from kg.execution.confine import Guard
from kg.execution.executor import Executor
from kg.execution.ledger import budgets_for
from kg.execution.pool import SandboxPool
from kg.graphql.context import Context, Services
from kg.graphql.recorded import read as read_sizes
from kg.graphql.survey import measure
from kg.graphql.view import GraphQLView, allowed_documents
from kg.metrics import RELOADS, metrics_text, share
from kg.queries.catalog import Catalog, UnknownQuery
from kg.settings import Settings
from kg.store.backends import Backend, EmbeddedBackend, open_backend
from kg.store.edges import EDGES_FILE, EdgeIndex
from kg.store.labels import LABELS_FILE, LabelIndex, truth
from kg.trapi.biolink import biolink
from kg.trapi.provider import Provider
from kg.web import openapi
from kg.web.editors.pages import Editors
from kg.web.fastpath import FastPath
from kg.web.hotpath import SparqlHotPath
from kg.web.limits import BodyLimit
from kg.web.named_queries import list_queries, run_query
from kg.web.observability import Observe, configure_logging
from kg.web.pages.render import HERE
from kg.web.pages.results import Tables
from kg.web.pages.routes import Pages, prefers_html
from kg.web.reload import Busy, Follower, current_release, forget, validated
from kg.web.search_path import SearchPath, search_document
from kg.web.sparql import sparql
from kg.web.trapi import meta_knowledge_graph, trapi_query

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
    retry_after = getattr(exc, "retry_after", None)
    headers = {"Retry-After": str(retry_after or 1)} if exc.status in (429, 503) else None
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


async def client_gone(request: Request, exc: Exception) -> Response:
    """The client went away before sending its whole request: nobody to answer, nothing to log as a fault."""
    return Response(status_code=400)


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
    """POST /admin/reload with ``Authorization: Bearer <KG_ADMIN_TOKEN>``: validate, then swap in place (under `kg
    serve`, in this worker, and the others follow: see kg.web.reload); a failed validation keeps the current release."""
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
    try:
        problems, loaded = await validated(settings)
    except Busy:
        return JSONResponse({"status": "already reloading", "release": previous}, status_code=202)
    if problems:
        RELOADS.labels("refused").inc()
        log.error("reload refused: the files do not validate", extra={"errors": problems[:20]})
        body = {"status": "kept", "release": previous, "errors": problems}
        return JSONResponse(body, status_code=422, media_type=PROBLEM)
    follower: Follower | None = request.app.state.follower
    if follower is not None:  # under `kg serve`: swap here, then the other workers follow (no worker is replaced)
        await request.app.state.swap(current_release(settings))
        follower.announce()
    else:
        try:
            await request.app.state.swap(loaded)
        finally:
            forget(loaded, settings)
    RELOADS.labels("reloaded").inc()
    release = request.app.state.executor.release
    log.info("reloaded", extra={"release": release, "previous": previous})
    return JSONResponse({"status": "reloaded", "release": release, "previous": previous})


async def well_known_void(request: Request) -> Response:
    """``/.well-known/void`` (RFC 8615, registered for VoID): the VoID graph of the store, at ``/graph/void``."""
    return RedirectResponse("/graph/void", status_code=303, headers={"Vary": "Accept"})


async def openapi_json(request: Request) -> Response:
    return JSONResponse(openapi.document(request.app.state.catalog))


def _retirement(settings: Settings) -> Callable[[], None] | None:
    """Under `kg serve`, a worker that timed out a query running in its own process (a named or GraphQL query, never a
    sandboxed client query) asks itself to shut down gracefully: uvicorn finishes the requests in flight, the process
    exits (ending the runaway query), and the supervisor starts a replacement."""
    if not settings.retire_on_timeout:
        return None
    retiring = False

    def retire() -> None:
        nonlocal retiring
        if retiring:
            return
        retiring = True
        log.warning("worker %s retires after an in-process query timeout; a fresh worker replaces it", os.getpid())
        os.kill(os.getpid(), signal.SIGTERM)

    return retire


async def graphql_services(executor: Executor, catalog: Catalog, settings: Settings) -> Services:
    """The label index, the edge summaries and the class kinds the GraphQL layer needs, from the store (or beside an
    on-disk store)."""
    kinds_rows, _ = await executor.select(catalog.get("class_kinds").text)
    kinds = {r["class"].value: r["kind"].value.rsplit("#", 1)[-1] for r in kinds_rows}
    on_disk = settings.store_dir if settings.store_dir and not settings.sparql_url else None  # built by `kg build`
    if on_disk is not None and (on_disk / LABELS_FILE).is_file():
        labels = LabelIndex.open(on_disk / LABELS_FILE)
    else:
        rows, _ = await executor.select(catalog.get("entity_labels").text)
        labels = LabelIndex.build(
            (r["entity"].value, r["kind"].value, r["label"].value, truth(r["preferred"].value)) for r in rows
        )
    if on_disk is not None and (on_disk / EDGES_FILE).is_file():
        edges = EdgeIndex.open(on_disk / EDGES_FILE)
    else:
        claims, _ = await executor.select(catalog.get("edge_summaries").text)
        scores, _ = await executor.select(catalog.get("belief_scores").text)
        # a remote store's claims stay there (a copy in each worker's memory would grow with the graph); an
        # in-memory store already holds the whole (small) graph, and its claims are kept beside the summaries
        edges = EdgeIndex.from_rows(claims, scores, keep_claims=not settings.sparql_url)
    caching = settings.graphql_batching and executor.backend.cacheable
    services = Services(
        executor=executor,
        catalog=catalog,
        labels=labels,
        edges=edges,
        kinds=kinds,
        batching=settings.graphql_batching,
        cache_entries=settings.cache_entries if caching else 0,
        cache_bytes=settings.cache_bytes // 4,
        check_timeout=settings.graphql_check_timeout,
    )
    recorded = read_sizes(on_disk, executor.release) if on_disk is not None else None
    if recorded is not None:  # measured by `kg build`
        services.sizes = recorded
        return services
    try:
        services.sizes = await measure(Context(services))  # the list lengths of this release, for the GraphQL cost
    except (
        KgError,
        UnknownQuery,
    ) as exc:  # a broken installation still starts; its GraphQL counts every list as 100 long
        log.error("the GraphQL list sizes of this release could not be measured (%s); every list counts 100", exc)
    return services


async def sandbox_pool(backend: Backend, settings: Settings) -> SandboxPool | None:
    """Started sandboxes holding the backend's store, for client SPARQL; None for a remote backend (the query runs
    there) or with KG_SANDBOX=false. The on-disk store is opened read-only by each sandbox (its pages shared); the
    in-memory store travels to each as the N-Quads of the quads this worker loaded and validated."""
    if not settings.sandbox or not isinstance(backend, EmbeddedBackend):
        return None
    if settings.store_dir is not None:
        config: dict[str, object] = {"store_dir": str(settings.store_dir / "data")}
        payload = b""
    else:
        config = {"store_dir": None}
        payload = backend.store.dump(format=ox.RdfFormat.N_QUADS) or b""
    config |= {
        "memory": settings.query_memory,
        "max_rows": settings.max_rows,
        "max_result_bytes": settings.max_result_bytes,
    }
    pool = SandboxPool(config, payload, settings.sandboxes)
    await pool.start()
    return pool


def network_refusal(pool: SandboxPool | None, settings: Settings) -> str | None:
    """Say at start how the sandboxes are kept off the network; without a kernel guard, refuse client SPARQL (fail
    closed) unless KG_ACCEPT_NETWORK_RISK accepts the risk."""
    if pool is None and settings.sparql_url:
        return None
    guard = pool.guard if pool is not None else Guard(None, "client SPARQL runs in the HTTP worker (KG_SANDBOX=false)")
    if guard.mechanism is not None:
        log.info("client SPARQL runs in %d sandboxes without network: %s", settings.sandboxes, guard.detail)
        return None
    if settings.accept_network_risk:
        log.warning(
            "no kernel network guard for client SPARQL (%s); KG_ACCEPT_NETWORK_RISK=true, so it is served with only "
            "the lexical SERVICE check",
            guard.detail,
        )
        return None
    message = (
        f"ad-hoc SPARQL is refused on this server: the kernel cannot deny its queries the network ({guard.detail}); "
        "install libseccomp (pyseccomp), or set KG_ACCEPT_NETWORK_RISK=true to accept the risk"
    )
    log.error(message)
    return message


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings()

    retired: list[SandboxPool] = []
    """The pools of earlier releases, ended for good when the app stops."""

    swapping = asyncio.Lock()

    async def open_runtime(app: Starlette, loaded: Settings | None = None) -> str:
        """Open a backend (from the files of ``loaded``: a validated snapshot) and everything built on it, then swap
        them in with plain assignments (one swap at a time); the release now served."""
        async with swapping:
            return await _open_runtime(app, loaded)

    async def _open_runtime(app: Starlette, loaded: Settings | None) -> str:
        backend = await asyncio.to_thread(open_backend, loaded or current_release(settings))
        pool = await sandbox_pool(backend, settings)
        executor = Executor(backend, settings, _retirement(settings), pool, app.state.budgets)
        executor.refusal = network_refusal(pool, settings)
        services = await graphql_services(executor, app.state.catalog, settings)
        previous: Executor | None = getattr(app.state, "executor", None)
        app.state.executor = executor
        graphql.services = services
        if previous is not None and previous.pool is not None:
            previous.pool.close()  # its busy sandboxes end with the requests in flight on the previous release
            retired.append(previous.pool)
        return executor.release

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.catalog = Catalog(settings.queries_dir)
        app.state.pages = pages
        app.state.results = Tables()
        app.state.trapi = Provider(biolink())
        app.state.graphql = graphql
        app.state.editors = editors
        app.state.swap = lambda loaded=None: open_runtime(app, loaded)
        app.state.budgets = budgets_for(settings)
        runtime = settings.runtime_dir
        snapshots = None if runtime is None else share(runtime)  # this worker's numbers, for whichever is scraped
        follower = app.state.follower = None if runtime is None else Follower(runtime, app.state.swap, settings)
        await open_runtime(app)
        following = None if follower is None else asyncio.get_running_loop().create_task(follower.run())
        try:
            yield
        finally:
            if following is not None:
                following.cancel()
            if app.state.executor.pool is not None:
                await app.state.executor.pool.aclose()
            for old in retired:
                await old.aclose()
            app.state.executor.backend.close()
            app.state.budgets.close()
            if snapshots is not None:
                snapshots.write()

    editors = Editors(settings.assets_dir)
    graphql = GraphQLView(
        None,  # type: ignore[arg-type]  # the lifespan provides the services
        debug=settings.debug,
        max_body_bytes=settings.max_body_bytes,
        max_result_bytes=settings.max_result_bytes,
        deadline=settings.query_timeout,
        allowlist=allowed_documents(settings.queries_dir / "graphql") if settings.graphql_allowlist_only else None,
        ide=editors.graphiql,
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
        Route("/assets/{path:path}", editors.asset),
        Route("/graphql", graphql, methods=["GET", "POST"]),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics),
        Route("/admin/reload", reload, methods=["POST"]),
        Route("/sparql", sparql, methods=["GET", "POST"]),
        Route("/queries", list_queries),
        Route("/queries/{name}", run_query),
        Route("/openapi.json", openapi_json),
        Route("/.well-known/void", well_known_void),
        Route("/trapi/query", trapi_query, methods=["POST"]),
        Route("/trapi/meta_knowledge_graph", meta_knowledge_graph),
    ]
    middleware = [
        Middleware(SparqlHotPath),  # queries from programs: ahead of the rest (kg.web.hotpath)
        Middleware(Observe),
        Middleware(BodyLimit, limit=settings.max_body_bytes),
        Middleware(FastPath),
        Middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Accept", "Content-Type", "If-None-Match"],
            expose_headers=["ETag", "X-KG-Release"],
        ),
        Middleware(SearchPath, document=search_document(settings.queries_dir)),
    ]
    return Starlette(
        debug=settings.debug,
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={
            KgError: kg_error,
            HTTPException: http_error,
            ClientDisconnect: client_gone,
            Exception: server_error,
        },
    )


def create_app_from_environment() -> Starlette:
    """The factory `kg serve` hands to uvicorn: settings come from the ``KG_`` environment of the worker."""
    settings = Settings()
    configure_logging(access_log=settings.access_log)
    return create_app(settings)
