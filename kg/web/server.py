"""`kg serve`: uvicorn (uvloop, httptools) worker processes under a supervisor that replaces any worker that exits.

Workers get their settings through ``KG_`` environment variables, the one way settings travel. Client SPARQL runs in
each worker's sandbox processes (``kg.execution.pool``), which are killed at the deadline, never the worker; a worker
whose own in-process query outlived its deadline retires and the supervisor starts a fresh one. The listening socket
belongs to the supervisor, so connections wait in its backlog meanwhile instead of being refused.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

import uvicorn
from uvicorn.supervisors.multiprocess import Multiprocess

from kg.execution.ledger import LEDGER, connect
from kg.metrics import share
from kg.settings import Settings
from kg.web.limits import LimitedHttpTools
from kg.web.observability import configure_logging
from kg.web.reload import Watcher


def environment(settings: Settings) -> dict[str, str]:
    """``KG_`` variables that recreate ``settings`` in a worker process."""
    env = {}
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        key = f"KG_{name.upper()}"
        env[key] = json.dumps(value) if isinstance(value, list) else str(value)
    return env


def serve(settings: Settings, watch: bool = False) -> None:
    """Run the supervisor and its workers until interrupted. With ``watch``, a change under ontology/ that still
    validates is published and announced in the runtime folder, and every worker swaps it in without closing a
    connection (kg.web.reload); SIGHUP replaces the workers one by one (each new one loads the last validated
    release)."""
    runtime = Path(tempfile.mkdtemp(prefix="kg-serve-"))
    settings = settings.model_copy(update={"runtime_dir": runtime})
    connect(runtime / LEDGER).close()  # the workers' shared client budgets (kg.execution.ledger), made once here
    os.environ.update(environment(settings.model_copy(update={"retire_on_timeout": True})))
    snapshots = share(runtime)  # what the supervisor counts (the reloads it announces) is scraped with the rest
    configure_logging(access_log=settings.access_log)
    config = uvicorn.Config(
        "kg.app:create_app_from_environment",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        loop="uvloop",
        http=LimitedHttpTools,
        timeout_keep_alive=settings.keep_alive_timeout,
        limit_concurrency=settings.max_connections,
        lifespan="on",
        access_log=False,
        server_header=False,
        log_level=logging.INFO,
        timeout_graceful_shutdown=int(settings.query_timeout) + 5,
        timeout_worker_healthcheck=60,  # a worker loads the store and starts its sandboxes before it is ready
        proxy_headers=True,
        forwarded_allow_ips=settings.trusted_proxies,
    )
    sock = config.bind_socket()
    watcher = Watcher(settings) if watch else None
    if watcher is not None:
        watcher.start()
    try:
        Multiprocess(config, sockets=[sock]).run()
    finally:
        if watcher is not None:
            watcher.stopped.set()
        sock.close()
        snapshots.stop()
        shutil.rmtree(runtime, ignore_errors=True)
