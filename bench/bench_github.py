"""GitHub collection: requests made against the minimum the data needs, a rerun with nothing
new, a naive PyGithub loop on the same data, normalize + ledger events/s on one core, and peak
memory as history grows.

The fake API (``tests.fakes.github_api``) serves a generated org from its own process and
``pipeledger collect`` runs as another, so each side's CPU and memory are measured apart.
Run: ``python -m bench.run github`` (about two minutes on 2 cores).
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.fakes.github_access import AccessState, protected_branches
from tests.fakes.github_data import FakeOrg, generate_org

from bench.figures import at_most, figure
from bench.github_procs import (
    ORG,
    ROOT,
    TOKEN,
    FakeServerProcess,
    Measured,
    clean_env,
    collect_argv,
    delta,
    run_measured,
)
from bench.github_throughput import measure, render_payloads
from pipeledger_github.review_graphql import COMMITS_PER_QUERY

REPOS, RUNS, DEPLOY, SEED = 20, 500, 0.1, 1
PER_PAGE = 100
# (repositories, runs per repository) for the memory curve, besides REPOS x RUNS.
MEMORY_SHAPES = ((5, 500), (10, 500), (20, 250), (20, 1000), (10, 2000))
REVIEW_ENDPOINTS = ("commit_pulls", "reviews", "graphql")
# The fake's route names of every request a permission/protection snapshot makes.
SNAPSHOT_ENDPOINTS = (
    "members",
    "teams",
    "team_members",
    "team_repos",
    "audit_log",
    "collaborators",
    "environments",
    "policies",
    "branches",
    "protection",
    "rules",
)


@dataclass(frozen=True)
class Minimum:
    """The fewest requests that read all of an org's data (at 100 items a page)."""

    repo_pages: int
    run_pages: int
    deployment_pages: int
    statuses: int  # one call per deployment
    approvals: int  # one call per run that deployed
    commit_pulls: int  # over REST: one call per distinct deployed commit
    reviews: int  # over REST: one call per merged pull request of those commits
    review_queries: int  # over GraphQL: per page of deployments, one per 50 new commits

    @property
    def core(self) -> int:
        return (
            self.repo_pages
            + self.run_pages
            + self.deployment_pages
            + self.statuses
            + self.approvals
        )

    @property
    def review_calls(self) -> int:
        return self.review_queries

    @property
    def review_calls_over_rest(self) -> int:
        return self.commit_pulls + self.reviews


@dataclass(frozen=True)
class SnapshotMinimum:
    """One listing pass per snapshot resource (at 100 items a page)."""

    organization: int  # members by role (2), the team list, per team its members by role
    # (2) and its repositories
    repositories: int  # per repository: collaborators, environments (and the branch
    # policies of each one limited to chosen branches), the protected branches (and the
    # protection of a protected default branch), the branch rules
    audit_log: int = 1  # one request per organization: the entries, or GitHub's refusal

    @property
    def total(self) -> int:
        return self.organization + self.repositories + self.audit_log


def snapshot_minimum(org: FakeOrg, access: AccessState) -> SnapshotMinimum:
    teams = 1 + sum(
        _pages(len(members & org.team_maintainers.get(slug, set())))
        + _pages(len(members - org.team_maintainers.get(slug, set())))
        + _pages(len(access.team_repos.get(slug, {})))
        for slug, members in org.teams.items()
    )
    members = sum(
        _pages(sum(1 for r in access.members.values() if r == role)) for role in ("admin", "member")
    )
    repositories = 0
    for repo in org.repos.values():
        guards = access.repo(repo.name)
        policies = sum(
            _pages(len(env.patterns))
            for env in guards.environments.values()
            if env.branches == "custom"
        )
        protection = 1 if guards.protection is not None else 0
        repositories += (
            _pages(len(guards.collaborators))
            + _pages(len(guards.environments))
            + policies
            + _pages(len(protected_branches(access, repo)))
            + protection
            + _pages(len(guards.rules))
        )
    return SnapshotMinimum(members + teams, repositories)


def minimum_requests(org: FakeOrg) -> Minimum:
    repos = list(org.repos.values())
    shas = [{d.sha for d in repo.deployments.values()} for repo in repos]
    merged = sum(
        len({n for sha in repo_shas for n in repo.commit_pulls.get(sha, []) if _merged(repo, n)})
        for repo, repo_shas in zip(repos, shas, strict=True)
    )
    return Minimum(
        repo_pages=_pages(len(repos)),
        run_pages=sum(_pages(len(repo.runs)) for repo in repos),
        deployment_pages=sum(_pages(len(repo.deployments)) for repo in repos),
        statuses=sum(len(repo.deployments) for repo in repos),
        approvals=sum(
            len({d.run_id for d in repo.deployments.values() if d.run_id is not None})
            for repo in repos
        ),
        commit_pulls=sum(len(repo_shas) for repo_shas in shas),
        reviews=merged,
        review_queries=sum(_review_queries(repo) for repo in repos),
    )


