"""Reloading the data without downtime: validate first, then swap the whole runtime (backend, executor, GraphQL
services) in one assignment. Requests in flight keep the runtime they started with; a reload that fails validation
keeps the previous release and says why (log, metric, response)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kg.metrics import RELOADS
from kg.rdf.dataset import SourceError, turtle_files
from kg.report import Report
from kg.settings import Settings

log = logging.getLogger("kg.web.reload")


@dataclass
class Outcome:
    reloaded: bool
    release: str
    previous: str
    problems: list[str] = field(default_factory=list)


def check(settings: Settings) -> Report:
    """Validate the Turtle files as `kg validate` does, without the (slower) OWL reasoner."""
    from kg.curation.validate import Options, validate  # imported on first use: workers start faster without pySHACL

    options = Options(settings.queries_dir, reasoner=False)
    return validate([settings.ontology_dir], options, settings.ontology_dir)


async def validated(settings: Settings) -> list[str]:
    """The errors that forbid a reload (none when the store is remote or on disk: those are built elsewhere)."""
    if settings.sparql_url or settings.store_dir:
        return []
    try:
        report = await asyncio.to_thread(check, settings)
    except SourceError as exc:
        return [str(exc)]
    return [f.text() for f in report.errors]


def fingerprint(directory: Path) -> tuple[tuple[str, int, int], ...]:
    """What changes when a curator saves a Turtle file: names, sizes and modification times."""
    try:
        files = turtle_files([directory])
    except SourceError:
        return ()
    stamps = []
    for path in files:
        try:
            stat = path.stat()
        except OSError:
            continue
        stamps.append((str(path), stat.st_size, stat.st_mtime_ns))
    return tuple(stamps)


class Watcher(threading.Thread):
    """For `kg serve --watch`: in the supervisor, when files under ontology/ change and still validate, ask the
    supervisor (SIGHUP) to replace its workers one by one; when they do not validate, log why and keep serving."""

    def __init__(self, settings: Settings, interval: float = 1.0, notify: Callable[[], None] | None = None) -> None:
        super().__init__(name="kg-watch", daemon=True)
        self.settings = settings
        self.interval = interval
        self.notify = notify or (lambda: os.kill(os.getpid(), signal.SIGHUP))
        self.stopped = threading.Event()

    def run(self) -> None:
        last = fingerprint(self.settings.ontology_dir)
        while not self.stopped.wait(self.interval):
            now = fingerprint(self.settings.ontology_dir)
            if now == last:
                continue
            last = now
            time.sleep(self.interval / 2)  # let an editor finish writing
            report = check(self.settings)
            if report.errors:
                RELOADS.labels("refused").inc()
                log.error(
                    "files changed but do not validate; still serving the previous release",
                    extra={"errors": [f.text() for f in report.errors[:20]]},
                )
                continue
            RELOADS.labels("restart").inc()
            log.info("files changed and validate; replacing the workers")
            self.notify()
