"""Real server processes for end-to-end tests, on 127.0.0.1 only, each started and stopped within a bounded time."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pyoxigraph as ox
from conftest import ROOT

HOST = "127.0.0.1"


def needs_program(program: str, package: str) -> str:
    """The path of a program from a Debian package that a test drives. Where it is missing the test is skipped,
    saying so; under CI (which installs it in .ci/run) a missing program fails instead."""
    found = shutil.which(program) or (program if Path(program).is_file() else None)
    if found is None:
        message = f"{program} is not installed (apt-get install {package}); .ci/run installs it"
        if os.environ.get("CI"):
            raise RuntimeError(message)
        import pytest

        pytest.skip(message)
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before answering {url}")
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {seconds} s")


def stop(process: subprocess.Popen[bytes], graceful: signal.Signals = signal.SIGINT) -> None:
    if process.poll() is None:
        process.send_signal(graceful)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@dataclass
class Served:
    url: str
    process: subprocess.Popen[bytes]


@contextmanager
def kg_server(*args: str, env: dict[str, str] | None = None, log: Path | None = None) -> Iterator[Served]:
    """`kg serve` on a free port of 127.0.0.1; yields its base URL and the supervisor process."""
    port = free_port()
    environment = {**os.environ, **(env or {})}
    out = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "kg", "serve", "--host", HOST, "--port", str(port), *args],
        cwd=ROOT,
        env=environment,
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    base = f"http://{HOST}:{port}"
    try:
        wait_until_up(base + "/healthz", process)
        yield Served(base, process)
    finally:
        stop(process)
        if log:
            out.close()  # type: ignore[union-attr]


def oxigraph_binary() -> str:
    found = shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph")
    if not Path(found).exists():
        raise RuntimeError("the `oxigraph` server (PyPI package oxigraph) is not installed; it is a test dependency")
    return found


@contextmanager
def oxigraph_server(location: Path) -> Iterator[str]:
    """`oxigraph serve-read-only` over a store built by `kg build`, default graph = union of the graphs."""
    port = free_port()
    process = subprocess.Popen(
        [
            oxigraph_binary(),
            "serve-read-only",
            "--location",
            str(location),
            "--bind",
            f"{HOST}:{port}",
            "--union-default-graph",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://{HOST}:{port}"
    try:
        wait_until_up(base + "/query?query=ASK%7B%7D", process)
        yield base + "/query"
    finally:
        stop(process)


def workers(pid: int) -> set[int]:
    """The worker processes of a `kg serve` supervisor (its spawned children, not multiprocessing's helpers)."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    found = set()
    for child in path.read_text().split() if path.exists() else []:
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in cmdline:
            found.add(int(child))
    return found


@contextmanager
def nginx_proxy(upstream: str, workdir: Path) -> Iterator[str]:
    """nginx on a free port of 127.0.0.1 in front of ``upstream`` (host:port), with the proxy rules operators deploy
    (deploy/nginx/kg-proxy.conf); yields its base URL."""
    binary = needs_program("/usr/sbin/nginx", "nginx-light")
    port = free_port()
    temp = "\n".join(
        f"    {kind}_temp_path {workdir}/{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (workdir / "nginx.conf").write_text(
        f"""{"user root;" if os.geteuid() == 0 else ""}
worker_processes 1;
pid {workdir}/nginx.pid;
error_log {workdir}/error.log warn;
events {{}}
http {{
    access_log off;
{temp}
    upstream kg {{
        server {upstream};
        keepalive 8;
    }}
    server {{
        listen {HOST}:{port};
        include {ROOT / "deploy" / "nginx" / "kg-proxy.conf"};
    }}
}}
"""
    )
    process = subprocess.Popen(
        [binary, "-p", str(workdir), "-c", str(workdir / "nginx.conf"), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    base = f"http://{HOST}:{port}"
    try:
        wait_until_up(base + "/healthz", process, seconds=20)
        yield base
    finally:
        stop(process, signal.SIGQUIT)  # nginx's graceful shutdown


VIRTUOSO_INI = """\
[Database]
DatabaseFile = {db}/virtuoso.db
ErrorLogFile = {db}/virtuoso.log
LockFile = {db}/virtuoso.lck
TransactionFile = {db}/virtuoso.trx
xa_persistent_file = {db}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
Striping = 0
TempStorage = TempDatabase
[TempDatabase]
DatabaseFile = {db}/virtuoso-temp.db
TransactionFile = {db}/virtuoso-temp.trx
[Parameters]
ServerPort = {host}:{isql}
DisableUnixSocket = 1
CaseMode = 2
DirsAllowed = ., {load}
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
ThreadsPerQuery = 2
CheckpointInterval = 0
[HTTPServer]
ServerPort = {host}:{http}
ServerRoot = {db}
ServerThreads = 4
MaxKeepAlives = 100
KeepAliveTimeout = 600
Charset = UTF-8
EnabledGzipContent = 0
[SPARQL]
ResultSetMaxRows = 1000000
MaxQueryExecutionTime = 60
"""
"""A Virtuoso of its own: database, logs and both ports (ISQL, HTTP) on 127.0.0.1, nothing from /etc or /var/lib."""


def _quads_held(url: str, graphs: set[str]) -> int:
    values = " ".join(f"<{g}>" for g in sorted(graphs))
    query = f"SELECT (COUNT(*) AS ?n) WHERE {{ VALUES ?g {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }}"
    response = httpx.post(url, data={"query": query}, headers={"Accept": "application/sparql-results+json"}, timeout=60)
    response.raise_for_status()
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


@contextmanager
def virtuoso_server(nquads: dict[str, bytes], workdir: Path) -> Iterator[str]:
    """Virtuoso Open Source (Debian's virtuoso-opensource) with a fresh database in ``workdir``, its HTTP SPARQL
    endpoint and ISQL on free ports of 127.0.0.1, loaded with the release's N-Quads (each quad into its named graph,
    by Virtuoso's bulk loader through isql-vt); yields the endpoint's URL and stops the server afterwards."""
    binary = needs_program("virtuoso-t", "virtuoso-opensource")
    isql = needs_program("isql-vt", "virtuoso-opensource")
    db, load = workdir / "db", workdir / "load"
    db.mkdir(parents=True)
    load.mkdir()
    for name, body in nquads.items():
        (load / name).write_bytes(body)
    http_port, isql_port = free_port(), free_port()
    ini = workdir / "virtuoso.ini"
    ini.write_text(VIRTUOSO_INI.format(db=db, load=load, host=HOST, isql=isql_port, http=http_port))
    log = open(workdir / "virtuoso.out", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [binary, "+foreground", "+configfile", str(ini)], cwd=db, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://{HOST}:{http_port}/sparql"
    try:
        wait_until_up(url + "?query=ASK%7B%7D", process, seconds=180)  # a fresh database takes 20-60 s
        script = f"ld_dir('{load}', '*.nq', 'urn:kg:no-graph'); rdf_loader_run(); checkpoint;"
        script += " SELECT ll_file, ll_error FROM DB.DBA.LOAD_LIST WHERE ll_error IS NOT NULL;"
        loaded = subprocess.run(
            [isql, f"{HOST}:{isql_port}", "dba", "dba", f"exec={script}"], capture_output=True, timeout=300, check=False
        )
        output = loaded.stdout.decode(errors="replace") + loaded.stderr.decode(errors="replace")
        expected = {q for body in nquads.values() for q in ox.parse(body, ox.RdfFormat.N_QUADS)}
        held = _quads_held(url, {q.graph_name.value for q in expected if isinstance(q.graph_name, ox.NamedNode)})
        if loaded.returncode != 0 or held != len(expected):
            raise RuntimeError(
                f"Virtuoso holds {held} of the release's {len(expected)} quads after loading ({workdir}):\n{output}"
            )
        yield url
    finally:
        stop(process, signal.SIGTERM)
        log.close()
