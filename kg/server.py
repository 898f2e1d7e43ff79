"""`kg serve`: uvicorn (uvloop, httptools) worker processes under a supervisor that replaces any worker that exits.

Workers get their settings through ``KG_`` environment variables, the one way settings travel. A worker that had to
stop a runaway query retires (see ``kg.executor``) and the supervisor starts a fresh one; the listening socket
belongs to the supervisor, so connections wait in its backlog meanwhile instead of being refused.
"""

from __future__ import annotations

import json
import logging
import os

import uvicorn
from uvicorn.supervisors.multiprocess import Multiprocess

from kg.settings import Settings


def environment(settings: Settings) -> dict[str, str]:
    """``KG_`` variables that recreate ``settings`` in a worker process."""
    env = {}
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        key = f"KG_{name.upper()}"
        env[key] = json.dumps(value) if isinstance(value, list) else str(value)
    return env


def serve(settings: Settings) -> None:
    os.environ.update(environment(settings.model_copy(update={"retire_on_timeout": True})))
    config = uvicorn.Config(
        "kg.app:create_app_from_environment",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,
        server_header=False,
        log_level=logging.INFO,
        timeout_graceful_shutdown=int(settings.query_timeout) + 5,
    )
    sock = config.bind_socket()
    try:
        Multiprocess(config, sockets=[sock]).run()
    finally:
        sock.close()
