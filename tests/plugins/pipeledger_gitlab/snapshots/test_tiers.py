"""Snapshots next to audit events: on Premium a change both see is one event with its real
actor; on Free (no audit events, no protected environments API) snapshots alone record
changes after one notice per missing source; a resource that cannot be read keeps its last
state, and one read for the first time is a baseline."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeledger.events import ActorType, AuditEvent
from tests.fakes.gitlab_access import MAINTAINER, member_audit, set_member
from tests.fakes.gitlab_api import FakeGitLab
from tests.plugins.pipeledger_gitlab.conftest import assert_valid
from tests.plugins.pipeledger_gitlab.helpers import ledger_events
from tests.plugins.pipeledger_gitlab.snapshots.scenario import (
    make_change,
    make_change_with_audit,
    small_group,
    snapshot_events,
    summary,
    timed_collect,
    window,
)

pytestmark = pytest.mark.e2e


def _audit_sourced(db: Path, ids: set[int]) -> list[AuditEvent]:
    return [e for e in ledger_events(db) if e.source.native_id in {str(i) for i in ids}]


def test_premium_audit_event_and_snapshot_make_one_event_with_the_actor(
    fake: FakeGitLab, tmp_path: Path
) -> None:
    db = tmp_path / "l.db"
    timed_collect(fake, db)
    project = fake.instance.projects[0]
    author = fake.instance.users[0]
    change, audits = make_change_with_audit(fake, project, author)
    timed_collect(fake, db)

    assert snapshot_events(db) == []  # every change the diff saw, the audit log recorded
    recorded = _audit_sourced(db, {a.id for a in audits})
    assert len(recorded) == 4
    for event in recorded:
        assert_valid(event)
        assert (event.actor.login, event.actor.type) == (author.username, ActorType.USER)
    where = project.full_path
    assert summary(recorded) == [
        (where, "permission.change", "changed", change.raised.username, "None",
         "developer", "maintainer"),
        (where, "permission.change", "granted", change.added.username, "None", None, "developer"),
        (where, "protection.change", "weakened", "production", "approval_rules", None, None),
        (where, "protection.change", "weakened", "production", "required_approval_count", 2, 1),
    ]  # fmt: skip


def test_an_audit_event_outside_the_window_does_not_hide_the_change(
    fake: FakeGitLab, tmp_path: Path
) -> None:
    db = tmp_path / "l.db"
    project = fake.instance.projects[0]
    raised = project.members[0][0]
    # GitLab logged a change to maintainer long before the first snapshot: not this one.
    old = member_audit(900, fake.instance.users[0], datetime(2026, 1, 5, tzinfo=UTC), raised,
                       20, MAINTAINER)  # fmt: skip
    with fake.lock:
        project.audit_events.append(old)
    timed_collect(fake, db)
    with fake.lock:
        set_member(project, raised, MAINTAINER)
    timed_collect(fake, db)
    assert [(e.action, e.actor.type) for e in snapshot_events(db)] == [
        ("changed", ActorType.UNKNOWN)
    ]


def test_free_tier_notices_once_and_records_changes_from_snapshots(tmp_path: Path) -> None:
    db = tmp_path / "l.db"
    with FakeGitLab(small_group(), free_tier=True) as fake:
        first = timed_collect(fake, db)
        project = fake.instance.projects[2]
        bot = project.members[1][0]  # the access-token bot, a maintainer of this project only
        with fake.lock:
            set_member(project, bot, 50)
            project.protected_branches[0].allow_force_push = True
            # Invisible on Free: the protected environments API is Premium.
            project.protected_environments[0].required_approval_count = 0
        second = timed_collect(fake, db)
    assert first.run.err.count("audit events are not available") == 1
    assert first.run.err.count("protected environments cannot be read") == 1
    assert "snapshots only" in first.run.err
    events = snapshot_events(db)
    assert [(row[1], row[2], row[4]) for row in summary(events)] == [
        ("permission.change", "changed", "None"),
        ("protection.change", "weakened", "allow_force_push"),
    ]
    assert all(e.actor.type is ActorType.UNKNOWN for e in events)
    assert second.run.err.count("cannot be read") == 1  # said again each run, once


def test_an_unreadable_resource_keeps_its_state_and_its_window(
    fake: FakeGitLab, tmp_path: Path
) -> None:
    db = tmp_path / "l.db"
    first = timed_collect(fake, db)
    projects = len(fake.instance.projects)
    fake.fail_next(projects, 403, "/protected_environments", retry_after=None)
    project = fake.instance.projects[0]
    with fake.lock:
        project.protected_environments[0].required_approval_count = 0
    blind = timed_collect(fake, db)
    assert blind.run.err.count("protected environments cannot be read") == 1
    assert snapshot_events(db) == []  # not "removed": unknown is not gone
    timed_collect(fake, db)
    (event,) = snapshot_events(db)
    assert (event.action, (event.target or {})["setting"]) == (
        "weakened",
        "required_approval_count",
    )
    # The change may have happened while the environments could not be read: the window
    # starts at the last reading that saw them, in the first run.
    start, _ = window(event)
    assert first.started <= start <= first.finished < blind.started


def test_a_resource_read_for_the_first_time_is_a_baseline(fake: FakeGitLab, tmp_path: Path) -> None:
    db = tmp_path / "l.db"
    fake.fail_next(len(fake.instance.projects), 404, "/protected_branches", retry_after=None)
    timed_collect(fake, db)
    timed_collect(fake, db)
    assert snapshot_events(db) == []  # the branches were there all along: nothing "added"


def test_a_group_change_reaches_every_scope_below_it(tmp_path: Path) -> None:
    """Without an audit log: one event in each scope where the access changed."""
    db = tmp_path / "l.db"
    with FakeGitLab(small_group(), free_tier=True) as fake:
        timed_collect(fake, db)
        root = fake.instance.root
        user, _ = root.members[1]  # a maintainer of the top group
        with fake.lock:
            root.members[1] = (user, 50)
        timed_collect(fake, db)
    scopes = sorted(row[0] for row in summary(snapshot_events(db)))
    assert scopes == sorted(
        [f"{g.full_path}/" for g in fake.instance.groups]
        + [p.full_path for p in fake.instance.projects]
    )


def test_a_group_audit_event_covers_the_scopes_below_it(fake: FakeGitLab, tmp_path: Path) -> None:
    db = tmp_path / "l.db"
    timed_collect(fake, db)
    root = fake.instance.root
    user, level = root.members[1]
    audit = member_audit(901, fake.instance.users[0], datetime.now(UTC), user, level, 50)
    with fake.lock:
        root.members[1] = (user, 50)
        root.audit_events.append(audit)
    timed_collect(fake, db)
    assert snapshot_events(db) == []
    (event,) = _audit_sourced(db, {audit.id})
    assert (event.scope.owner, event.action, event.change) == (
        "acme",
        "changed",
        {"from": "maintainer", "to": "owner"},
    )


def test_make_change_is_what_the_audit_variant_changes(fake: FakeGitLab) -> None:
    """The two scenario helpers change the same things (the Premium test relies on it)."""
    twin = FakeGitLab(small_group())
    a, b = fake.instance.projects[0], twin.instance.projects[0]
    make_change(fake, a)
    make_change_with_audit(twin, b, twin.instance.users[0])
    assert a.members == b.members
    assert a.protected_environments == b.protected_environments
