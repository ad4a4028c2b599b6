"""GitLab collect against the fake GitLab on 127.0.0.1: requests made versus the fewest the
API allows for the same data (REST lists, GraphQL for pipeline details), the same collect
over REST alone, events per second, and what an incremental rerun costs.

Run with ``python -m bench.run gitlab``.
"""

from __future__ import annotations

import io
import math
import tempfile
import time
from pathlib import Path

from tests.fakes.gitlab_api import DEFAULT_TOKEN, FakeGitLab
from tests.fakes.gitlab_data import FakeAuditEvent, FakeInstance, FakeUser
from tests.fakes.gitlab_generate import Size, expected_records, generate_group
from tests.plugins.pipeledger_gitlab.helpers import ledger_events

from bench.figures import figure
from pipeledger.cli.main import main as cli_main
from pipeledger_gitlab.deployment_details import BATCH as DEPLOYMENT_BATCH
from pipeledger_gitlab.pipeline_details import BATCH

SIZE = Size(subgroups=3, projects_per_group=3, pipelines=120, deployments=30, audit_events=8)


def _pages(count: int) -> int:
    return max(1, math.ceil(count / 100))


def _detail_queries(count: int, batch: int = BATCH) -> int:
    """GraphQL queries for the details of ``count`` listed items: per list page of 100, one
    query per ``batch`` items of that page."""
    full, rest = divmod(count, 100)
    return full * math.ceil(100 / batch) + math.ceil(rest / batch)


def minimum_requests(instance: FakeInstance, free_tier: bool = False) -> dict[str, int]:
    """The fewest requests that return this data: every list page at per_page=100, plus what
    lists leave out (a pipeline's user, tag and times: one GraphQL query per ``BATCH``
    pipelines of a page; a deployment's approvals: one GraphQL query per
    ``DEPLOYMENT_BATCH`` deployments of a page),
    the merge requests of each deployed commit and their approvals, the login of each
    audit event author and membership target, and the snapshot lists (members of each
    project and group, protected environments and branches of each project)."""
    need = {
        "resolve group": 1 + _pages(len(instance.groups) - 1) + _pages(len(instance.projects)),
        "pipeline lists": 0,
        "pipeline details": 0,
        "deployment lists": 0,
        "deployment details": 0,
        "commit merge requests": 0,
        "merge request approvals": 0,
        "audit lists": 0,
        "audit users": 0,
        "snapshot lists": 0,
    }
    authors: set[int] = set()
    for project in instance.projects:
        need["pipeline lists"] += _pages(len(project.pipelines))
        need["pipeline details"] += _detail_queries(len(project.pipelines))
        need["deployment lists"] += _pages(len(project.deployments))
        need["deployment details"] += _detail_queries(len(project.deployments), DEPLOYMENT_BATCH)
        shas = {d.sha for d in project.deployments}
        need["commit merge requests"] += len(shas)
        need["merge request approvals"] += len(
            {m.iid for m in project.merge_requests if m.merge_commit_sha in shas}
        )
        need["audit lists"] += _pages(len(project.audit_events))
        authors |= _audit_users(project.audit_events)
        chain = [project.group, *instance.ancestors(project.group)]
        members = _distinct([project.members, *(g.members for g in chain)])
        need["snapshot lists"] += _pages(members) + _pages(len(project.protected_branches))
        # On Free the protected environments API answers 404, once per project.
        need["snapshot lists"] += _pages(len(project.protected_environments))
    for group in instance.groups:
        need["audit lists"] += _pages(len(group.audit_events))
        authors |= _audit_users(group.audit_events)
        chain = [group, *instance.ancestors(group)]
        need["snapshot lists"] += _pages(_distinct([g.members for g in chain]))
    need["audit users"] = len(authors)
    if free_tier:  # one page of deployments without approvals, one refused audit list say it all
        need["deployment details"], need["audit lists"], need["audit users"] = 1, 1, 0
    return need


def _audit_users(events: list[FakeAuditEvent]) -> set[int]:
    """Authors of recorded audit events, and the users membership events are about."""
    users = {e.author.id for e in events if e.expected}
    return users | {int(e.details["target_id"]) for e in events
                    if e.expected and e.details.get("target_type") == "User"}  # fmt: skip


