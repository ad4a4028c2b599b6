"""The gate's round trips to GitHub: ``pipeledger check``'s evidence collected one call at a
time (as before issue 13) and in rounds (now), against the fake API at 100 ms of latency per
request, with the commit known (``GITHUB_SHA``) and without it.

A round trip here is one step of the longest chain of requests each of which began after the
one before it had been answered (from every request's start and end, as the fake saw them).

Run with ``python -m bench.run gate``. The target (issue 13): ≤ 2 sequential round trips with
the commit known, the same verdicts.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from tests.core.policy.gate_cases import CASES
from tests.e2e.test_github_check import TOKEN, case_org, job_environ
from tests.fakes.github_api import FakeGitHubServer
from tests.fakes.github_data import fake_sha

from bench.figures import at_most, figure
from pipeledger.collect.adapter import AdapterSettings, GateEvidence
from pipeledger.collect.progress import SilentProgress
from pipeledger_github import gate_evidence
from pipeledger_github.adapter import GitHubAdapter
from pipeledger_github.normalize.fields import Oddities
from pipeledger_github.repo_context import RepoContext

LATENCY = 0.1
REPEAT = 5
TEAMS = ("release-managers", "platform-sre")
TARGET = 2


@dataclass(frozen=True)
class Measured:
    requests: int
    round_trips: int
    wall: float  # median of REPEAT
    events: list[str]
    members: Mapping[str, frozenset[str]]


Collect = Callable[[GitHubAdapter], GateEvidence]


def serial(adapter: GitHubAdapter) -> GateEvidence:
    """The evidence as before: every call in turn."""
    context = _context(adapter)
    _, run_id, sha = gate_evidence.job_identity(adapter.settings.environ)
    events = gate_evidence.collect_evidence(context, run_id, sha, "production")
    return GateEvidence(
        run_id, "production", events, gate_evidence.team_members(context, TEAMS, events)
    )


def rounds(adapter: GitHubAdapter) -> GateEvidence:
    _, run_id, sha = gate_evidence.job_identity(adapter.settings.environ)
    return gate_evidence.evidence(_context(adapter), run_id, sha, "production", TEAMS)


def _context(adapter: GitHubAdapter) -> RepoContext:
    environ = adapter.settings.environ
    repository = environ["GITHUB_REPOSITORY"]
    refs = gate_evidence.job_refs(environ)
    progress = SilentProgress()
    return RepoContext(adapter.client, repository, "bench", Oddities(), progress, job_refs=refs)


@contextmanager
def _timed(server: FakeGitHubServer) -> Iterator[list[tuple[float, float]]]:
    """Every request's (start, end) while the block runs."""
    spans: list[tuple[float, float]] = []
    lock = threading.Lock()
    handle = server.handle

    def timed(method: str, target: str, headers: Any, body: bytes = b"") -> Any:
        start = time.monotonic()
        try:
            return handle(method, target, headers, body)
        finally:
            with lock:
                spans.append((start, time.monotonic()))

    server.handle = timed  # type: ignore[method-assign]
    try:
        yield spans
    finally:
        server.handle = handle  # type: ignore[method-assign]


def round_trips(spans: list[tuple[float, float]]) -> int:
    """The longest chain of requests each started after the previous one's answer."""
    depth: list[tuple[float, int]] = []  # (end, chain length ending there)
    for start, end in sorted(spans):
        before = max((n for done, n in depth if done <= start), default=0)
        depth.append((end, before + 1))
    return max((n for _, n in depth), default=0)


def measure(collect: Collect, environ: dict[str, str], server: FakeGitHubServer) -> Measured:
    walls: list[float] = []
    trips: set[int] = set()
    made: GateEvidence | None = None
    requests = 0
    for _ in range(REPEAT):
        settings = AdapterSettings(api_url=server.base_url, environ=environ)
        adapter = GitHubAdapter.create(settings)
        with _timed(server) as spans:
            started = time.perf_counter()
            made = collect(adapter)
            walls.append(time.perf_counter() - started)
        trips.add(round_trips(spans))
        requests = len(spans)
    assert made is not None and len(trips) == 1, trips
    return Measured(
        requests,
        trips.pop(),
        statistics.median(walls),
        [event.id for event in made.events],
        made.team_members,
    )


def main() -> None:
    case = next(case for case in CASES if case.approvals and case.reviews)
    org = case_org(case)
    org.teams = {"release-managers": {"octocat", "monalisa"}, "platform-sre": {"hubot"}}
    print(
        f"-- case {case.name!r}: one deployment, {len(case.approvals)} approval(s),"
        f" {len(case.reviews)} review(s), {len(TEAMS)} teams; {LATENCY * 1000:.0f} ms per"
        f" request; wall = median of {REPEAT}"
    )
    with FakeGitHubServer(org, token=TOKEN, delay=LATENCY) as server:
        environ = job_environ(server.base_url, case, fake_sha("gate", case.name))
        no_sha = {name: value for name, value in environ.items() if name != "GITHUB_SHA"}
        for label, env in (("GITHUB_SHA known", environ), ("GITHUB_SHA unset", no_sha)):
            before = measure(serial, env, server)
            after = measure(rounds, env, server)
            same = (before.events, before.members) == (after.events, after.members)
            met = ""
            if env is environ:
                met = f" (target ≤ {TARGET}: {'met' if after.round_trips <= TARGET else 'NOT met'})"
            print(
                f"{label}: one call at a time {before.requests} requests, {before.round_trips}"
                f" round trips, {before.wall * 1000:.0f} ms; in rounds {after.requests}"
                f" requests, {after.round_trips} round trips{met}, {after.wall * 1000:.0f} ms"
                f" ({before.wall / after.wall:.1f}x); same events (ids, order) and team"
                f" members: {same}",
                flush=True,
            )
            if not same:
                raise SystemExit("the evidence in rounds differs from one call at a time")
            limit = at_most(TARGET) if env is environ else None
            figure(f"gate, {label}: sequential round trips", after.round_trips, "", limit)


if __name__ == "__main__":
    main()
