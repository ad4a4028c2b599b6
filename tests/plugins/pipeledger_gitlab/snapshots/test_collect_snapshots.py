"""``pipeledger collect --platform gitlab`` takes a snapshot of members and protections on
every run: snapshot 1 is a baseline, a change becomes exactly the expected events with an
unknown actor and the window it happened in, and an unchanged rerun adds nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeledger.events import ActorType
from tests.fakes.gitlab_api import FakeGitLab
from tests.plugins.pipeledger_gitlab.conftest import assert_valid
from tests.plugins.pipeledger_gitlab.helpers import ledger_events
from tests.plugins.pipeledger_gitlab.snapshots.scenario import (
    make_change,
    snapshot_events,
    summary,
    timed_collect,
    window,
)

pytestmark = pytest.mark.e2e
# The one question whether the namespace has deployment approvals (Premium).
TIER_QUESTION = 1


def test_first_snapshot_is_a_baseline(fake: FakeGitLab, tmp_path: Path) -> None:
    timed_collect(fake, tmp_path / "l.db")
    assert snapshot_events(tmp_path / "l.db") == []
    counts = fake.counts()
    projects, groups = len(fake.instance.projects), len(fake.instance.groups)
    # One listing pass per resource: each fits one page here. No deployment here has an
    # approval, so GraphQL's answers cannot tell Premium from Free: the protected
    # environments API is asked that once more, for the namespace (see evidence.read_ahead).
    assert counts["projects.members_all"] == projects
    assert counts["projects.protected_environments"] == projects + TIER_QUESTION
    assert counts["projects.protected_branches"] == projects
    assert counts["groups.members_all"] == groups


def test_no_snapshots_when_told_not_to(fake: FakeGitLab, tmp_path: Path) -> None:
    snapshot_endpoints = (
        "projects.members_all",
        "projects.protected_environments",
        "projects.protected_branches",
        "groups.members_all",
    )
    timed_collect(fake, tmp_path / "a.db", "--no-snapshots")
    asked = [fake.counts().get(name, 0) for name in snapshot_endpoints]
    assert asked == [0, TIER_QUESTION, 0, 0]  # the tier question is not a snapshot
    timed_collect(fake, tmp_path / "b.db")
    assert all(fake.counts().get(name, 0) > 0 for name in snapshot_endpoints)


def test_a_change_becomes_exactly_the_expected_events(fake: FakeGitLab, tmp_path: Path) -> None:
    db = tmp_path / "l.db"
    first = timed_collect(fake, db)
    project = fake.instance.projects[0]
    change = make_change(fake, project)
    second = timed_collect(fake, db)

    events = snapshot_events(db)
    where = project.full_path
    assert summary(events) == [
        (where, "permission.change", "changed", change.raised.username, "None",
         "developer", "maintainer"),
        (where, "permission.change", "granted", change.added.username, "None", None, "developer"),
        (where, "protection.change", "weakened", "production", "approval_rules",
         {"group:134": 1, "group:135": 2}, {"group:135": 2}),
        (where, "protection.change", "weakened", "production", "required_approval_count", 2, 1),
    ]  # fmt: skip
    for event in events:
        assert_valid(event)
        assert event.actor.type is ActorType.UNKNOWN and event.actor.login is None
        start, end = window(event)
        # The change happened after the first run began reading, and before the second
        # finished: the window says exactly that, and nothing narrower is claimed.
        assert first.started <= start <= first.finished
        assert second.started <= end <= second.finished
        assert event.occurred_at == end
    permissions = [e for e in events if e.kind.value == "permission.change"]
    assert all(e.attributes["escalation"] is True for e in permissions)
    assert {e.attributes["strength"] for e in events if e.kind.value == "protection.change"} == {
        "weaker"
    }


def test_an_unchanged_rerun_adds_nothing(fake: FakeGitLab, tmp_path: Path) -> None:
    db = tmp_path / "l.db"
    timed_collect(fake, db)
    make_change(fake, fake.instance.projects[0])
    timed_collect(fake, db)
    held = len(ledger_events(db))
    third = timed_collect(fake, db)
    assert "0 new" in third.run.out
    assert len(ledger_events(db)) == held
    assert len(snapshot_events(db)) == 4


def test_protection_getting_stronger_and_a_revocation(fake: FakeGitLab, tmp_path: Path) -> None:
    db = tmp_path / "l.db"
    timed_collect(fake, db)
    project = fake.instance.projects[1]
    branch = project.protected_branches[0]
    bot = project.members[1][0]  # the project's access-token bot: it has no other way in
    with fake.lock:
        branch.code_owner_approval_required = True
        branch.allow_force_push = True
        project.members = project.members[:1]
    timed_collect(fake, db)
    assert [(row[1], row[2], row[4], row[6]) for row in summary(snapshot_events(db))] == [
        ("permission.change", "revoked", "None", None),
        ("protection.change", "strengthened", "code_owner_approval_required", True),
        ("protection.change", "weakened", "allow_force_push", True),
    ]
    assert summary(snapshot_events(db))[0][3] == bot.username


def test_a_backfill_that_ends_in_the_past_takes_no_snapshot(
    fake: FakeGitLab, tmp_path: Path
) -> None:
    timed_collect(fake, tmp_path / "l.db", "--until", "2026-03-01T00:00:00Z")
    counts = fake.counts()
    assert counts["projects.members_all"] == counts["groups.members_all"] == 0
