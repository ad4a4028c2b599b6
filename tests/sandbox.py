"""The test-session sandbox: a test fails when it opens a file outside the repository or
connects anywhere but this machine's loopback.

``install(root)`` adds a :func:`sys.addaudithook` hook (hooks cannot be removed, so it stays for
the life of the process). For every ``open``, ``os.listdir`` and ``os.scandir`` of a path, and
every ``socket.connect``/``sendto``/``sendmsg``/``getaddrinfo``/``gethostbyname``, it decides
whether the access is allowed; when it is not, it records the violation and raises
:class:`SandboxViolation` in the code that tried. The pytest hooks in ``tests/conftest.py``
fail the test at the end of the phase (setup, call, teardown) in which anything was recorded,
so a violation that the code under test swallowed (``except Exception``) still fails the test,
and one in a server thread fails the test that was running.

Files beside the repository (in the folder that holds it: a sibling checkout, notes, a
developer's data) are never allowed, even when that folder is temporary. Allowed paths are what
a test run legitimately reads besides the repository: the Python installation and its packages
(the venv, the standard library, site-packages), temporary directories, ``/dev``, ``/proc``,
``/sys``, and the system files the standard library and TLS/DNS/time-zone code read
(certificates, ``/etc/hosts``, ``/etc/localtime``, zoneinfo, locale and mime tables, the
passwd/group databases). Allowed connections: IPv4/IPv6 loopback (``127.0.0.0/8``, ``::1``,
``localhost``) and Unix sockets under the PostgreSQL socket directories, temporary directories
or the repository.

Writes are held to a stricter rule: a test writes only under temporary directories that are
not inside the repository (``tmp_path``). Opening a file under the repository for writing,
making a directory, renaming or copying into it, or opening an SQLite database there is a
violation, except for the caches tools keep there (``__pycache__``, ``.pytest_cache``,
``.hypothesis``, ``.mypy_cache``, ``.ruff_cache``) and ``test-artifacts/`` (screenshots meant to
be kept). This is how files once reached ``tmp/`` in the repository: a test passed
``jsonl://`` + an absolute path, which the JSONL sink reads as a path relative to the working
directory (``jsonl:///tmp/x`` is ``./tmp/x``). ``tests/conftest.py`` also moves the temporary
directory out of the repository should ``TMPDIR`` point into it.

What this cannot see: child processes (``subprocess`` runs ``git``, ``gitlab-ci-local``,
``pg_ctl``… outside the hook) and C libraries that do their own I/O (libpq's connection to
PostgreSQL). Those tests point their tools at 127.0.0.1 and at the repository themselves.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
import sysconfig
import tempfile
import threading
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

PATH_EVENTS = frozenset({"open", "os.listdir", "os.scandir"})
# Events that create or replace a file or directory, and which argument names it.
WRITE_EVENTS = {"os.mkdir": 0, "os.rename": 1, "os.replace": 1, "shutil.copyfile": 1}
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
# What tools may write inside the repository during a test run.
WRITABLE_NAMES = frozenset(
    {"__pycache__", ".pytest_cache", ".hypothesis", ".mypy_cache", ".ruff_cache"}
)
WRITABLE_FOLDERS = ("test-artifacts",)
ARTIFACTS_ENV = "PIPELEDGER_TEST_ARTIFACTS"
ADDRESS_EVENTS = frozenset({"socket.connect", "socket.sendto", "socket.sendmsg"})
HOST_EVENTS = frozenset({"socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr"})
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})

# System files the standard library, TLS, DNS, time zones and locales read.
SYSTEM_FILES = (
    "/etc/ssl",
    "/etc/pki",
    "/etc/ca-certificates",
    "/etc/ca-certificates.conf",
    "/usr/share/ca-certificates",
    "/usr/lib/ssl",
    "/usr/local/ssl",
    "/etc/localtime",
    "/etc/timezone",
    "/usr/share/zoneinfo",
    "/etc/hosts",
    "/etc/host.conf",
    "/etc/resolv.conf",
    "/etc/nsswitch.conf",
    "/etc/gai.conf",
    "/etc/services",
    "/etc/protocols",
    "/etc/passwd",
    "/etc/group",
    "/etc/mime.types",
    "/etc/os-release",
    "/usr/lib/os-release",
    "/usr/share/mime",
    "/usr/lib/locale",
    "/usr/share/locale",
    "/etc/ld.so.cache",
    "/lib",
    "/lib64",
    "/usr/lib",
    "/usr/lib64",
    "/usr/local/lib",
    "/usr/share/terminfo",
    "/lib/terminfo",
    "/etc/terminfo",
)
KERNEL_FILES = ("/dev", "/proc", "/sys")
POSTGRES_SOCKETS = ("/var/run/postgresql", "/run/postgresql")


class SandboxViolation(RuntimeError):
    """A test touched a file outside the repository or a non-loopback address."""


def _real(path: str) -> str:
    return os.path.realpath(os.path.abspath(path))


def _python_paths() -> list[str]:
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    paths.update(value for value in sysconfig.get_paths().values() if value)
    paths.update(entry for entry in sys.path if entry and os.path.isabs(entry))
    return sorted(paths)


def _temp_dirs() -> list[str]:
    return sorted({tempfile.gettempdir(), "/tmp", "/var/tmp", "/dev/shm"})


def _under(path: str, prefixes: Iterable[str]) -> bool:
    return any(path == prefix or path.startswith(prefix.rstrip("/") + "/") for prefix in prefixes)


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


class Sandbox:
    """The allow-lists and the violations recorded since the last :meth:`take`."""

    def __init__(self, root: Path) -> None:
        self.root = _real(str(root))
        self.guarding = True  # off once the tests are over (pytest's own cache is not a test's)
        self.temp = [_real(path) for path in _temp_dirs()]
        self.python = [_real(path) for path in _python_paths()]  # may sit beside the repo
        # Where a test leaves what a person looks at afterwards (the evidence pack's
        # screenshot): .ci/run points it beside the source, outside the copy it tests.
        artifacts = os.environ.get(ARTIFACTS_ENV)
        self.artifacts = [_real(artifacts)] if artifacts else []
        self.readable = [*self.temp, *KERNEL_FILES, *SYSTEM_FILES]
        self.sockets = [self.root, *self.temp, *POSTGRES_SOCKETS]
        # The folder the repository sits in (anything beside the checkout) is out of bounds, even
        # when it is a temporary folder, like .ci/run's copy; unless it is the system's
        # temporary folder itself, which the tests' own temporary files live in.
        parent = os.path.dirname(self.root)
        self.beside: str | None = None if parent in self.temp or parent == "/" else parent
        self._violations: list[str] = []
        self._lock = threading.Lock()

    # -- decisions ---------------------------------------------------------------------------

    def path_problem(self, raw: Any) -> str | None:
        """Why opening ``raw`` is not allowed, or None when it is."""
        if not isinstance(raw, str | bytes | os.PathLike):
            return None  # a file descriptor
        path = os.fsdecode(raw)
        real = _real(path)
        if _under(real, [self.root, *self.python, *self.artifacts]):
            return None
        if self.beside is not None and any(
            _under(seen, [self.beside]) for seen in (real, os.path.abspath(path))
        ):
            return (
                f"opened {path!r}, beside the repository {self.root}: copy what the test needs "
                "into tests/fixtures/<origin>/ (with SOURCE.md) and read it with "
                "tests.paths.fixture()"
            )
        if _under(real, self.readable):
            return None
        return (
            f"opened {path!r}, outside the repository {self.root}: copy what the test needs "
            "into tests/fixtures/<origin>/ (with SOURCE.md) and read it with tests.paths.fixture()"
        )

    def write_problem(self, raw: Any) -> str | None:
        """Why creating or writing ``raw`` is not allowed (it is inside the repository and
        not one of the caches), or None when it is."""
        if not isinstance(raw, str | bytes | os.PathLike):
            return None
        path = os.fsdecode(raw)
        if path.startswith("file:"):  # an SQLite URI
            path = path[5:].split("?", 1)[0]
        if path in ("", ":memory:"):
            return None
        real = _real(path)
        if not _under(real, [self.root]):
            return None
        inside = Path(os.path.relpath(real, self.root)).parts
        if WRITABLE_NAMES.intersection(inside) or inside[:1] in [(f,) for f in WRITABLE_FOLDERS]:
            return None
        return (
            f"wrote {path!r}, inside the repository {self.root}: tests write only under"
            " tmp_path (a temporary directory outside the repository)"
        )

    def address_problem(self, family: int, address: Any) -> str | None:
        """Why sending to ``address`` is not allowed, or None when it is."""
        if family == getattr(socket, "AF_UNIX", None):
            if isinstance(address, str | bytes) and address and address[:1] not in ("\0", b"\0"):
                if _under(_real(os.fsdecode(address)), self.sockets):
                    return None
            return (
                f"connected to the Unix socket {address!r}, which is not PostgreSQL's or a test's"
            )
        if family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple):
            host = address[0]
            if isinstance(host, bytes):
                host = host.decode("ascii", "replace")
            if isinstance(host, str) and is_loopback(host):
                return None
            return f"connected to {address!r}: tests may only use 127.0.0.1 or ::1"
        return None  # netlink and the like: not a network peer

    def host_problem(self, host: Any) -> str | None:
        if host is None:
            return None
        if isinstance(host, bytes):
            host = host.decode("ascii", "replace")
        if isinstance(host, str) and (host == "" or is_loopback(host)):
            return None
        return f"looked up the host {host!r}: tests may only use 127.0.0.1 or ::1"

    # -- the audit hook ----------------------------------------------------------------------

    def audit(self, event: str, args: tuple[Any, ...]) -> None:
        if not self.guarding:
            return
        problem = None
        if event in PATH_EVENTS:
            problem = self.path_problem(args[0]) if args else None
            if problem is None and event == "open" and len(args) > 2:
                flags = args[2]
                if isinstance(flags, int) and flags & WRITE_FLAGS:
                    problem = self.write_problem(args[0])
        elif event in WRITE_EVENTS:
            index = WRITE_EVENTS[event]
            problem = self.write_problem(args[index]) if len(args) > index else None
        elif event == "sqlite3.connect":
            problem = self.write_problem(args[0]) if args else None
        elif event in ADDRESS_EVENTS:
            sock = args[0] if args else None
            family = getattr(sock, "family", None)
            if isinstance(family, int) and len(args) > 1:
                problem = self.address_problem(family, args[-1])
        elif event in HOST_EVENTS:
            problem = self.host_problem(args[0]) if args else None
        if problem is not None:
            with self._lock:
                self._violations.append(problem)
            raise SandboxViolation(f"sandbox: {problem}")

    def take(self) -> list[str]:
        """The violations recorded since the last call (and forget them)."""
        with self._lock:
            taken, self._violations = self._violations, []
        return taken


@cache
def install(root: Path) -> Sandbox:
    """Install the sandbox for this process; once per root (an audit hook cannot be removed)."""
    sandbox = Sandbox(root)
    sys.addaudithook(sandbox.audit)
    return sandbox
