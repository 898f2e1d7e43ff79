"""The Prometheus metrics every part of the server counts (requests and latency per route, query timeouts, cache
hits, store queries, reloads).

Each process counts in plain memory: an increment is a dictionary update under a lock, about a microsecond, where
prometheus_client's multiprocess mode wrote a memory-mapped file at every increment (6-12 µs a request). Under `kg
serve` every process writes a snapshot of its numbers into ``KG_RUNTIME_DIR/metrics`` about once a second and when it
stops (``Snapshots``); ``/metrics`` adds up the snapshots of all the others and the live numbers of the process that
answers. A snapshot file is never removed while the server runs, so the totals of a worker that ended (and was
replaced) stay in every later scrape: counters never go back. prometheus_client writes the exposition format.
"""

from __future__ import annotations

import atexit
import bisect
import json
import logging
import os
import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Final

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

log = logging.getLogger("kg.metrics")

SNAPSHOT_SECONDS: Final = 1.0
"""How often a process of `kg serve` writes its numbers for the others to read."""
FOLDER: Final = "metrics"
"""The folder of the snapshots, in ``KG_RUNTIME_DIR``."""

Labels = tuple[str, ...]
Numbers = dict[str, dict[Labels, list[float]]]
"""Per family, per label values: [count] for a counter; [sum, count, bucket counts...] for a histogram (one count
per bound, the last for +Inf, not cumulative)."""


class _Child:
    """The numbers of one set of label values."""

    __slots__ = ("family", "values")

    def __init__(self, family: _Family, values: list[float]) -> None:
        self.family = family
        self.values = values

    def inc(self, amount: float = 1) -> None:
        with self.family.lock:
            self.values[0] += amount

    def observe(self, seconds: float) -> None:
        family = self.family
        index = 2 + bisect.bisect_left(family.bounds, seconds)
        with family.lock:
            values = self.values
            values[0] += seconds
            values[1] += 1
            values[index] += 1


class _Family:
    def __init__(
        self, name: str, documentation: str, labelnames: Sequence[str] = (), buckets: Sequence[float] = ()
    ) -> None:
        self.name = name
        self.documentation = documentation
        self.labelnames = tuple(labelnames)
        self.bounds = tuple(buckets)
        self.histogram = bool(buckets)
        self.lock = threading.Lock()
        self.children: dict[Labels, _Child] = {}
        _FAMILIES.append(self)

    def labels(self, *values: str) -> _Child:
        child = self.children.get(values)
        if child is None:
            if len(values) != len(self.labelnames):
                raise ValueError(f"{self.name} takes the labels {self.labelnames}, not {values}")
            with self.lock:
                size = 3 + len(self.bounds) if self.histogram else 1
                child = self.children.setdefault(values, _Child(self, [0.0] * size))
        return child

    def numbers(self) -> dict[Labels, list[float]]:
        with self.lock:
            return {labels: list(child.values) for labels, child in self.children.items()}


class Counter(_Family):
    def inc(self, amount: float = 1) -> None:
        self.labels().inc(amount)


class Histogram(_Family):
    def __init__(self, name: str, documentation: str, labelnames: Sequence[str], buckets: Sequence[float]) -> None:
        super().__init__(name, documentation, labelnames, buckets)


_FAMILIES: list[_Family] = []

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


def live() -> Numbers:
    """This process's numbers now."""
    return {family.name: family.numbers() for family in _FAMILIES}


def add(total: Numbers, more: Numbers) -> None:
    """Add ``more`` into ``total``."""
    for name, children in more.items():
        into = total.setdefault(name, {})
        for labels, values in children.items():
            have = into.get(labels)
            if have is None:
                into[labels] = list(values)
            elif len(have) == len(values):
                into[labels] = [a + b for a, b in zip(have, values, strict=True)]


def encode(numbers: Numbers) -> bytes:
    return json.dumps(
        {name: [[list(k), v] for k, v in children.items()] for name, children in numbers.items()}
    ).encode()


def decode(data: bytes) -> Numbers:
    raw = json.loads(data)
    return {name: {tuple(labels): [float(v) for v in values] for labels, values in rows} for name, rows in raw.items()}


class Snapshots:
    """Under `kg serve`: this process's numbers written to ``folder`` every ``SNAPSHOT_SECONDS`` (when they
    changed) and when it stops; the scrape reads everyone else's."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.file = folder / f"{os.getpid()}-{uuid.uuid4().hex[:8]}.json"
        """Named for this process alone (a later process may get the same pid)."""
        self.written = b""
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="kg-metrics", daemon=True)

    def start(self) -> None:
        self.thread.start()
        atexit.register(self.stop)

    def _run(self) -> None:
        while not self.stopped.wait(SNAPSHOT_SECONDS):
            try:
                self.write()
            except OSError as exc:  # a full disk: the scrape shows older numbers of this process meanwhile
                log.warning("could not write the metrics snapshot %s: %s", self.file, exc)

    def write(self) -> None:
        with self.lock:
            data = encode(live())
            if data == self.written:
                return
            temporary = self.file.with_suffix(".tmp")
            temporary.write_bytes(data)
            os.replace(temporary, self.file)
            self.written = data

    def stop(self) -> None:
        if self.stopped.is_set():
            return
        self.stopped.set()
        try:
            self.write()
        except OSError as exc:
            log.warning("could not write the last metrics snapshot %s: %s", self.file, exc)

    def others(self) -> Iterator[Numbers]:
        for path in sorted(self.folder.glob("*.json")):
            if path == self.file:
                continue
            try:
                yield decode(path.read_bytes())
            except (OSError, ValueError) as exc:  # written in one step, so only a foreign or vanished file
                log.warning("metrics snapshot %s skipped: %s", path, exc)


_snapshots: Snapshots | None = None


def share(runtime: Path) -> Snapshots:
    """Start writing this process's snapshots into ``runtime``'s metrics folder (once per process), and read the
    others' there when scraped."""
    global _snapshots
    if _snapshots is None:
        _snapshots = Snapshots(runtime / FOLDER)
        _snapshots.start()
    return _snapshots


class _Merged(Collector):
    def __init__(self, numbers: Numbers) -> None:
        self.numbers = numbers

    def collect(self) -> Iterable[Metric]:
        for family in _FAMILIES:
            children = self.numbers.get(family.name, {})
            if family.histogram:
                histogram = HistogramMetricFamily(family.name, family.documentation, labels=family.labelnames)
                for labels, values in sorted(children.items()):
                    cumulative, buckets = 0.0, []
                    for bound, count in zip([*family.bounds, float("inf")], values[2:], strict=True):
                        cumulative += count
                        buckets.append(("+Inf" if bound == float("inf") else repr(float(bound)), cumulative))
                    histogram.add_metric(list(labels), buckets, values[0])
                yield histogram
            else:
                counter = CounterMetricFamily(family.name, family.documentation, labels=family.labelnames)
                for labels, values in sorted(children.items()):
                    counter.add_metric(list(labels), values[0])
                yield counter


def metrics_text() -> tuple[bytes, str]:
    """The metrics of every process of `kg serve` (this one live, the others from their snapshots), or of this one."""
    numbers = live()
    if _snapshots is not None:
        for other in _snapshots.others():
            add(numbers, other)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Merged(numbers))
    return generate_latest(registry), CONTENT_TYPE_LATEST
