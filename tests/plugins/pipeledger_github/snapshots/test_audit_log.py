"""The audit log and membership webhooks as events with their real actor: mapping over
GitHub's example payloads, and correlation with snapshot differences."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import jsonschema
import pytest

from pipeledger.events import ActorType, EventKind, Scope
from pipeledger.snapshots import Grant, Snapshot, diff_snapshots, same_change
from pipeledger_github.audit.events import audit_action, audit_event
from pipeledger_github.webhooks import webhook_event
from tests.core.test_events import VALIDATOR
from tests.fakes.github_access import AccessState
from tests.fakes.github_data import _github_examples_root

ROOT = _github_examples_root()
SCHEMA = json.loads(
    (ROOT / "schemas/audit-log-event.schema.ghec-2023-07-via-octokit-openapi.json").read_text()
)
AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def load(rel: str) -> Any:
    return json.loads((ROOT / rel).read_text(encoding="utf-8"))


def test_the_ghec_example_maps_team_add_member_and_skips_the_rest() -> None:
    entries = load("rest/orgs-audit-log.audit-log.ghec.json")
    for entry in entries:
        jsonschema.validate(entry, SCHEMA)
    events = [audit_event(entry, "octo-corp", "github.com") for entry in entries]
    skipped = [entry["action"] for entry, event in zip(entries, events, strict=True) if not event]
    assert skipped == ["org.create", "repo.destroy"]
    (event,) = [event for event in events if event is not None]
    VALIDATOR.validate(event.to_dict())
    assert event.kind is EventKind.PERMISSION_CHANGE
    assert event.action == "granted"
    assert (event.actor.login, event.actor.type) == ("octocat", ActorType.USER)
    assert event.occurred_at == datetime(2020, 12, 2, 17, 24, 34, 512000, tzinfo=UTC)
    assert event.scope == Scope(owner="octo-corp")
    assert event.target == {"type": "user", "login": "monalisa", "via": "team:example-team"}
    assert event.source.native_id == "xJJFlFOhQ6b-5vaAFy9Rjw"
    assert event.attributes["detected_by"] == "audit-log"


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("org.add_member", ("permission.change", "granted")),
        ("org.update_member", ("permission.change", "changed")),
        ("team.remove_member", ("permission.change", "revoked")),
        ("team.update_repository_permission", ("permission.change", "changed")),
        ("repo.remove_member", ("permission.change", "revoked")),
        ("environment.remove_protection_rule", ("protection.change", "removed")),
        ("protected_branch.update_admin_enforced", ("protection.change", "changed")),
        ("protected_branch.destroy", ("protection.change", "removed")),
        ("protected_branch.policy_override", ("protection.change", "bypassed")),
        ("repository_ruleset.update", ("protection.change", "changed")),
        ("repository_ruleset.bypass", ("protection.change", "bypassed")),
        ("org.create", None),
        ("protected_branchy.create", None),
    ],
)
def test_actions_map_to_kinds(action: str, expected: tuple[str, str] | None) -> None:
    mapped = audit_action(action)
    assert (None if mapped is None else (mapped[0].value, mapped[1])) == expected


def test_entries_the_fake_writes_follow_the_documented_schema() -> None:
    access = AccessState()
    entries = [
        access.log(
            "repo.update_member",
            AT,
            "root",
            repo="acme/web",
            user="alice",
            old_repo_permission="read",
            new_repo_permission="admin",
            actor_id=9,
        ),
        access.log(
            "org.update_member",
            AT,
            "root",
            org="acme",
            user="bob",
            permission="admin",
            old_permission="read",
        ),
        access.log(
            "environment.update_protection_rule",
            AT,
            "root",
            repo="acme/web",
            environment_name="production",
        ),
        access.log("protected_branch.destroy", AT, "dependabot[bot]", repo="acme/web", name="main"),
    ]
    for entry in entries:
        jsonschema.validate(entry, SCHEMA)
    events = [audit_event(entry, "acme", "github.com") for entry in entries]
    assert all(event is not None for event in events)
    repo, org, environment, branch = (e for e in events if e is not None)
    assert (repo.scope.repository, repo.change) == ("web", {"from": "read", "to": "admin"})
    assert repo.actor.id == "9"
    assert (org.target, org.change) == (
        {"type": "user", "login": "bob"},
        {"from": "member", "to": "admin"},
    )
    assert environment.scope.environment == "production"
    assert environment.target == {"type": "environment", "name": "production"}
    assert (branch.action, branch.actor.type, branch.attributes["strength"]) == (
        "removed",
        ActorType.BOT,
        "weaker",
    )
    for event in (repo, org, environment, branch):
        VALIDATOR.validate(event.to_dict())


def test_the_audit_event_replaces_the_diff_event_of_the_same_change() -> None:
    web = Scope(owner="acme", repository="web")
    before = Snapshot.build(
        "github", "github.com", "acme/web", AT, [Grant("user", "alice", "read", web)]
    )
    after = Snapshot.build(
        "github",
        "github.com",
        "acme/web",
        datetime(2026, 3, 2, tzinfo=UTC),
        [Grant("user", "alice", "admin", web), Grant("user", "eve", "write", web)],
    )
    diff = diff_snapshots(before, after)
    entry = AccessState().log(
        "repo.update_member",
        datetime(2026, 3, 1, 18, 0, tzinfo=UTC),
        "root",
        repo="acme/web",
        user="alice",
        old_repo_permission="read",
        new_repo_permission="admin",
    )
    logged = audit_event(entry, "acme", "github.com")
    assert logged is not None
    kept = [e for e in diff if not same_change(e, logged)]
    assert [(e.target or {}).get("login") for e in kept] == ["eve"]


def webhook(name: str, file: str) -> Any:
    payload = load(f"webhooks/{file}.payload.json")
    return webhook_event(name, payload, f"delivery-{file}", AT, "github.com")


def test_member_webhooks() -> None:
    added = webhook("member", "member.added")
    assert added is not None
    assert (added.action, added.actor.login) == ("granted", "hacktocat")
    assert added.scope == Scope(owner="Codertocat", repository="Hello-World")
    assert added.target == {"type": "user", "login": "hacktocat"}
    edited = webhook("member", "member.edited")
    assert edited is not None
    assert (edited.action, edited.change) == ("changed", {"from": "write", "to": None})
    assert (edited.actor.login, edited.target) == (
        "Codertocat",
        {"type": "user", "login": "octocat"},
    )
    for event in (added, edited):
        assert event.occurred_at == AT and event.attributes["occurred_at_source"] == "received_at"
        VALIDATOR.validate(event.to_dict())


def test_membership_webhooks() -> None:
    added = webhook("membership", "membership.added")
    removed = webhook("membership", "membership.removed.with-deleted-team")
    assert added is not None and removed is not None
    assert (added.action, added.scope) == ("granted", Scope(owner="Octocoders"))
    assert added.target == {"type": "user", "login": "Codertocat", "via": "team:github"}
    assert (removed.action, (removed.target or {}).get("via")) == ("revoked", "team:github")
    assert webhook("membership", "membership.removed") is not None


def test_organization_webhooks() -> None:
    added = webhook("organization", "organization.member_added")
    invited = webhook("organization", "organization.member_invited")
    assert added is not None and invited is not None
    assert (added.action, added.target, (added.change or {}).get("to")) == (
        "granted",
        {"type": "user", "login": "hacktocat"},
        "member",
    )
    assert (invited.action, (invited.change or {}).get("to")) == ("invited", "member")
    assert webhook("organization", "organization.renamed") is None
    assert webhook("deployment", "deployment") is None
    for event in (added, invited):
        VALIDATOR.validate(event.to_dict())


def test_a_refusal_is_kept_in_the_cursor_and_due_again_after_a_day() -> None:
    from datetime import timedelta

    from pipeledger_github.audit.stream import REPROBE, AuditCursor

    older = AuditCursor.loads('{"day": "2026-02-27", "pages": [], "last_full": false}')
    assert older.refused_at is None and older.probe_due(AT) is None  # an older pipeledger's
    refused = AuditCursor(older.day, (), False, AT, "GitHub answered 404 Not Found.")
    again = AuditCursor.loads(refused.dumps())
    assert again == refused
    assert again.probe_due(AT + timedelta(hours=23)) == AT + REPROBE == AT + timedelta(hours=24)
    assert again.probe_due(AT + REPROBE) is None
