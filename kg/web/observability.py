"""What operators see of each request: a request id on every response, a JSON access log, and the request metrics
of kg.metrics by route (a bounded set of labels, whatever the client sends)."""

from __future__ import annotations

import logging
import re
import time
import uuid

from pythonjsonlogger.json import JsonFormatter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kg.metrics import LATENCY, REQUESTS

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


_REQUEST_ID = re.compile(r"[A-Za-z0-9._\-]{1,64}")


def request_id_of(headers: list[tuple[bytes, bytes]]) -> str:
    """The client's X-Request-Id when it is sane, else a new one."""
    incoming = next((value for name, value in headers if name == b"x-request-id"), b"").decode("latin-1")
    return incoming if _REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex


def record(scope: Scope, status: int, seconds: float, request_id: str) -> None:
    """Count one answered request in the metrics, and write its access log line."""
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


class Observe:
    """Outermost middleware: request id (``X-Request-Id``, taken from the client when sane), timing, access log."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = request_id_of(scope["headers"])
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
            record(scope, status, time.perf_counter() - started, request_id)
