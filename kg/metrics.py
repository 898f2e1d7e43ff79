"""The Prometheus metrics every part of the server counts (requests and latency per route, query timeouts, cache
hits, store queries, reloads), shared across worker processes when `kg serve` gives them a multiprocess directory."""

from __future__ import annotations

import os
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


def metrics_text() -> tuple[bytes, str]:
    """The metrics of every worker (multiprocess mode) or of this process."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        prometheus_multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
