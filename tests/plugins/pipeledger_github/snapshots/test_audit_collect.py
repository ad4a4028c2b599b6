"""An organization with the audit log (Enterprise Cloud) and without it, through the CLI:
one event per change, with the real actor when the audit log has it."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pipeledger.events import ActorType, format_time, parse_time
from tests.fakes.github_api import FakeGitHubServer
from tests.plugins.pipeledger_github.snapshots.conftest import (
    access_events,
    collect,
    cursor,
    standing_access_events,
    summary,
)
from tests.plugins.pipeledger_github.snapshots.test_collect_snapshots import change_web

ORG = ("--org", "acme")
AUDIT_KEY = "github:github.com:acme:audit-log"


def log_the_changes(server: FakeGitHubServer) -> None:
    """What Enterprise Cloud records for :func:`change_web` (actor root)."""
    now = datetime.now(UTC)
    log = server.access.log
    with server.org.lock:
        log(
            "repo.update_member",
            now,
            "root",
            repo="acme/web",
            user="alice",
            actor_id=9,
            old_repo_permission="read",
            new_repo_permission="admin",
        )
        log(
            "repo.add_member",
            now,
            "root",
            repo="acme/web",
            user="eve",
            actor_id=9,
            permission="write",
        )
        log(
            "environment.update_protection_rule",
            now,
            "root",
            repo="acme/web",
            actor_id=9,
            environment_name="production",
        )
        log("repo.create", now, "root", repo="acme/new", actor_id=9)


def test_the_audit_log_gives_the_real_actor_and_no_duplicate(
    server: FakeGitHubServer, ledger: Path
) -> None:
    server.access.audit_log_status = None  # Enterprise Cloud
    first = collect(server, ledger, *ORG)
    assert first.code == 0, first.err
    assert access_events(ledger) == []
    assert first.notices("audit log") == []
    change_web(server)
    log_the_changes(server)
    second = collect(server, ledger, *ORG)
    assert second.code == 0, second.err
    events = standing_access_events(ledger)
    # The rule entry names no setting: each setting the snapshots saw change is one fact,
    # with root as its actor and the settings' from/to.
    reviewers = ["team:release-managers", "user:carol"]
    assert sorted(summary(e) for e in events) == [
        ("permission.change", "changed", "web", "alice", "read", "admin"),
        ("permission.change", "granted", "web", "eve", None, "write"),
        (
            "protection.change",
            "weakened",
            "web/production",
            "production.prevent_self_review",
            True,
            False,
        ),
        (
            "protection.change",
            "weakened",
            "web/production",
            "production.required_reviewers",
            [*reviewers, "user:dave"],
            reviewers,
        ),
    ]
    for event in events:
        assert (event.actor.login, event.actor.type) == ("root", ActorType.USER)
        assert event.attributes["detected_by"] == "audit-log"
    assert second.notices("not permission or protection changes") != []
    assert cursor(ledger, "github:github.com:acme:audit-log") is not None
    server.reset_log()
    third = collect(server, ledger, *ORG)
    assert "0 new" in third.out
    audit = [r for r in server.requests if r.path.startswith("/orgs/acme/audit-log")]
    assert [(r.status, r.had_if_none_match) for r in audit] == [(304, True)]


@pytest.mark.parametrize("status", [404, 403])
def test_without_the_audit_log_one_notice_then_snapshots_only(
    server: FakeGitHubServer, ledger: Path, status: int
) -> None:
    server.access.audit_log_status = status
    collect(server, ledger, *ORG)
    change_web(server)
    log_the_changes(server)  # recorded, but this token or plan may not read it
    server.reset_log()
    second = collect(server, ledger, *ORG)
    assert second.code == 0, second.err
    notices = second.notices("audit log cannot be read")
    assert len(notices) == 1
    assert "Enterprise Cloud" in notices[0] and "actor.type: unknown" in notices[0]
    assert "It is asked again after" in notices[0]
    assert server.count(r"/audit-log$") == 0  # the first run's refusal is remembered
    events = access_events(ledger)
    assert len(events) == 4
    assert {event.actor.type for event in events} == {ActorType.UNKNOWN}


def refused_at(ledger: Path) -> str | None:
    stored = json.loads(cursor(ledger, AUDIT_KEY) or "{}")
    return stored.get("refused_at")


def age_the_refusal(ledger: Path, hours: int) -> None:
    """As if the refusal had been stored ``hours`` earlier (the CLI runs on the real clock)."""
    stored = json.loads(cursor(ledger, AUDIT_KEY) or "{}")
    then = parse_time(stored["refused_at"]) - timedelta(hours=hours)
    stored["refused_at"] = format_time(then)
    with sqlite3.connect(ledger) as db:
        db.execute("UPDATE cursors SET value = ? WHERE key = ?", (json.dumps(stored), AUDIT_KEY))


def test_a_refused_audit_log_is_probed_again_after_a_day(
    server: FakeGitHubServer, ledger: Path
) -> None:
    server.access.audit_log_status = 404  # not on Enterprise Cloud
    collect(server, ledger, *ORG)
    first = refused_at(ledger)
    assert first is not None
    age_the_refusal(ledger, 23)
    server.reset_log()
    collect(server, ledger, *ORG)
    assert server.count(r"/audit-log$") == 0
    age_the_refusal(ledger, 2)  # now 25 hours ago: probed, still refused, remembered anew
    collect(server, ledger, *ORG)
    assert server.count(r"/audit-log$") == 1
    assert refused_at(ledger) is not None and refused_at(ledger) != first
    server.access.audit_log_status = None  # the organization moved to Enterprise Cloud
    change_web(server)
    log_the_changes(server)
    age_the_refusal(ledger, 24)
    collect(server, ledger, *ORG)
    assert refused_at(ledger) is None
    events = access_events(ledger)
    assert {(e.actor.login, e.attributes["detected_by"]) for e in events} == {("root", "audit-log")}
    server.reset_log()
    collect(server, ledger, *ORG)
    audit = [r for r in server.requests if r.path.startswith("/orgs/acme/audit-log")]
    assert [(r.status, r.had_if_none_match) for r in audit] == [(304, True)]


def test_audit_entries_over_several_pages_are_all_read(
    server: FakeGitHubServer, ledger: Path
) -> None:
    server.access.audit_log_status = None
    server.per_page_max = 2
    now = datetime.now(UTC)
    for number in range(5):
        server.access.log("org.add_member", now, "root", user=f"new{number}", org="acme")
    collect(server, ledger, *ORG)
    added = sorted(str((e.target or {}).get("login")) for e in access_events(ledger))
    assert added == [f"new{number}" for number in range(5)]
    pages = [r for r in server.requests if r.path.startswith("/orgs/acme/audit-log")]
    assert len(pages) == 3 and "after=" in pages[-1].path


def test_the_fake_pages_the_audit_log_with_cursors_both_ways(server: FakeGitHubServer) -> None:
    import requests

    from pipeledger.http.client import parse_link_header

    server.access.audit_log_status = None
    server.per_page_max = 2
    now = datetime.now(UTC)
    for number in range(5):
        at = now + timedelta(seconds=number)
        server.access.log("org.add_member", at, "root", user=f"u{number}", org="acme")
    headers = {"Authorization": "Bearer test-token"}
    url = f"{server.base_url}/orgs/acme/audit-log?phrase=created:>=2000-01-01&order=asc"
    seen: list[str] = []
    while True:
        page = requests.get(url, headers=headers, timeout=5)
        seen += [entry["user"] for entry in page.json()]
        links = parse_link_header(page.headers.get("Link", ""))
        if "next" not in links:
            break
        url = links["next"]
    assert seen == [f"u{number}" for number in range(5)]
    back = requests.get(links["prev"], headers=headers, timeout=5).json()
    assert [entry["user"] for entry in back] == ["u2", "u3"]


def test_a_change_seen_by_a_snapshot_first_gets_its_actor_when_the_audit_log_arrives(
    server: FakeGitHubServer, ledger: Path
) -> None:
    """Two runs, the difference first: the later audit entries supersede it, one fact each."""
    server.access.audit_log_status = 403  # this token cannot read the audit log yet
    collect(server, ledger, *ORG)
    change_web(server)
    log_the_changes(server)
    collect(server, ledger, *ORG)
    unknown = standing_access_events(ledger)
    assert len(unknown) == 4 and {e.actor.type for e in unknown} == {ActorType.UNKNOWN}
    server.access.audit_log_status = None  # a token with read:audit_log
    age_the_refusal(ledger, 25)
    third = collect(server, ledger, *ORG)
    assert third.code == 0, third.err
    events = standing_access_events(ledger)
    assert sorted(summary(e) for e in events) == sorted(summary(e) for e in unknown)
    assert {(e.actor.login, e.attributes["confirmed_by"]) for e in events} == {
        ("root", "snapshot-diff")
    }
    assert {i for e in events for i in e.supersedes} >= {e.id for e in unknown}
    before = access_events(ledger)
    collect(server, ledger, *ORG)  # nothing new: no event is stored twice
    assert access_events(ledger) == before
