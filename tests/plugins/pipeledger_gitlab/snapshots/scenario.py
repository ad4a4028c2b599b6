"""A small fake GitLab group for the snapshot tests, the changes they make to it, and the
events they read back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeledger.events import AuditEvent, parse_time
from tests.fakes.gitlab_access import (
    DEVELOPER,
    MAINTAINER,
    lower_required_approvals,
    member_audit,
    remove_approval_rule,
    set_member,
)
from tests.fakes.gitlab_api import FakeGitLab
from tests.fakes.gitlab_data import FakeAuditEvent, FakeInstance, FakeProject, FakeUser
from tests.fakes.gitlab_generate import Size, generate_group
from tests.plugins.pipeledger_gitlab.helpers import Run, collect, ledger_events

# acme > team-0 > team-1, one project in each; no generated audit events on projects.
SIZE = Size(subgroups=2, projects_per_group=1, pipelines=2, deployments=1, audit_events=0)


def small_group() -> FakeInstance:
    return generate_group(11, SIZE)


@dataclass
class Timed:
    """A collect run and the clock around it: every snapshot it took lies in between."""

    run: Run
    started: datetime
    finished: datetime


def timed_collect(fake: FakeGitLab, db: Path, *args: str) -> Timed:
    started = datetime.now(UTC)
    run = collect(fake, db, "--group", "acme", *args)
    assert run.code == 0, run.err
    return Timed(run, started, datetime.now(UTC))


def snapshot_events(db: Path) -> list[AuditEvent]:
    return [e for e in ledger_events(db) if e.attributes.get("detected_by") == "snapshot-diff"]


def summary(events: list[AuditEvent]) -> list[tuple[str, str, str, str, str, Any, Any]]:
    """(scope, kind, action, target, setting, from, to) of each event, sorted."""
    return sorted(
        (
            f"{e.scope.owner}/{e.scope.repository or ''}",
            e.kind.value,
            e.action,
            str((e.target or {}).get("login") or (e.target or {}).get("name")),
            str((e.target or {}).get("setting")),
            (e.change or {}).get("from"),
            (e.change or {}).get("to"),
        )
        for e in events
    )


def window(event: AuditEvent) -> tuple[datetime, datetime]:
    return (
        parse_time(str(event.attributes["window_start"])),
        parse_time(str(event.attributes["window_end"])),
    )


def outsider(instance: FakeInstance, project: FakeProject) -> FakeUser:
    """A person with no access to ``project`` at all."""
    inside = {user.id for user, _ in project.members}
    for group in [project.group, *instance.ancestors(project.group)]:
        inside |= {user.id for user, _ in group.members}
    return next(u for u in instance.users if u.id not in inside and "_bot_" not in u.username)


@dataclass(frozen=True)
class Change:
    """The issue's change: a developer raised to maintainer, a new member, an approver
    removed from production's approval rules, production's required approvals lowered."""

    raised: FakeUser
    added: FakeUser


def make_change(fake: FakeGitLab, project: FakeProject) -> Change:
    raised = next(u for u, level in project.members if level == DEVELOPER)
    added = outsider(fake.instance, project)
    with fake.lock:
        set_member(project, raised, MAINTAINER)
        set_member(project, added, DEVELOPER)
        environment = project.protected_environments[0]
        environment.approval_rules = [
            r for r in environment.approval_rules if r.group_name != "qa-group"
        ]
        environment.required_approval_count = 1
    return Change(raised, added)


def make_change_with_audit(
    fake: FakeGitLab, project: FakeProject, author: FakeUser
) -> tuple[Change, list[FakeAuditEvent]]:
    """The same change made through GitLab, which writes audit events (Premium)."""
    raised = next(u for u, level in project.members if level == DEVELOPER)
    added = outsider(fake.instance, project)
    at = datetime.now(UTC)
    ident = _next_audit_id(fake.instance)
    with fake.lock:
        audits = [
            member_audit(ident, author, at, raised, *set_member(project, raised, MAINTAINER)),
            member_audit(ident + 1, author, at, added, *set_member(project, added, DEVELOPER)),
            remove_approval_rule(project, "qa-group", ident + 2, author, at),
            lower_required_approvals(project, 1, ident + 3, author, at),
        ]
        project.audit_events.extend(audits)
    return Change(raised, added), audits


def _next_audit_id(instance: FakeInstance) -> int:
    events = [e for p in instance.projects for e in p.audit_events]
    events += [e for g in instance.groups for e in g.audit_events]
    return max((e.id for e in events), default=0) + 1
