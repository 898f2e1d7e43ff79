"""What operators see: a request id on every response, a JSON access log, and Prometheus metrics (requests and
latency per route, query timeouts, cache hits, store queries, reloads), shared across worker processes when
`kg serve` gives them a multiprocess directory."""

from __future__ import annotations

import logging
import os
import re
import time
import uuid
from typing import Final

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as prometheus_multiprocess
from pythonjsonlogger.json import JsonFormatter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MULTIPROC_ENV: Final = "PROMETHEUS_MULTIPROC_DIR"
REQUESTS = Counter("kg_http_requests_total", "HTTP requests answered", ["route", "method", "status"])
LATENCY = Histogram(
    "kg_http_request_seconds",
    "Time to answer an HTTP request",
    ["route"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
QUERY_TIMEOUTS = Counter("kg_query_timeouts_total", "Queries stopped at the timeout")
STORE_QUERIES = Counter("kg_store_queries_total", "Queries run on the store (not answered from a cache)")
CACHE = Counter("kg_cache_lookups_total", "Answer cache lookups", ["result"])
RELOADS = Counter("kg_reloads_total", "Data reloads", ["outcome"])

access = logging.getLogger("kg.access")
_ROUTES = [
    (re.compile(r"^/queries/[^/]+$"), "/queries/{name}"),
    (re.compile(r"^/id/.*$"), "/id/{name}"),
    (re.compile(r"^/explore/.*$"), "/explore/{name}"),
    (re.compile(r"^/graph/.*$"), "/graph/{path}"),
    (re.compile(r"^/ontology\.[^/]+$"), "/ontology.{extension}"),
    (re.compile(r"^/static/.*$"), "/static/{path}"),
]
_KNOWN = {
    "/",
    "/sparql",
    "/queries",
    "/graphql",
    "/openapi.json",
    "/healthz",
    "/readyz",
    "/metrics",
    "/admin/reload",
    "/search",
    "/ontology",
    "/matrix",
}


def route_of(path: str) -> str:
    """A bounded label for a path, so metrics never grow with client input."""
    if path in _KNOWN:
        return path
    for pattern, name in _ROUTES:
        if pattern.match(path):
            return name
    return "other"


def configure_logging(level: int = logging.INFO, access_log: bool = True) -> None:
    """JSON lines on stderr for the kg loggers; the access log only when asked."""
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonFormatter("{asctime}{levelname}{name}{message}", style="{", rename_fields={"asctime": "time"})
    )
    for name in ("kg", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level)
        logger.propagate = False
    access.setLevel(logging.INFO if access_log else logging.WARNING)


def metrics_text() -> tuple[bytes, str]:
    """The metrics of every worker (multiprocess mode) or of this process."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        prometheus_multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


class Observe:
    """Outermost middleware: request id (``X-Request-Id``, taken from the client when sane), timing, access log."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if re.fullmatch(r"[A-Za-z0-9._\-]{1,64}", incoming) else uuid.uuid4().hex
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", []), (b"x-request-id", request_id.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route = route_of(scope["path"])
            REQUESTS.labels(route, scope["method"], str(status)).inc()
            LATENCY.labels(route).observe(seconds)
            if access.isEnabledFor(logging.INFO):
                access.info(
                    "request",
                    extra={
                        "request_id": request_id,
                        "method": scope["method"],
                        "path": scope["path"],
                        "route": route,
                        "status": status,
                        "ms": round(seconds * 1000, 2),
                        "client": (scope.get("client") or ("", 0))[0],
                    },
                )
