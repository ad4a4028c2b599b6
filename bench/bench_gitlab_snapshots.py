"""GitLab permission and protection snapshots against the fake GitLab on 127.0.0.1: what a
snapshot costs in requests (one listing pass per resource) and time, what a change costs, and
how fast the diff itself is on large scopes.

Run with ``python -m bench.run gitlab_snapshots``.
"""

from __future__ import annotations

import io
import math
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.fakes.gitlab_api import DEFAULT_TOKEN, FakeGitLab
from tests.fakes.gitlab_data import FakeInstance, FakeUser
from tests.fakes.gitlab_generate import Size, generate_group
from tests.plugins.pipeledger_gitlab.snapshots.scenario import make_change

from pipeledger.cli.main import main as cli_main
from pipeledger.events import Scope
from pipeledger.snapshots import Grant, Protection, Snapshot, diff_snapshots

SIZE = Size(subgroups=3, projects_per_group=10, pipelines=1, deployments=1, audit_events=0)
EXTRA_MEMBERS = 250  # in the top group: every scope's member list then takes three pages
SNAPSHOT_ROUTES = (
    "projects.members_all",
    "projects.protected_environments",
    "projects.protected_branches",
    "groups.members_all",
)


def _instance() -> FakeInstance:
    instance = generate_group(13, SIZE)
    crowd = [FakeUser(5000 + n, f"member{n}", f"Member {n}") for n in range(EXTRA_MEMBERS)]
    instance.root.members.extend((user, 30) for user in crowd)
    return instance


def _pages(count: int) -> int:
    return max(1, math.ceil(count / 100))


def minimum(instance: FakeInstance) -> int:
    """One listing pass per resource and scope, at per_page=100."""
    total = 0
    for group in instance.groups:
        chain = [group, *instance.ancestors(group)]
        total += _pages(len({u.id for g in chain for u, _ in g.members}))
    for project in instance.projects:
        chain = [project.group, *instance.ancestors(project.group)]
        people = {u.id for u, _ in project.members} | {u.id for g in chain for u, _ in g.members}
        total += _pages(len(people)) + _pages(len(project.protected_environments))
        total += _pages(len(project.protected_branches))
    return total


def _collect(fake: FakeGitLab, db: Path) -> tuple[float, int, str]:
    before = sum(fake.counts()[route] for route in SNAPSHOT_ROUTES)
    argv = ["collect", "--platform", "gitlab", "--api-url", fake.api_url, "--group", "acme",
            "--sink", f"sqlite:///{db}"]  # fmt: skip
    out, err = io.StringIO(), io.StringIO()
    started = time.perf_counter()
    code = cli_main(argv, {"GITLAB_TOKEN": DEFAULT_TOKEN}, out, err)
    elapsed = time.perf_counter() - started
    if code != 0:
        raise RuntimeError(err.getvalue())
    snapshot_requests = sum(fake.counts()[route] for route in SNAPSHOT_ROUTES) - before
    return elapsed, snapshot_requests, out.getvalue().strip()


def _runs(free_tier: bool) -> None:
    instance = _instance()
    floor = minimum(instance)
    with (
        FakeGitLab(instance, free_tier=free_tier, rate_limit=10**9) as fake,
        tempfile.TemporaryDirectory() as tmp,
    ):
        db = Path(tmp) / "bench.db"
        base_wall, base_requests, _ = _collect(fake, db)
        same_wall, same_requests, same = _collect(fake, db)
        total_before = fake.requests
        for project in instance.projects[:5]:
            make_change(fake, project)
        change_wall, change_requests, changed = _collect(fake, db)
        change_total = fake.requests - total_before
    tier = "free tier (protected environments API absent)" if free_tier else "premium"
    scopes = f"{len(instance.groups)} groups, {len(instance.projects)} projects"
    print(f"-- {tier}: {scopes}, {EXTRA_MEMBERS + 6} people in the top group")
    print(f"   snapshot requests per run {base_requests} (minimum {floor})")
    print(f"   baseline collect {base_wall:.2f} s; unchanged rerun {same_wall:.2f} s"
          f" ({same_requests} snapshot requests): {same}")  # fmt: skip
    print(f"   5 projects changed: {change_wall:.2f} s, {change_requests} snapshot requests,"
          f" {change_total} requests in all: {changed}")  # fmt: skip


def _diff_speed() -> None:
    """The pure diff on one large scope: 10,000 grants and 200 protections, 1% changed."""
    scope = Scope("acme", "web")
    t1 = datetime(2026, 3, 1, tzinfo=UTC)
    grants = [Grant("user", f"u{n}", "developer", scope) for n in range(10_000)]
    protections = [
        Protection(f"branch:b{n}", scope, {"push_access_levels": ["role:maintainer"],
                                           "allow_force_push": False})
        for n in range(200)
    ]  # fmt: skip
    before = Snapshot.build("gitlab", "gitlab.example.com", "project:1", t1, grants, protections)
    changed = [Grant(g.subject_type, g.subject, "maintainer", scope) for g in grants[:100]]
    after = Snapshot.build(
        "gitlab",
        "gitlab.example.com",
        "project:1",
        t1 + timedelta(days=1),
        changed + grants[100:],
        protections,
    )
    started = time.perf_counter()
    events = diff_snapshots(before, after)
    diff_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    text = after.to_json()
    Snapshot.from_json(text)
    json_ms = (time.perf_counter() - started) * 1000
    print(f"-- diff: 10,000 grants + 200 protections, 100 changed: {len(events)} events in"
          f" {diff_ms:.0f} ms; snapshot JSON {len(text) / 1024:.0f} KiB,"
          f" written and read back in {json_ms:.0f} ms")  # fmt: skip


def main() -> None:
    _runs(free_tier=False)
    _runs(free_tier=True)
    _diff_speed()


if __name__ == "__main__":
    main()
