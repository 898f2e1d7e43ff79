"""A pool of pre-started sandbox processes (kg.execution.sandbox) that run clients' SPARQL apart from the HTTP worker.

Each sandbox runs one query at a time. At the deadline its process is killed and a fresh one started; a sandbox that
dies by itself (a crash, a stack overflow, its memory cap) fails only the query it was running, which gets a problem
document with an incident id. Either way the pool refills in the background and the worker's other requests never
notice. The pool is asyncio-native: killing a process costs one signal, and no thread waits on it.

A sandbox that dies while idle (killed from outside, between queries) costs no query: it is replaced as soon as its
end is seen, a query never takes a sandbox whose process has ended, and a query whose request could not be written
to its sandbox, or whose sandbox ended without a receipt for it (it never reached the engine, so it never ran), goes
on to another, up to once per sandbox of the pool (all of them may have been killed at once). A query that was
delivered and then ended its sandbox is never sent again: it fails alone, with its incident id.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import uuid
from dataclasses import dataclass, field
from typing import Any

from kg import errors
from kg.errors import KgError, QueryTimeout
from kg.execution.confine import Guard
from kg.execution.sandbox import LENGTHS, frame
from kg.metrics import QUERY_TIMEOUTS

log = logging.getLogger("kg.execution.pool")
START_SECONDS = 60.0
"""Longest a sandbox may take to load the store and say it is ready."""
STDERR_TAIL = 4096
KNOWN_ERRORS = {
    cls.__name__: cls for cls in vars(errors).values() if isinstance(cls, type) and issubclass(cls, KgError)
}


class SandboxFailed(KgError):
    """The sandbox running a query ended before it answered (a crash, a stack overflow, its memory cap)."""

    status = 500
    title = "Internal Server Error"


class MemoryCapExceeded(KgError):
    status = 422
    title = "Unprocessable Content"


@dataclass(eq=False)
class Sandbox:
    process: asyncio.subprocess.Process
    tail: bytearray = field(default_factory=bytearray)
    """The last bytes the process wrote to stderr (the engine's last words, for the incident log)."""
    drain: asyncio.Task[None] | None = None
    guard: Guard = field(default_factory=lambda: Guard(None, "not started"))
    out_of_memory: bool = False
    """The engine said an allocation failed (Rust's message, before the backtrace that may follow)."""
    replaced: bool = False
    """The pool has ended this sandbox, or started its replacement; it must not be handed out (or replaced) again."""
    receipts: int = -1
    """The reading end of the pipe where the sandbox writes a byte for each request it has read whole (non-blocking,
    read only after an answer or a failure, so a receipt never wakes the worker)."""

    def take_receipts(self) -> int:
        """How many receipts arrived since the last call (0 if none)."""
        try:
            return len(os.read(self.receipts, 65536))
        except (BlockingIOError, OSError):
            return 0

    @property
    def dead(self) -> bool:
        """The process has ended, or its answers pipe has (seen by the event loop, without waiting)."""
        stdin, stdout = self.process.stdin, self.process.stdout
        ended = stdin is None or stdin.is_closing() or stdout is None or stdout.at_eof()
        return ended or self.process.returncode is not None

    async def read_stderr(self) -> None:
        assert self.process.stderr is not None
        while chunk := await self.process.stderr.read(4096):
            self.tail += chunk
            self.out_of_memory = self.out_of_memory or b"memory allocation of" in self.tail
            del self.tail[:-STDERR_TAIL]

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()

    def close_receipts(self) -> None:
        if self.receipts >= 0:
            with contextlib.suppress(OSError):
                os.close(self.receipts)
            self.receipts = -1

    async def end(self) -> None:
        """Kill the process and wait until it and its pipes are gone."""
        self.kill()
        await self.process.wait()
        if self.drain is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.drain, 5.0)
        self.close_receipts()


async def _read_frame(reader: asyncio.StreamReader, body_limit: int) -> tuple[dict[str, Any], bytes]:
    head_size, body_size = LENGTHS.unpack(await reader.readexactly(LENGTHS.size))
    if head_size > 1 << 20 or body_size > body_limit:
        raise ConnectionError(f"sandbox sent a frame of {head_size} + {body_size} bytes")
    head = await reader.readexactly(head_size)
    body = await reader.readexactly(body_size)
    header = json.loads(head)
    if not isinstance(header, dict):
        raise ConnectionError("sandbox sent a header that is not an object")
    return header, body