def _review_queries(repo: Any) -> int:
    """Deployments are listed newest first, 100 a page; each page's commits not seen on an
    earlier page are asked 50 to a query."""
    newest_first = sorted(repo.deployments.values(), key=lambda d: (d.created_at, d.id))[::-1]
    seen: set[str] = set()
    queries = 0
    for start in range(0, len(newest_first), PER_PAGE):
        fresh = {d.sha for d in newest_first[start : start + PER_PAGE]} - seen
        queries += math.ceil(len(fresh) / COMMITS_PER_QUERY)
        seen |= fresh
    return queries


def _merged(repo: Any, number: int) -> bool:
    pull = repo.pulls.get(number)
    return pull is not None and pull.merged_at is not None


def _pages(items: int) -> int:
    return max(1, math.ceil(items / PER_PAGE))


@dataclass(frozen=True)
class Collected:
    """One ``pipeledger collect``: the process's figures and what the server saw."""

    process: Measured
    server: dict[str, Any]
    events: int

    @property
    def reported(self) -> tuple[int, int]:
        return self.process.summary_requests()


def collect(server: FakeServerProcess, ledger: Path) -> Collected:
    before = server.stats()
    env = clean_env(GITHUB_TOKEN=TOKEN)
    process = run_measured(collect_argv(server.url, ledger), env, ledger.parent)
    if process.returncode != 0:
        raise RuntimeError(f"pipeledger collect failed:\n{process.output[-3000:]}")
    found = re.search(r"collected (\d+) events", process.output)
    return Collected(process, delta(server.stats(), before), int(found.group(1)) if found else 0)


def naive(server: FakeServerProcess) -> tuple[Measured, dict[str, Any], dict[str, int]]:
    before = server.stats()
    argv = [sys.executable, "-m", "bench.github_naive", server.url, TOKEN, ORG]
    process = run_measured(argv, clean_env(PYTHONPATH=str(ROOT)), ROOT)
    if process.returncode != 0:
        raise RuntimeError(f"the naive loop failed:\n{process.output[-3000:]}")
    read: dict[str, int] = json.loads(process.output.strip().splitlines()[-1])
    return process, delta(server.stats(), before), read


def report_requests(minimum: Minimum, snapshots: SnapshotMinimum, first: Collected) -> None:
    made = first.server["requests"]
    by_endpoint = first.server["by_endpoint"]
    reviews = sum(by_endpoint.get(name, 0) for name in REVIEW_ENDPOINTS)
    snapshot = sum(by_endpoint.get(name, 0) for name in SNAPSHOT_ENDPOINTS)
    print(
        f"minimum for the data: {minimum.core:,} = {minimum.repo_pages} repository page(s)"
        f" + {minimum.run_pages} run pages + {minimum.deployment_pages} deployment pages"
        f" + {minimum.statuses:,} statuses + {minimum.approvals:,} approvals calls;"
        f" review provenance {minimum.review_calls:,} more GraphQL queries (50 commits each;"
        f" over REST {minimum.review_calls_over_rest:,} = {minimum.commit_pulls:,} commit"
        f" pulls + {minimum.reviews:,} reviews calls)"
    )
    print(
        f"  snapshots (one listing pass per resource): {snapshots.total:,} more ="
        f" {snapshots.organization} organization listings + {snapshots.repositories}"
        f" repository listings + {snapshots.audit_log} audit-log request"
    )
    reported, _ = first.reported
    print(
        f"first collect: {made:,} requests at the server ({reported:,} reported by the CLI),"
        f" by endpoint {_endpoints(by_endpoint)}"
    )
    core = made - reviews - snapshot
    _ratio("  without review calls and snapshots", core, minimum.core)
    _ratio(
        "  with snapshots, without review calls", core + snapshot, minimum.core + snapshots.total
    )
    _ratio(
        "  without snapshots, with review calls",
        core + reviews,
        minimum.core + minimum.review_calls,
    )
    _ratio(
        "  with snapshots and review calls",
        made,
        minimum.core + minimum.review_calls + snapshots.total,
    )
    least = minimum.core + minimum.review_calls + snapshots.total
    queries, points = by_endpoint.get("graphql", 0), first.server["graphql_points"]
    print(
        f"  rate-limit cost: {made - queries:,} REST requests of the 5,000 an hour;"
        f" {queries:,} GraphQL queries charged {points:,} points of the 5,000 an hour"
        " (rateLimit { cost } as GitHub computes it, tests/fakes/github_graphql_cost.py)"
    )
    figure("GitHub first collect: GraphQL rate-limit points", points, "points")
    figure("GitHub first collect: requests", made, "requests")
    figure("GitHub first collect: requests / minimum", made / least, "x", at_most(1.1))
    _report_process("  collector (best of 2)", first.process, first.events)
    print(f"  fake server CPU for these requests: {first.server['cpu_seconds']:.2f} s")