def _distinct(memberships: list[list[tuple[FakeUser, int]]]) -> int:
    return len({user.id for level in memberships for user, _ in level})


def _collect(fake: FakeGitLab, db: Path) -> tuple[float, str]:
    group = fake.instance.root.full_path
    argv = ["collect", "--platform", "gitlab", "--api-url", fake.api_url, "--group", group,
            "--sink", f"sqlite:///{db}"]  # fmt: skip
    out, err = io.StringIO(), io.StringIO()
    started = time.perf_counter()
    code = cli_main(argv, {"GITLAB_TOKEN": DEFAULT_TOKEN}, out, err)
    elapsed = time.perf_counter() - started
    if code != 0:
        raise RuntimeError(err.getvalue())
    return elapsed, out.getvalue().strip()


def _run(free_tier: bool) -> None:
    instance = generate_group(11, SIZE)
    expected = len(expected_records(instance, free_tier))
    minimum = minimum_requests(instance, free_tier)
    # No rate limit here: this measures pipeledger, not the limit (see the note printed below).
    unlimited = 10**9
    with (
        FakeGitLab(instance, free_tier=free_tier, rate_limit=unlimited) as fake,
        tempfile.TemporaryDirectory() as tmp,
    ):
        db = Path(tmp) / "bench.db"
        elapsed, summary = _collect(fake, db)
        made = fake.requests
        rerun_elapsed, _ = _collect(fake, db)
        rerun = fake.requests - made
        fake.graphql = False  # the same group over REST alone, for comparison
        before = fake.requests
        rest_elapsed, _ = _collect(fake, Path(tmp) / "rest.db")
        over_rest = fake.requests - before
        same = ledger_events(db) == ledger_events(Path(tmp) / "rest.db")
    tier = "free tier (no audit events, no approvals)" if free_tier else "premium"
    floor = sum(minimum.values())
    print(f"-- {tier}: {len(instance.groups)} groups, {len(instance.projects)} projects,")
    print(f"   {sum(len(p.pipelines) for p in instance.projects)} pipelines,"
          f" {sum(len(p.deployments) for p in instance.projects)} deployments;"
          f" {expected} events expected")  # fmt: skip
    print(f"   {summary}")
    print(f"   requests made {made}, minimum {floor} ({made / floor:.3f}x)")
    for name, count in minimum.items():
        print(f"     minimum {name:<24} {count}")
    print(
        f"   wall {elapsed:.2f} s, {expected / elapsed:.0f} events/s,"
        f" {made / elapsed:.0f} requests/s"
    )
    print(f"   incremental rerun, nothing new: {rerun} requests, {rerun_elapsed:.2f} s")
    print(f"   over REST alone (no GraphQL): {over_rest} requests, {rest_elapsed:.2f} s;"
          f" the same events: {same}")  # fmt: skip
    print(f"   at GitLab.com's 2,000 requests/min per user: at least {made / 2000:.1f} min")
    tier_name = "Free" if free_tier else "Premium"
    figure(f"GitLab {tier_name} first collect: requests", made, "requests")
    figure(f"GitLab {tier_name} first collect: requests / minimum", made / floor, "x")
    figure(f"GitLab {tier_name} rerun with nothing new: requests", rerun, "requests")


def _ties() -> None:
    """The time walk's worst case: 250 pipelines of which 150 share one updated_at, more
    than a page, so the walk must page within that instant."""
    instance = generate_group(5, Size(subgroups=0, projects_per_group=1, pipelines=250))
    project = instance.projects[0]
    for pipeline in project.pipelines[:150]:
        pipeline.updated_at = project.pipelines[0].updated_at
    with FakeGitLab(instance, rate_limit=10**9) as fake, tempfile.TemporaryDirectory() as tmp:
        _collect(fake, Path(tmp) / "ties.db")
        lists = fake.counts()["projects.pipelines"]
    print(f"-- ties: 250 pipelines, 150 stamped at one instant: {lists} pipeline list requests"
          f" (minimum {_pages(250)})")  # fmt: skip


def main() -> None:
    _run(free_tier=False)
    _run(free_tier=True)
    _ties()


if __name__ == "__main__":
    main()
