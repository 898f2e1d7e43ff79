"""Kernel limits a sandbox process puts on itself before it reads its first query: a memory cap, no core dumps,
death with its parent, and no network.

The network guard is a seccomp filter (libseccomp, through the ``pyseccomp`` package or Debian's python3-seccomp):
``socket()`` for any family but AF_UNIX fails with EPERM, and ``io_uring_setup`` too (io_uring can open sockets
without the socket system call). The filter is inherited by every thread and cannot be lifted, so no text the engine
runs (a ``SERVICE`` clause however it is spelled) can open a connection. The guard checks itself after loading: a
sandbox where an AF_INET socket can still be made reports that it has no guard.

Where the kernel has Landlock with network rules (ABI 4, Linux 6.7), TCP connect and bind are denied by Landlock as
well, checked the same way. It is a second layer, not a substitute: it leaves UDP (a DNS lookup) open, so without
seccomp the sandbox reports no guard.
"""

from __future__ import annotations

import ctypes
import errno
import importlib
import os
import resource
import signal
import socket
from dataclasses import dataclass
from typing import Any

PR_SET_PDEATHSIG = 1
PR_SET_NO_NEW_PRIVS = 38
SYS_LANDLOCK_CREATE_RULESET = 444
"""The Landlock system calls have the same numbers on every architecture (the unified table)."""
SYS_LANDLOCK_RESTRICT_SELF = 446
LANDLOCK_CREATE_RULESET_VERSION = 1
LANDLOCK_ACCESS_NET = 1 | 2
"""LANDLOCK_ACCESS_NET_BIND_TCP | LANDLOCK_ACCESS_NET_CONNECT_TCP"""


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64)]


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


def deny_tcp() -> str | None:
    """Deny TCP connect and bind with Landlock, then check that a connection to 127.0.0.1 is refused before it is
    tried; a description of the layer, or None where the kernel has no Landlock network rules."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        abi = libc.syscall(
            ctypes.c_long(SYS_LANDLOCK_CREATE_RULESET),
            None,
            ctypes.c_size_t(0),
            ctypes.c_uint32(LANDLOCK_CREATE_RULESET_VERSION),
        )
        if abi < 4:
            return None
        attr = _RulesetAttr(0, LANDLOCK_ACCESS_NET)
        ruleset = libc.syscall(
            ctypes.c_long(SYS_LANDLOCK_CREATE_RULESET),
            ctypes.byref(attr),
            ctypes.c_size_t(ctypes.sizeof(attr)),
            ctypes.c_uint32(0),
        )
        if ruleset < 0:
            return None
        try:
            if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
                return None
            if libc.syscall(ctypes.c_long(SYS_LANDLOCK_RESTRICT_SELF), ctypes.c_int(ruleset), ctypes.c_uint32(0)):
                return None
        finally:
            os.close(ruleset)
    except (OSError, AttributeError):  # not Linux
        return None
    with socket.socket() as probe:
        try:
            probe.connect(("127.0.0.1", 9))
        except PermissionError:
            return f"TCP connect and bind denied (Landlock ABI {abi})"
        except OSError:
            return None
    return None


def deny_network() -> Guard:
    """Deny TCP with Landlock where the kernel has it, load the seccomp filter, then check that an internet socket
    really is refused."""
    landlock = deny_tcp()
    also = f"; {landlock}" if landlock else ""
    try:
        seccomp = _libseccomp()
        rules = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
        rules.add_rule(seccomp.ERRNO(errno.EPERM), "socket", seccomp.Arg(0, seccomp.NE, socket.AF_UNIX))
        rules.add_rule(seccomp.ERRNO(errno.EPERM), "socketpair", seccomp.Arg(0, seccomp.NE, socket.AF_UNIX))
        rules.add_rule(seccomp.ERRNO(errno.EPERM), "io_uring_setup")
        rules.load()
    except Exception as exc:
        return Guard(None, f"libseccomp could not be loaded ({exc}){also}")
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.socket(family, socket.SOCK_STREAM).close()
        except PermissionError:
            continue
        except OSError:  # the family is not built into this kernel: no socket either way
            continue
        return Guard(None, f"a seccomp filter was loaded but {family.name} sockets can still be made{also}")
    mechanism = "seccomp and Landlock" if landlock else "seccomp"
    return Guard(mechanism, f"socket() for every family but AF_UNIX fails with EPERM (seccomp filter){also}")
