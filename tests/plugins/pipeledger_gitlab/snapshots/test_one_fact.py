"""One change, one fact on GitLab across runs: a membership change seen first by snapshots
(audit events not readable yet, actor unknown) is superseded by the audit events read in a
later run — alice made it, and no "someone unknown" copy is left standing."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeledger.events import ActorType, EventKind
from pipeledger.facts import without_superseded
from tests.fakes.gitlab_api import FakeGitLab
from tests.plugins.pipeledger_gitlab.helpers import ledger_events
from tests.plugins.pipeledger_gitlab.snapshots.scenario import make_change_with_audit, timed_collect

pytestmark = pytest.mark.e2e


def permission_changes(db: Path) -> list[tuple[str, str | None, object, object]]:
    """Standing permission changes of projects (the group's own audit events aside)."""
    standing = without_superseded(ledger_events(db))
    return sorted(
        (
            str((e.target or {}).get("login")),
            e.actor.login,
            (e.change or {}).get("from"),
            (e.change or {}).get("to"),
        )
        for e in standing
        if e.kind is EventKind.PERMISSION_CHANGE and e.scope.repository is not None
    )


def test_a_grant_seen_by_snapshots_first_ends_as_alices(fake: FakeGitLab, tmp_path: Path) -> None:
    db = tmp_path / "l.db"
    fake.free_tier = True  # no audit events yet
    timed_collect(fake, db)
    alice = next(u for u in fake.instance.users if u.username == "alice")
    change, _ = make_change_with_audit(fake, fake.instance.projects[0], alice)
    timed_collect(fake, db)
    unknown = permission_changes(db)
    assert {who for _, who, _, _ in unknown} == {None}
    assert {login for login, _, _, _ in unknown} == {change.raised.username, change.added.username}

    fake.free_tier = False  # the namespace moved to Premium: the audit events are read
    timed_collect(fake, db)
    facts = permission_changes(db)
    assert facts == sorted((login, "alice", old, new) for login, _, old, new in unknown)
    before = ledger_events(db)
    timed_collect(fake, db)  # nothing is stored twice
    assert len(ledger_events(db)) == len(before)
    superseded = {i for e in before for i in e.supersedes}
    assert {
        e.actor.type for e in before if e.id in superseded and e.kind is EventKind.PERMISSION_CHANGE
    } == {ActorType.UNKNOWN}
