from __future__ import annotations

from datetime import UTC, datetime

from pipeledger.events import ActorType, EventKind, Scope
from pipeledger.snapshots import Grant, Protection, Snapshot, diff_snapshots
from tests.core.test_events import VALIDATOR

WEB = Scope(owner="acme", repository="web")
T1 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
T2 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _env(reviewers: list[str], prevent_self_review: bool) -> Protection:
    return Protection(
        target="environment:production",
        scope=WEB,
        settings={
            "required_reviewers": reviewers,
            "prevent_self_review": prevent_self_review,
            "wait_timer": 0,
        },
    )


def _snapshot(taken_at: datetime, grants: list[Grant], protections: list[Protection]) -> Snapshot:
    return Snapshot.build("github", "github.com", "acme/web", taken_at, grants, protections)


BEFORE = _snapshot(
    T1,
    [Grant("user", "alice", "read", WEB), Grant("user", "bob", "write", WEB)],
    [_env(["user:carol", "user:dave"], True)],
)
AFTER = _snapshot(
    T2,
    [
        Grant("user", "alice", "admin", WEB),
        Grant("user", "bob", "write", WEB),
        Grant("user", "eve", "write", WEB),
    ],
    [_env(["user:carol"], False)],
)


def test_the_first_snapshot_is_a_baseline_without_events() -> None:
    assert diff_snapshots(None, BEFORE) == []


def test_an_unchanged_snapshot_yields_nothing() -> None:
    again = _snapshot(T2, list(BEFORE.grants.values()), list(BEFORE.protections.values()))
    assert diff_snapshots(BEFORE, again) == []
    assert again.same_state(BEFORE)


def test_changes_become_exactly_the_expected_events() -> None:
    events = diff_snapshots(BEFORE, AFTER)
    summary = sorted(
        (
            e.kind.value,
            e.action,
            (e.target or {}).get("login") or (e.target or {}).get("setting"),
            str((e.change or {}).get("from")),
            str((e.change or {}).get("to")),
        )
        for e in events
    )
    assert summary == [
        ("permission.change", "changed", "alice", "read", "admin"),
        ("permission.change", "granted", "eve", "None", "write"),
        ("protection.change", "weakened", "prevent_self_review", "True", "False"),
        (
            "protection.change",
            "weakened",
            "required_reviewers",
            "['user:carol', 'user:dave']",
            "['user:carol']",
        ),
    ]


def test_snapshot_events_say_the_actor_is_unknown_and_carry_the_window() -> None:
    for event in diff_snapshots(BEFORE, AFTER):
        assert event.actor.type is ActorType.UNKNOWN
        assert event.actor.login is None
        assert event.attributes["window_start"] == "2026-03-01T09:00:00Z"
        assert event.attributes["window_end"] == "2026-03-02T09:00:00Z"
        VALIDATOR.validate(event.to_dict())


def test_escalations_are_marked() -> None:
    by_login = {
        (e.target or {}).get("login"): e
        for e in diff_snapshots(BEFORE, AFTER)
        if e.kind is EventKind.PERMISSION_CHANGE
    }
    assert by_login["alice"].attributes["escalation"] is True
    demoted = _snapshot(T2, [Grant("user", "alice", "read", WEB)], [])
    revoke = diff_snapshots(_snapshot(T1, [Grant("user", "alice", "admin", WEB)], []), demoted)
    assert [(e.action, e.attributes["escalation"]) for e in revoke] == [("changed", False)]


def test_removed_protection_is_weaker_and_ids_are_stable() -> None:
    gone = _snapshot(T2, list(BEFORE.grants.values()), [])
    events = diff_snapshots(BEFORE, gone)
    assert [(e.action, e.attributes["strength"]) for e in events] == [("removed", "weaker")]
    assert [e.id for e in diff_snapshots(BEFORE, gone)] == [e.id for e in events]


def test_snapshots_survive_json() -> None:
    assert Snapshot.from_json(AFTER.to_json()) == AFTER


def test_an_audit_log_event_replaces_the_matching_diff_event() -> None:
    from dataclasses import replace

    from pipeledger.events import Actor
    from pipeledger.snapshots import same_change

    events = diff_snapshots(BEFORE, AFTER)
    alice = next(e for e in events if (e.target or {}).get("login") == "alice")
    logged = replace(
        alice,
        id="f" * 32,
        actor=Actor(login="root", id="9", type=ActorType.USER),
        occurred_at=datetime(2026, 3, 1, 17, 30, tzinfo=UTC),
    )
    kept = [e for e in events if not same_change(e, logged)]
    assert alice not in kept
    assert len(kept) == len(events) - 1
    outside = replace(logged, occurred_at=datetime(2026, 2, 1, tzinfo=UTC))
    assert [e for e in events if not same_change(e, outside)] == events
    other_role = replace(logged, change={"from": "read", "to": "write"})
    assert [e for e in events if not same_change(e, other_role)] == events


def test_a_team_membership_is_not_the_same_change_as_direct_access() -> None:
    from dataclasses import replace

    from pipeledger.events import Actor
    from pipeledger.snapshots import same_change

    org = Scope(owner="acme")
    before = Snapshot.build("github", "github.com", "acme", T1, [])
    after = Snapshot.build(
        "github",
        "github.com",
        "acme",
        T2,
        [Grant("user", "eve", "member", org), Grant("user", "eve", "member", org, "team:devs")],
    )
    events = diff_snapshots(before, after)
    team_add = next(e for e in events if (e.target or {}).get("via") == "team:devs")
    logged = replace(
        team_add,
        id="e" * 32,
        actor=Actor(login="root", id="9", type=ActorType.USER),
        occurred_at=datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
        change={"from": None, "to": None},
    )
    kept = [e for e in events if not same_change(e, logged)]
    assert [(e.target or {}).get("via") for e in kept] == [None]
