"""Permission and protection history through the real CLI against the fake GitHub API: a
baseline, one round of changes, exactly the events they imply, nothing on a rerun, and what
happens when the token may not read a resource."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeledger.events import ActorType, format_time
from tests.fakes.github_access import FakeEnvironment
from tests.fakes.github_api import FakeGitHubServer
from tests.plugins.pipeledger_github.snapshots.conftest import (
    access_events,
    collect,
    snapshot,
    snapshot_requests,
    summary,
)

WEB = ("--repo", "acme/web")


def change_web(server: FakeGitHubServer) -> None:
    """alice read -> admin, eve joins, dave stops reviewing production, self-review allowed."""
    web = server.access.repo("web")
    with server.org.lock:
        web.collaborators["alice"] = "admin"
        web.collaborators["eve"] = "write"
        production = web.environments["production"]
        production.reviewers.remove(("User", "dave"))
        production.prevent_self_review = False


def test_a_baseline_then_exactly_the_changes(server: FakeGitHubServer, ledger: Path) -> None:
    first = collect(server, ledger, *WEB)
    assert first.code == 0, first.err
    assert access_events(ledger) == []  # the first snapshot records the baseline only
    baseline = snapshot(ledger, "acme/web")
    assert {g.subject: g.role for g in baseline.grants.values()} == {
        "alice": "read",
        "bob": "write",
        "carol": "admin",
        "dave": "write",
    }
    change_web(server)
    second = collect(server, ledger, *WEB)
    assert second.code == 0, second.err
    events = access_events(ledger)
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
            ["team:release-managers", "user:carol", "user:dave"],
            ["team:release-managers", "user:carol"],
        ),
    ]
    taken = snapshot(ledger, "acme/web").taken_at
    for event in events:
        assert event.actor.type is ActorType.UNKNOWN and event.actor.login is None
        assert event.attributes["detected_by"] == "snapshot-diff"
        assert event.attributes["window_start"] == format_time(baseline.taken_at)
        assert event.attributes["window_end"] == format_time(taken)
        assert event.occurred_at == taken
    alice = next(e for e in events if (e.target or {}).get("login") == "alice")
    assert alice.attributes["escalation"] is True


def test_an_unchanged_rerun_adds_nothing_and_costs_only_304s(
    server: FakeGitHubServer, ledger: Path
) -> None:
    collect(server, ledger, *WEB)
    first = snapshot_requests(server)
    assert [status for _, status in first] == [200] * len(first)
    assert len(first) == 7  # repository, collaborators, environments, staging's branch
    # policies, protected branches, main's protection, branch rules: one listing pass per
    # resource
    server.reset_log()
    rerun = collect(server, ledger, *WEB)
    assert "0 new" in rerun.out
    assert access_events(ledger) == []
    # main was protected: its protection's own ETag re-checks it, the list is not needed.
    again = [path for path, _ in first if "protected=true" not in path]
    assert snapshot_requests(server) == [(path, 304) for path in again]


def test_the_organization_snapshot_sees_members_and_teams(
    server: FakeGitHubServer, ledger: Path
) -> None:
    collect(server, ledger, "--org", "acme")
    org = snapshot(ledger, "acme")
    roles = {(g.subject, g.via, g.scope.repository): g.role for g in org.grants.values()}
    assert roles[("alice", None, None)] == "admin"
    assert roles[("alice", "team:release-managers", None)] == "maintainer"
    assert roles[("carol", "team:release-managers", None)] == "member"
    assert roles[("release-managers", None, "web")] == "maintain"
    with server.org.lock:
        server.access.members["bob"] = "admin"  # promoted to owner
        server.org.teams["security"] = {"erin"}  # a new team with a member and a repo
        server.access.team_repos["security"] = {"infra": "admin"}
        del server.org.teams["developers"]  # a team deleted
    collect(server, ledger, "--org", "acme")
    changes = sorted(summary(e) for e in access_events(ledger))
    assert ("permission.change", "changed", "", "bob", "member", "admin") in changes
    assert ("permission.change", "granted", "", "erin", None, "member") in changes
    assert ("permission.change", "granted", "infra", "security", None, "admin") in changes
    revoked = [c for c in changes if c[1] == "revoked"]
    assert len(revoked) == 4 + 3  # developers' 4 members and its 3 repositories
    assert len(changes) == 3 + len(revoked)


def test_a_resource_the_token_may_not_read_keeps_its_state(
    server: FakeGitHubServer, ledger: Path
) -> None:
    collect(server, ledger, *WEB)
    read_at = snapshot(ledger, "acme/web").taken_at
    server.forbidden_paths = {r"/protection$": "administration=read"}
    with server.org.lock:
        protection = server.access.repo("web").protection
        assert protection is not None
        protection.required_approving_review_count = 0  # changed while unreadable
    refused = collect(server, ledger, *WEB)
    assert refused.code == 0, refused.err
    notices = refused.notices("cannot read branch protection")
    assert len(notices) == 1 and "`administration: read`" in notices[0]
    assert access_events(ledger) == []  # no bogus "removed"
    kept = snapshot(ledger, "acme/web").protections
    assert "acme/web|branch:main" in kept
    server.forbidden_paths = {}
    collect(server, ledger, *WEB)
    (weakened,) = access_events(ledger)
    assert summary(weakened) == (
        "protection.change",
        "weakened",
        "web",
        "main.required_approving_review_count",
        1,
        0,
    )
    # The window opens when branch protection was last read, not at the refused run.
    assert weakened.attributes["window_start"] == format_time(read_at)


def test_a_404_for_branch_protection_is_no_removal(server: FakeGitHubServer, ledger: Path) -> None:
    collect(server, ledger, *WEB)
    server.fail_path(r"/protection$", times=1, status=404)  # what a classic token without
    # admin rights gets: "Not Found", not "Branch not protected"
    refused = collect(server, ledger, *WEB)
    assert len(refused.notices("cannot read branch protection")) == 1
    assert access_events(ledger) == []
    with server.org.lock:
        server.access.repo("web").protection = None  # really unprotected now
    collect(server, ledger, *WEB)
    (removed,) = access_events(ledger)
    assert (removed.action, removed.attributes["strength"]) == ("removed", "weaker")


def test_new_environment_and_ruleset_changes(server: FakeGitHubServer, ledger: Path) -> None:
    collect(server, ledger, *WEB)
    with server.org.lock:
        web = server.access.repo("web")
        web.environments["preview"] = FakeEnvironment()  # guards nothing: not a protection
        web.environments["staging"].patterns.append("feature/*")
        web.rules = [rule for rule in web.rules if rule.ruleset_id != 73]
    collect(server, ledger, *WEB)
    assert sorted(summary(e) for e in access_events(ledger)) == [
        (
            "protection.change",
            "removed",
            "web",
            "73.None",
            {"branch": "main", "rule:required_signatures": True, "source": "Organization:acme"},
            None,
        ),
        (
            "protection.change",
            "weakened",
            "web/staging",
            "staging.branch_policies",
            ["main", "release/*"],
            ["feature/*", "main", "release/*"],
        ),
    ]


def test_no_snapshots_when_told_not_to(server: FakeGitHubServer, ledger: Path) -> None:
    collect(server, ledger, *WEB, "--no-snapshots")
    assert snapshot_requests(server) == []
    collect(server, ledger, *WEB, environ={"PIPELEDGER_SNAPSHOTS": "false"})
    assert snapshot_requests(server) == []
    collect(server, ledger, *WEB)
    assert snapshot_requests(server) != []


def test_an_organization_the_token_may_not_read(server: FakeGitHubServer, ledger: Path) -> None:
    server.forbidden_paths = {r"^/orgs/acme/(members|teams)": "members=read"}
    run = collect(server, ledger, "--org", "acme")
    assert run.code == 0, run.err
    for kind in ("organization members", "teams"):
        (notice,) = run.notices(f"cannot read {kind}")
        assert "`members: read`" in notice
    assert snapshot(ledger, "acme").grants == {}
    assert len(snapshot(ledger, "acme/web").grants) == 4  # repositories are still recorded


def test_a_failed_run_stores_neither_the_events_nor_the_snapshot(
    server: FakeGitHubServer, ledger: Path
) -> None:
    from pipeledger.collect.adapter import AdapterSettings, CollectRequest
    from pipeledger.collect.progress import SilentProgress
    from pipeledger.collect.run import collect_into
    from pipeledger.errors import PlatformError
    from pipeledger.sinks.contract import SinkSettings
    from pipeledger.sinks.fanout import SinkSet
    from pipeledger_github.adapter import GitHubAdapter
    from pipeledger_github.auth import Endpoint

    def run() -> None:
        settings = AdapterSettings(api_url=server.base_url, environ={}, max_retries=1)
        endpoint = Endpoint(server.base_url, "github.com")
        adapter = GitHubAdapter(settings, endpoint, "test-token", sleep=lambda _: None)
        sinks = SinkSet.open([f"sqlite:///{ledger}"], SinkSettings(environ={}))
        try:
            collect_into(
                adapter, CollectRequest(repositories=("acme/web",)), sinks, SilentProgress()
            )
        finally:
            sinks.close()

    run()
    baseline = snapshot(ledger, "acme/web")
    change_web(server)
    server.fail_path(r"/rules/branches/", times=2, status=502)  # the last resource read
    with pytest.raises(PlatformError):
        run()
    assert access_events(ledger) == []
    assert snapshot(ledger, "acme/web") == baseline  # the snapshot waits with its events
    run()
    assert len(access_events(ledger)) == 4
