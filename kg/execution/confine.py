"""Kernel limits a sandbox process puts on itself before it reads its first query: a memory cap, no core dumps,
death with its parent, and no network.

The network guard is a seccomp filter (libseccomp, through the ``pyseccomp`` package or Debian's python3-seccomp):
``socket()`` for any family but AF_UNIX fails with EPERM, and ``io_uring_setup`` too (io_uring can open sockets
without the socket system call). The filter is inherited by every thread and cannot be lifted, so no text the engine
runs (a ``SERVICE`` clause however it is spelled) can open a connection. The guard checks itself after loading: a
sandbox where an AF_INET socket can still be made reports that it has no guard.
"""

from __future__ import annotations

import ctypes
import errno
import importlib
import resource
import signal
import socket
from dataclasses import dataclass
from typing import Any

PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class Guard:
    mechanism: str | None
    """The kernel mechanism that denies the network ("seccomp"), or None when there is none."""
    detail: str


def die_with_parent() -> None:
    """SIGKILL this process when the HTTP worker that started it dies (Linux prctl)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the sandbox still exits when its pipe closes
        pass


def limit_memory(limit: int) -> None:
    """Cap the data segment (heap and private anonymous mappings, which is where query evaluation allocates) at
    ``limit`` bytes; an allocation past it fails, and the engine aborts the process. No core files. Should a
    container's memory limit be reached first, the kernel's OOM killer picks a sandbox before an HTTP worker."""
    resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    try:
        with open("/proc/self/oom_score_adj", "w") as adj:
            adj.write("1000")
    except OSError:  # not Linux
        pass


def _libseccomp() -> Any:
    """The libseccomp bindings: pyseccomp (ctypes over libseccomp.so.2), else Debian's python3-seccomp."""
    problems = []
    for name in ("pyseccomp", "seccomp"):
        try:
            return importlib.import_module(name)
        except Exception as exc:  # ImportError, or OSError from ctypes when libseccomp.so.2 is missing
            problems.append(f"{name}: {exc}")
    raise ImportError("; ".join(problems))


def deny_network() -> Guard:
    """Load the seccomp filter, then check that an internet socket really is refused."""
    try:
        seccomp = _libseccomp()
        rules = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
        rules.add_rule(seccomp.ERRNO(errno.EPERM), "socket", seccomp.Arg(0, seccomp.NE, socket.AF_UNIX))
        rules.add_rule(seccomp.ERRNO(errno.EPERM), "socketpair", seccomp.Arg(0, seccomp.NE, socket.AF_UNIX))
        rules.add_rule(seccomp.ERRNO(errno.EPERM), "io_uring_setup")
        rules.load()
    except Exception as exc:
        return Guard(None, f"libseccomp could not be loaded ({exc})")
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.socket(family, socket.SOCK_STREAM).close()
        except PermissionError:
            continue
        except OSError:  # the family is not built into this kernel: no socket either way
            continue
        return Guard(None, f"a seccomp filter was loaded but {family.name} sockets can still be made")
    return Guard("seccomp", "socket() for every family but AF_UNIX fails with EPERM (seccomp filter)")
