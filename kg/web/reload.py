"""Reloading the data without downtime: validate first, then swap the whole runtime (backend, executor, GraphQL
services) in one assignment. Requests in flight keep the runtime they started with; a reload that fails validation
keeps the previous release and says why (log, metric, response).

What is validated is what is loaded: the files are copied once into a snapshot, the snapshot is validated, and the
backend is opened from that snapshot, never from the files a curator may be saving right now. Under `kg serve` the
workers read ``KG_ONTOLOGY_DIR``, a link to the last validated snapshot that a reload moves in one step; the files the
curators edit are ``KG_ONTOLOGY_SOURCE``. Reloads run one at a time (a lock file); one asked for while another runs is
answered "already reloading" and joins it.

Under `kg serve` a reload never replaces a worker (which would close its idle keep-alive connections): the reload
publishes the validated snapshot and writes a new stamp in ``KG_RUNTIME_DIR`` (``announce``); every worker ``follow``s
the stamp and swaps in the new release inside the running process, serving the previous one until the new one is
loaded, and keeping it if the new one cannot be."""

from __future__ import annotations

import asyncio
import dataclasses
import fcntl
import logging
import os
import shutil
import signal
import tempfile
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
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


CURRENT = "current"
"""The link, in the snapshot folder, to the snapshot the workers load."""
SNAPSHOTS_KEPT = 3
STAMP = "release-stamp"
"""The file, in ``KG_RUNTIME_DIR``, whose content changes at each reload the workers must follow."""
FOLLOW_SECONDS = 0.5
"""How often a worker of `kg serve` looks at the stamp."""
RETRY_SECONDS = (1.0, 60.0)
"""A worker that could not load an announced release tries it again after the first wait, doubling up to the last."""


def check(settings: Settings, directory: Path | None = None, shown: Path | None = None) -> Report:
    """Validate the Turtle files as `kg validate` does, without the (slower) OWL reasoner. Findings in a snapshot
    (``directory``) name the file it was copied from (under ``shown``), which is the one a curator edits."""
    from kg.curation.validate import Options, validate  # imported on first use: workers start faster without pySHACL

    directory = directory or settings.ontology_dir
    options = Options(settings.queries_dir, reasoner=False)
    report = validate([directory], options, directory)
    return report if shown is None else relocate(report, directory, shown)


def relocate(report: Report, snapshot: Path, source: Path) -> Report:
    """The report with the files of ``snapshot`` named as the files of ``source`` they were copied from."""
    root = snapshot.resolve()

    def moved(file: Path | None) -> Path | None:
        if file is None:
            return None
        try:
            return source / file.resolve().relative_to(root)
        except ValueError:
            return file

    findings = [dataclasses.replace(f, file=moved(f.file)) for f in report.findings]
    return Report(findings, report.timings)


def source_of(settings: Settings) -> Path:
    """The files curators edit (under `kg serve`, not the snapshot the workers load)."""
    return settings.ontology_source or settings.ontology_dir


def take_snapshot(source: Path, folder: Path) -> Path:
    """A copy of ``source`` in a new directory of ``folder``: each file read once, so it cannot change under us."""
    folder.mkdir(parents=True, exist_ok=True)
    target = Path(tempfile.mkdtemp(prefix="release-", dir=folder))
    shutil.copytree(source, target, dirs_exist_ok=True, symlinks=False)
    return target


def publish(snapshot: Path, folder: Path) -> None:
    """Point ``folder/current`` at ``snapshot`` in one step, and drop all but the last few snapshots."""
    link = folder / f".{CURRENT}-{os.getpid()}"
    link.unlink(missing_ok=True)
    link.symlink_to(snapshot.name)
    os.replace(link, folder / CURRENT)
    older = sorted((p for p in folder.glob("release-*") if p != snapshot), key=lambda p: p.stat().st_mtime)
    for old in older[: max(0, len(older) - SNAPSHOTS_KEPT + 1)]:
        shutil.rmtree(old, ignore_errors=True)


