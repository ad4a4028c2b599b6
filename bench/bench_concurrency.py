"""``collect --concurrency``: wall time of a serial run against eight workers on the generated
20 x 200 organization, at 0 and 100 ms of added latency per request, on a GitHub Enterprise
Server-like fake GitHub and on the fake GitLab; and that both ledgers are the same.

Run with ``python -m bench.run concurrency``. The target (issue 13): at 100 ms, ≥ 6x faster
with ``--concurrency 8`` than serially, on both forges.
"""

from __future__ import annotations

import os
import re
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.fakes.github_api import FakeGitHubServer
from tests.fakes.github_data import generate_org
from tests.fakes.gitlab_api import DEFAULT_TOKEN, FakeGitLab
from tests.fakes.gitlab_generate import Size, generate_group

from bench.figures import at_least, at_most, figure

ROOT = Path(__file__).resolve().parents[1]
GITHUB_TOKEN = "ghp_bench_concurrency_token"  # noqa: S105 (the fake's own)
REPOS, RUNS = 20, 200
# 4 groups (the root and 3 subgroups) x 5 projects = 20 projects of 200 pipelines.
GITLAB_SIZE = Size(subgroups=3, projects_per_group=5, pipelines=RUNS)
LATENCIES = (0.0, 0.1)
WORKERS = 8
TARGET = 6.0


@dataclass(frozen=True)
class Run:
    wall: float
    requests: int
    events: int
    ledger: list[str]  # event ids in ledger order
    cpu: float  # the collector's user + system seconds
    server_cpu: float  # the fake's (it runs in this process)
    load: float  # the machine's 1-minute load average at the end

    def describe(self) -> str:
        return (
            f"{self.wall:.1f} s (CPU: collector {self.cpu:.1f} s, fake API"
            f" {self.server_cpu:.1f} s; load average {self.load:.1f})"
        )


def _collect(argv: list[str], env: dict[str, str], db: Path, requests: Callable[[], int]) -> Run:
    before = requests()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_before = time.process_time()
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "pipeledger", "-q", "collect", *argv, "--sink", f"sqlite:///{db}"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.monotonic() - started
    server_cpu = time.process_time() - server_before
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - children.ru_utime) + (after.ru_stime - children.ru_stime)
    if done.returncode != 0:
        raise SystemExit(f"collect failed ({done.returncode}): {done.stderr[-2000:]}")
    seen = re.search(r"collected (\d+) events", done.stdout)
    with sqlite3.connect(db) as conn:
        ids = [row[0] for row in conn.execute("SELECT id FROM events ORDER BY seq")]
    events = int(seen.group(1)) if seen else len(ids)
    return Run(wall, requests() - before, events, ids, cpu, server_cpu, os.getloadavg()[0])


Collect = Callable[[int, Path], Run]


@contextmanager
def _github(latency: float) -> Iterator[Collect]:
    org = generate_org(repos=REPOS, runs_per_repo=RUNS, deploy_fraction=0.1, seed=1)
    with FakeGitHubServer(org, token=GITHUB_TOKEN, delay=latency) as server:

        def collect(workers: int, db: Path) -> Run:
            argv = ["--platform", "github", "--api-url", server.base_url, "--org", "acme"]
            argv += ["--since", "2025-01-01", "--concurrency", str(workers)]
            env = {"GITHUB_TOKEN": GITHUB_TOKEN}
            return _collect(argv, env, db, lambda: server.request_number)

        yield collect


@contextmanager
def _gitlab(latency: float) -> Iterator[Collect]:
    # No rate limit: this measures concurrency, not waiting (the fake's default is 2,000 a
    # minute, as on gitlab.com).
    with FakeGitLab(generate_group(7, GITLAB_SIZE), delay=latency, rate_limit=10**9) as fake:

        def collect(workers: int, db: Path) -> Run:
            argv = ["--platform", "gitlab", "--api-url", fake.api_url, "--group", "acme"]
            argv += ["--concurrency", str(workers)]
            return _collect(argv, {"GITLAB_TOKEN": DEFAULT_TOKEN}, db, lambda: fake.requests)

        yield collect


def _compare(
    forge: str, server: Callable[[float], AbstractContextManager[Collect]], work: Path
) -> None:
    """Both runs against one server: events are recorded under its host and port."""
    for latency in LATENCIES:
        with server(latency) as collect:
            serial = collect(1, work / f"{forge}-{latency}-serial.db")
            concurrent = collect(WORKERS, work / f"{forge}-{latency}-c{WORKERS}.db")
        same = serial.ledger == concurrent.ledger
        speedup = serial.wall / concurrent.wall
        verdict = ""
        if latency:
            verdict = f"  (target ≥ {TARGET:.0f}x: {'met' if speedup >= TARGET else 'NOT met'})"
        print(
            f"{forge} at {latency * 1000:.0f} ms: {serial.requests:,} requests,"
            f" {len(serial.ledger):,} events; serial {serial.describe()} vs --concurrency"
            f" {WORKERS} {concurrent.describe()} ({concurrent.requests:,} requests) ="
            f" {speedup:.2f}x{verdict}; ledgers identical (ids and order): {same}",
            flush=True,
        )
        if not same:
            raise SystemExit(f"{forge}: the concurrent ledger differs from the serial one")
        at = f"{forge} at {latency * 1000:.0f} ms"
        if forge == "GitLab" and not latency:  # the 20 x 200 scenario
            figure(f"{forge}, {REPOS} x {RUNS}: requests", serial.requests, "", at_most(1_500))
        figure(f"{at}: serial wall", serial.wall, "s")
        figure(f"{at}: --concurrency {WORKERS} wall", concurrent.wall, "s")
        figure(f"{at}: speed-up", speedup, "x", at_least(TARGET) if latency else None)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        print(f"-- {REPOS} repositories x {RUNS} runs; fakes threaded, latency slept per request")
        _compare("GitHub (GHES-like)", _github, work)
        _compare("GitLab", _gitlab, work)


if __name__ == "__main__":
    main()