class SandboxPool:
    def __init__(self, config: dict[str, Any], payload: bytes, size: int) -> None:
        self.config = config
        self.payload = payload
        self.size = size
        self.idle: asyncio.Queue[Sandbox] = asyncio.Queue()
        self.busy: set[Sandbox] = set()
        self.refills: set[asyncio.Task[None]] = set()
        self.ending: set[asyncio.Task[None]] = set()
        self.watchers: set[asyncio.Task[None]] = set()
        self.closed = False
        self.guard = Guard(None, "no sandbox has started yet")
        self.started = False
        self.body_limit = int(config["max_result_bytes"]) + 1024
        self.kills = 0
        self.crashes = 0

    async def start(self) -> Guard:
        """Start every sandbox and wait until they are ready. The pool's guard is the one they all report (none if
        they differ); a replacement started later that reports another is refused."""
        sandboxes = await asyncio.gather(*(self._spawn() for _ in range(self.size)))
        guards = {sandbox.guard.mechanism for sandbox in sandboxes}
        self.guard = sandboxes[0].guard if len(guards) == 1 else Guard(None, "the sandboxes report different guards")
        self.started = True
        for sandbox in sandboxes:
            self.idle.put_nowait(sandbox)
        return self.guard

    async def _spawn(self) -> Sandbox:
        receipts, written = os.pipe()
        os.set_blocking(receipts, False)
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "kg.execution.sandbox",
                env={name: value for name, value in os.environ.items() if not name.startswith("KG_")},  # no secrets
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                pass_fds=(written,),
            )
        except BaseException:
            os.close(receipts)
            raise
        finally:
            os.close(written)
        sandbox = Sandbox(process, receipts=receipts)
        sandbox.drain = asyncio.get_running_loop().create_task(sandbox.read_stderr())
        assert process.stdin is not None and process.stdout is not None
        try:
            process.stdin.write(frame({**self.config, "receipts": written}, self.payload))
            await process.stdin.drain()
            ready, _ = await asyncio.wait_for(_read_frame(process.stdout, 0), START_SECONDS)
        except (OSError, ConnectionError, asyncio.IncompleteReadError, TimeoutError) as exc:
            await sandbox.end()
            tail = sandbox.tail.decode("utf-8", "replace")[-1000:]
            raise RuntimeError(f"a sandbox process did not start ({type(exc).__name__}): {tail}") from None
        sandbox.guard = Guard(ready.get("guard"), str(ready.get("detail", "")))
        if self.started and sandbox.guard.mechanism != self.guard.mechanism:
            await sandbox.end()
            raise RuntimeError(f"a sandbox came up with another network guard: {sandbox.guard.detail}")
        self._watch(sandbox)
        return sandbox

    def _watch(self, sandbox: Sandbox) -> None:
        """Replace ``sandbox`` as soon as its process ends while idle (a query that ends it replaces it itself)."""

        async def watch() -> None:
            code = await sandbox.process.wait()
            if sandbox.replaced or sandbox in self.busy or self.closed:
                return
            log.warning("sandbox %s ended while idle (status %s); replacing it", sandbox.process.pid, code)
            self._discard(sandbox)

        task = asyncio.get_running_loop().create_task(watch())
        self.watchers.add(task)
        task.add_done_callback(self.watchers.discard)

    def _refill(self) -> None:
        if self.closed:
            return

        async def refill() -> None:
            try:
                sandbox = await self._spawn()
            except (RuntimeError, OSError):
                log.exception("a sandbox could not be replaced; retrying in 1 s")
                await asyncio.sleep(1)
                self._refill()
                return
            if self.closed:
                self._end(sandbox)
            else:
                self.idle.put_nowait(sandbox)

        task = asyncio.get_running_loop().create_task(refill())
        self.refills.add(task)
        task.add_done_callback(self.refills.discard)

    async def run(self, request: dict[str, Any], timeout: float, what: str) -> tuple[dict[str, Any], bytes]:
        """The answer header and body of ``request`` from a sandbox, within ``timeout`` seconds (waiting for a free
        sandbox included); at the deadline the sandbox is killed and replaced, and the client gets 503."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        message = frame(request)
        tries = 0
        while True:
            sandbox = await self._acquire(max(0.0, deadline - loop.time()))
            if sandbox is None:
                raise self._timeout(timeout, what, "no sandbox was free")
            if sandbox.dead:  # ended while idle, before its watcher replaced it
                self._discard(sandbox)
                continue
            self.busy.add(sandbox)
            process = sandbox.process
            assert process.stdin is not None and process.stdout is not None
            try:
                async with asyncio.timeout_at(deadline):  # one deadline for the whole hop (no task per read)
                    process.stdin.write(message)
                    await process.stdin.drain()
                    header, body = await _read_frame(process.stdout, self.body_limit)
                sandbox.take_receipts()
            except TimeoutError:
                self._discard(sandbox)
                self.kills += 1
                raise self._timeout(timeout, what, "its sandbox was killed") from None
            except asyncio.CancelledError:  # the client went away: the sandbox may be busy for long, so end it
                self._discard(sandbox)
                raise
            except (asyncio.IncompleteReadError, OSError) as exc:  # OSError: a broken pipe, or a bad frame
                partial = isinstance(exc, asyncio.IncompleteReadError) and bool(exc.partial)
                had_it = sandbox.take_receipts() > 0 or partial
                self._discard(sandbox)
                tries += 1
                if had_it or tries > self.size:  # it had the query, which may have ended it: never run it twice
                    raise await self._failure(sandbox, what) from None
                # no receipt: it ended before the query reached the engine (see the module's docstring)
                log.warning("sandbox %s ended before it received a query; sending the query to another", process.pid)
                continue
            break
        self.busy.discard(sandbox)
        if self.closed:
            self._end(sandbox)
        else:
            self.idle.put_nowait(sandbox)
        return header, body

    async def _acquire(self, timeout: float) -> Sandbox | None:
        """A free sandbox within ``timeout`` seconds, or None. (Not asyncio.wait_for: on Python 3.11 it can drop an
        item that arrives as the timeout fires, which would lose a sandbox for good.)"""
        if not self.idle.empty():
            return self.idle.get_nowait()
        getter = asyncio.get_running_loop().create_task(self.idle.get())
        try:
            done, _ = await asyncio.wait({getter}, timeout=timeout)
        finally:
            if not getter.done():  # timed out, or the request was cancelled: a sandbox taken after all goes back
                getter.add_done_callback(self._give_back)
                getter.cancel()
        return getter.result() if getter in done else None

    def _give_back(self, getter: asyncio.Task[Sandbox]) -> None:
        if getter.cancelled():
            return
        if self.closed:
            self._end(getter.result())
        else:
            self.idle.put_nowait(getter.result())

    def _end(self, sandbox: Sandbox) -> None:
        sandbox.replaced = True
        task = asyncio.get_running_loop().create_task(sandbox.end())
        self.ending.add(task)
        task.add_done_callback(self.ending.discard)

    def _discard(self, sandbox: Sandbox) -> None:
        self.busy.discard(sandbox)
        if sandbox.replaced:
            return
        self._end(sandbox)
        self._refill()

    def _timeout(self, timeout: float, what: str, how: str) -> QueryTimeout:
        QUERY_TIMEOUTS.inc()
        log.warning("query stopped at the %s s timeout (%s): %.200s", timeout, how, what)
        return QueryTimeout(f"the query ran longer than {timeout:g} s (KG_QUERY_TIMEOUT) and was stopped")

    async def _failure(self, sandbox: Sandbox, what: str) -> KgError:
        self.crashes += 1
        code = await sandbox.process.wait()
        if sandbox.drain is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(sandbox.drain), 1.0)
        incident = uuid.uuid4().hex[:12]
        ended = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit status {code}"
        last = sandbox.tail.decode("utf-8", "replace").strip()
        log.error(
            "incident %s: the sandbox running a query ended with %s: %.200s",
            incident,
            ended,
            what,
            extra={"incident": incident, "stderr": last[-1000:]},
        )
        if sandbox.out_of_memory:
            memory = int(self.config["memory"])
            return MemoryCapExceeded(
                f"the query needed more than its memory cap of {memory} bytes (KG_QUERY_MEMORY) and was stopped "
                f"(incident {incident})"
            )
        return SandboxFailed(
            f"the query stopped the process that ran it ({ended}); nothing else was affected (incident {incident})"
        )

    def close(self) -> None:
        """Stop using the pool: the idle sandboxes end now, the busy ones as their queries end."""
        self.closed = True
        for task in self.refills:
            task.cancel()
        while not self.idle.empty():
            self._end(self.idle.get_nowait())

    async def aclose(self) -> None:
        """End every sandbox, busy ones included, and wait until they are gone."""
        self.close()
        for sandbox in list(self.busy):
            self._end(sandbox)
        await asyncio.gather(*self.refills, return_exceptions=True)
        await asyncio.gather(*self.ending, return_exceptions=True)
        for task in self.watchers:
            task.cancel()


def error_of(header: dict[str, Any], what: str) -> KgError:
    """The client error a sandbox reported, as the KgError it names; anything else is an unexpected fault, logged
    with an incident id (its message is not shown to the client)."""
    name = header.get("error")
    message = str(header.get("message", ""))
    if name == "memory":
        return MemoryCapExceeded("the query needed more memory than its cap (KG_QUERY_MEMORY) and was stopped")
    cls = KNOWN_ERRORS.get(str(name))
    if cls is not None and cls.status < 500:
        return cls(message)
    incident = uuid.uuid4().hex[:12]
    log.error(
        "incident %s: a sandboxed query failed: %s: %.200s", incident, message, what, extra={"incident": incident}
    )
    return SandboxFailed(f"the query failed unexpectedly (incident {incident})")