def serve_snapshots(settings: Settings) -> Settings:
    """For `kg serve`: the settings its workers get, reading a validated snapshot of the files (see module doc)."""
    folder = Path(tempfile.mkdtemp(prefix="kg-snapshots-"))
    snapshot = take_snapshot(settings.ontology_dir, folder)
    publish(snapshot, folder)
    return settings.model_copy(update={"ontology_dir": folder / CURRENT, "ontology_source": settings.ontology_dir})


class Busy(Exception):
    """Another reload is running; this one joins it."""


@contextmanager
def one_at_a_time(folder: Path) -> Iterator[None]:
    """Hold the reload lock of ``folder``; Busy when another process or thread holds it."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".reload.lock", "a+b") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Busy from None
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def snapshot_folder(settings: Settings) -> Path | None:
    """Where `kg serve` keeps its snapshots (None outside `kg serve`)."""
    return settings.ontology_dir.parent if settings.ontology_source is not None else None


def prepare(settings: Settings) -> tuple[list[str], Settings]:
    """Snapshot the source files and validate the snapshot: the errors that forbid a reload (none when the store is
    remote or on disk: those are built elsewhere), and the settings that load exactly what was validated."""
    if settings.sparql_url or settings.store_dir:
        return [], settings
    folder = snapshot_folder(settings) or Path(tempfile.gettempdir()) / f"kg-reload-{os.getpid()}"
    try:
        snapshot = take_snapshot(source_of(settings), folder)
    except OSError as exc:
        return [f"cannot read {source_of(settings)}: {exc.strerror or exc}"], settings
    try:
        report = check(settings, snapshot, source_of(settings))
    except SourceError as exc:
        shutil.rmtree(snapshot, ignore_errors=True)
        return [str(exc).replace(str(snapshot), str(source_of(settings)))], settings
    if report.errors:
        shutil.rmtree(snapshot, ignore_errors=True)
        return [f.text() for f in report.errors], settings
    if snapshot_folder(settings) is not None:
        publish(snapshot, folder)
        return [], settings
    return [], settings.model_copy(update={"ontology_dir": snapshot})


def forget(loaded: Settings, settings: Settings) -> None:
    """Remove the snapshot a reload outside `kg serve` loaded (its data is in memory now)."""
    if loaded.ontology_dir != settings.ontology_dir:
        shutil.rmtree(loaded.ontology_dir, ignore_errors=True)


async def validated(settings: Settings) -> tuple[list[str], Settings]:
    """``prepare`` off the event loop, one reload at a time."""
    folder = snapshot_folder(settings) or Path(tempfile.gettempdir()) / f"kg-reload-{os.getpid()}"

    def locked() -> tuple[list[str], Settings]:
        with one_at_a_time(folder):
            return prepare(settings)

    return await asyncio.to_thread(locked)


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
    """For `kg serve --watch`: in the supervisor, when files under ontology/ change and still validate, publish them
    and announce the reload, which every worker follows in place; when they do not validate, log why and keep
    serving."""

    def __init__(self, settings: Settings, interval: float = 1.0, notify: Callable[[], None] | None = None) -> None:
        super().__init__(name="kg-watch", daemon=True)
        self.settings = settings
        self.interval = interval
        self.notify = notify or self.announce
        self.stopped = threading.Event()

    def announce(self) -> None:
        if self.settings.runtime_dir is not None:
            announce(self.settings.runtime_dir)
        else:  # a supervisor without a runtime folder: have it replace its workers
            os.kill(os.getpid(), signal.SIGHUP)

    def run(self) -> None:
        source = source_of(self.settings)
        last = fingerprint(source)
        while not self.stopped.wait(self.interval):
            now = fingerprint(source)
            if now == last:
                continue
            last = now
            time.sleep(self.interval / 2)  # let an editor finish writing
            try:
                self.reload()
            except Exception:  # the watcher outlives whatever a broken file or a full disk does to one attempt
                log.exception("reload after a change failed; still serving the previous release")

    def reload(self) -> None:
        folder = snapshot_folder(self.settings) or Path(tempfile.gettempdir()) / f"kg-reload-{os.getpid()}"
        try:
            with one_at_a_time(folder):
                problems, _ = prepare(self.settings)
        except Busy:
            log.info("files changed while a reload runs; that reload takes them")
            return
        if problems:
            RELOADS.labels("refused").inc()
            log.error(
                "files changed but do not validate; still serving the previous release", extra={"errors": problems[:20]}
            )
            return
        RELOADS.labels("announced").inc()
        log.info("files changed and validate; the workers load them")
        self.notify()


def announce(runtime: Path) -> str:
    """Tell every worker of a `kg serve` to load the last validated release: a new stamp, written in one step."""
    stamp = uuid.uuid4().hex
    written = runtime / f".{STAMP}-{os.getpid()}"
    written.write_text(stamp)
    os.replace(written, runtime / STAMP)
    return stamp


def stamp_of(runtime: Path) -> str | None:
    """The stamp of the last reload announced in ``runtime`` (None before the first)."""
    try:
        return (runtime / STAMP).read_text()
    except OSError:
        return None


def current_release(settings: Settings) -> Settings:
    """The settings that load the last validated release: under `kg serve`, the snapshot ``current`` points at now,
    resolved once so that a reload published meanwhile cannot mix two snapshots; else ``settings`` as they are (an
    on-disk store is opened afresh, a remote one asked afresh)."""
    folder = snapshot_folder(settings)
    if folder is None:
        return settings
    return settings.model_copy(update={"ontology_dir": (folder / CURRENT).resolve()})


class Follower:
    """In a worker of `kg serve`: swaps in the release of each new stamp (``swap`` loads it, then replaces the runtime
    in one assignment). A release that cannot be loaded here (a disk that was full for a moment, a snapshot being
    replaced) is logged, the previous one served on, and the load tried again after a wait that doubles each time
    (``RETRY_SECONDS``); a newer stamp is tried at once."""

    def __init__(
        self,
        runtime: Path,
        swap: Callable[[Settings], Awaitable[str]],
        settings: Settings,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.runtime = runtime
        self.swap = swap
        self.settings = settings
        self.clock = clock
        self.stamp = stamp_of(runtime)
        """The stamp of the release this worker serves."""
        self.failed: tuple[str, int, float] | None = None
        """The stamp that could not be loaded, how many times in a row, and when it may be tried again."""

    async def run(self) -> None:
        while True:
            await asyncio.sleep(FOLLOW_SECONDS)
            await self.step()

    async def step(self) -> None:
        stamp = stamp_of(self.runtime)
        if stamp is None or stamp == self.stamp:
            return
        failed, failures, retry_at = self.failed or (None, 0, 0.0)
        if stamp != failed:
            failures = 0
        elif self.clock() < retry_at:
            return
        try:
            release = await self.swap(current_release(self.settings))
        except Exception:  # a snapshot removed meanwhile, a full disk...: keep serving what is loaded
            failures += 1
            first, longest = RETRY_SECONDS
            wait = min(first * 2 ** (failures - 1), longest)
            self.failed = (stamp, failures, self.clock() + wait)
            RELOADS.labels("failed").inc()
            log.exception(
                "worker %s could not load the announced release (attempt %d); still serving the previous one, "
                "trying again in %.0f s",
                os.getpid(),
                failures,
                wait,
            )
            return
        self.stamp, self.failed = stamp, None
        log.info("worker %s now serves release %s", os.getpid(), release, extra={"release": release})

    def announce(self) -> None:
        """This worker has loaded the new release itself: tell the others, and do not load it again here."""
        self.stamp = announce(self.runtime)