def _ratio(label: str, made: int, least: int) -> None:
    print(f"{label}: {made:,} / {least:,} = {made / least:.3f}x the minimum (target <= 1.1x)")


def _endpoints(by_endpoint: dict[str, int]) -> str:
    return ", ".join(f"{name} {count:,}" for name, count in sorted(by_endpoint.items()))


def _report_process(name: str, process: Measured, events: int) -> None:
    rate = f", {events / process.cpu:,.0f} events per CPU second" if events else ""
    print(
        f"{name}: {events:,} events, wall {process.wall:.2f} s, CPU {process.cpu:.2f} s"
        f" (user {process.user:.2f} + sys {process.system:.2f}){rate},"
        f" peak RSS {process.max_rss_mb:.1f} MB"
    )


def report_rerun(rerun: Collected) -> None:
    server = rerun.server
    unconditional = server["requests"] - server["conditional"]
    counted = server["requests"] - server["not_modified"]
    verdict = "only conditional requests" if unconditional == 0 else "NOT only conditional"
    print(
        f"rerun with no new data: {server['requests']} requests, {server['conditional']}"
        f" conditional, {server['not_modified']} answered 304, {unconditional} unconditional,"
        f" {counted} counted against the rate limit -> {verdict};"
        f" by endpoint {_endpoints(server['by_endpoint'])}"
    )
    _report_process("  collector", rerun.process, rerun.events)
    figure("GitHub rerun with no new data: unconditional requests", unconditional, "", at_most(0))


def report_naive(
    first: Collected, process: Measured, server: dict[str, Any], read: dict[str, int]
) -> None:
    made = server["requests"]
    print(
        f"naive PyGithub loop (defaults: 30 a page, no conditional requests): {made:,}"
        f" requests = {made / first.server['requests']:.2f}x pipeledger's;"
        f" by endpoint {_endpoints(server['by_endpoint'])}"
    )
    print(f"  read {_endpoints(read)}")
    print(
        f"  wall {process.wall:.1f} s, CPU {process.cpu:.1f} s, peak RSS"
        f" {process.max_rss_mb:.1f} MB; with PyGithub's default 0.25 s between requests the"
        f" wall time would be at least {made * 0.25 / 60:.0f} min"
    )


def memory_curve(scratch: Path, first: Collected) -> list[tuple[int, int, Collected]]:
    points = [(REPOS, RUNS, first)]
    for repos, runs in MEMORY_SHAPES:
        with FakeServerProcess(repos, runs, DEPLOY, SEED, scratch) as server:
            points.append((repos, runs, collect(server, scratch / f"memory-{repos}x{runs}.db")))
    return sorted(points, key=lambda point: (point[0] * point[1], point[1]))


def report_memory(points: list[tuple[int, int, Collected]], rerun: Collected) -> None:
    print(
        "peak RSS of a full collect as history grows"
        f" (a collect with nothing new: {rerun.process.max_rss_mb:.1f} MB):"
    )
    for repos, runs, point in points:
        process = point.process
        print(
            f"  {repos:>2} repos x {runs:>4} runs: {point.events:>6,} events,"
            f" {point.server['requests']:>5,} requests, peak RSS {process.max_rss_mb:5.1f} MB,"
            f" CPU {process.cpu:5.2f} s, wall {process.wall:5.2f} s"
        )


def main() -> None:
    load = os.getloadavg()
    print(
        f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; {os.cpu_count()} CPUs"
    )
    org = generate_org(ORG, REPOS, RUNS, DEPLOY, SEED)
    with tempfile.TemporaryDirectory(prefix="pipeledger-bench-") as scratch_name:
        scratch = Path(scratch_name)
        with FakeServerProcess(REPOS, RUNS, DEPLOY, SEED, scratch) as server:
            # Twice into fresh ledgers, the one with less CPU kept: the machine may be shared.
            tries = [collect(server, scratch / name) for name in ("spare.db", "ledger.db")]
            first = min(tries, key=lambda tried: tried.process.cpu)
            rerun = collect(server, scratch / "ledger.db")
            naive_run = naive(server)
        # The generated org has the fake's default access state: no collaborators, no
        # environments, no protection, the teams of the org, no audit log (404).
        snapshots = snapshot_minimum(org, AccessState())
        report_requests(minimum_requests(org), snapshots, first)
        report_rerun(rerun)
        report_naive(first, *naive_run)
        throughput = measure(render_payloads(org))
        print(
            f"normalize + ledger on one core (payloads pre-fetched, best of 3):"
            f" {throughput.events:,} events in {throughput.batches} batches,"
            f" normalize {throughput.normalize_cpu:.2f} s + SqliteSink.append"
            f" {throughput.append_cpu:.2f} s CPU = {throughput.per_second:,.0f} events/s"
            " (target >= 5,000)"
        )
        report_memory(memory_curve(scratch, first), rerun)
    load = os.getloadavg()
    print(f"load average at end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
