"""Child processes of the GitHub bench: the fake API in its own process, and commands whose
wall time, CPU seconds and peak memory are measured on their own (``os.wait4``).

A command is started through a small launcher (this file run as a script: ``python
bench/github_procs.py RESULT -- COMMAND...``; it imports only the standard library), not
straight from the bench: Linux counts the memory of the process a child
was forked from into the child's peak RSS, and the bench holds a rendered org by then.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "bench-token"  # noqa: S105 - the local fake's own token
ORG = "acme"
SUMMARY = re.compile(r"requests: (\d+) \((\d+) not modified\)")


@dataclass(frozen=True)
class Measured:
    """One finished child process: exit code, output, wall and CPU seconds, peak RSS."""

    returncode: int
    output: str
    wall: float
    user: float
    system: float
    max_rss_mb: float

    @property
    def cpu(self) -> float:
        return self.user + self.system

    def summary_requests(self) -> tuple[int, int]:
        """``requests: N (M not modified)`` from a ``pipeledger collect`` summary."""
        found = SUMMARY.search(self.output)
        if found is None:
            raise RuntimeError(f"no request summary in the output:\n{self.output[-2000:]}")
        return int(found.group(1)), int(found.group(2))


def run_measured(argv: list[str], env: dict[str, str], cwd: Path) -> Measured:
    """Run ``argv`` to its end through the launcher and read what it measured."""
    with tempfile.TemporaryDirectory(prefix="pipeledger-bench-") as scratch:
        result = Path(scratch) / "result.json"
        launcher = [sys.executable, __file__, str(result), "--", *argv]
        with (Path(scratch) / "output").open("w+b") as out:
            subprocess.run(
                launcher,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=cwd,
                check=True,
            )
            out.seek(0)
            output = out.read().decode(errors="replace")
        figures = json.loads(result.read_text(encoding="utf-8"))
    return Measured(output=output, **figures)


def launch(result: Path, argv: list[str]) -> int:
    """Start ``argv`` from this small process, wait for it and write its own resources."""
    started = time.perf_counter()
    pid = os.posix_spawnp(argv[0], argv, os.environ)
    _, status, usage = os.wait4(pid, 0)
    figures = {
        "returncode": os.waitstatus_to_exitcode(status),
        "wall": time.perf_counter() - started,
        "user": usage.ru_utime,
        "system": usage.ru_stime,
        "max_rss_mb": usage.ru_maxrss / 1024,  # KiB on Linux
    }
    result.write_text(json.dumps(figures), encoding="utf-8")
    return 0


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without anything that would steer the CLI (CI or pipeledger vars)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PIPELEDGER_", "GITHUB_", "GH_", "GITLAB_", "CI"))
    }
    return {**env, **extra}


def collect_argv(api_url: str, ledger: Path) -> list[str]:
    """The real CLI (the console script next to this interpreter)."""
    script = Path(sys.executable).parent / "pipeledger"
    return [
        str(script),
        "collect",
        "--platform",
        "github",
        "--api-url",
        api_url,
        "--org",
        ORG,
        "--since",
        "2025-01-01",
        "--sink",
        f"sqlite:///{ledger}",
    ]


class FakeServerProcess:
    """``python -m tests.fakes.github_api`` serving a generated org until stopped."""

    def __init__(self, repos: int, runs: int, deploy: float, seed: int, scratch: Path) -> None:
        self.spec = f"repos={repos},runs={runs},deploy={deploy},seed={seed},org={ORG}"
        self.port_file = scratch / f"port-{repos}x{runs}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""

    def __enter__(self) -> FakeServerProcess:
        argv = [
            sys.executable,
            "-m",
            "tests.fakes.github_api",
            "--generate",
            self.spec,
            "--port",
            "0",
            "--port-file",
            str(self.port_file),
            "--token",
            TOKEN,
            # High enough that the naive loop is never limited; limits are not measured here.
            "--rate-limit",
            "1000000",
        ]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while not self.port_file.exists():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("the fake GitHub API did not start")
            time.sleep(0.05)
        self.url = f"http://127.0.0.1:{int(self.port_file.read_text())}"
        return self

    def stats(self) -> dict[str, Any]:
        """The server's request totals so far (``GET /__stats``)."""
        with urllib.request.urlopen(f"{self.url}/__stats", timeout=30) as reply:  # noqa: S310
            stats: dict[str, Any] = json.loads(reply.read())
        return stats

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=30)


def delta(after: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
    """Requests between two ``stats()`` answers."""
    endpoints = after["by_endpoint"]
    return {
        "requests": after["requests"] - before["requests"],
        "conditional": after["conditional"] - before["conditional"],
        "not_modified": after["not_modified"] - before["not_modified"],
        "graphql_points": after["graphql_points"] - before["graphql_points"],
        "cpu_seconds": after["cpu_seconds"] - before["cpu_seconds"],
        "by_endpoint": {
            name: count - before["by_endpoint"].get(name, 0)
            for name, count in endpoints.items()
            if count - before["by_endpoint"].get(name, 0)
        },
    }


if __name__ == "__main__":
    sys.exit(launch(Path(sys.argv[1]), sys.argv[3:]))
