"""One change, one fact: an audit-log entry and a snapshot difference of the same change end
as one standing event in a real SQLite ledger, whichever arrives first, in one run or two."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pipeledger.cli.main import main
from pipeledger.events import Actor, ActorType, AuditEvent, EventKind, Scope, Source, event_id
from pipeledger.facts import (
    FactMerger,
    current_records,
    ledger_superseded_ids,
    without_superseded,
)
from pipeledger.sinks.contract import EventFilter, SinkSettings
from pipeledger.snapshots import Grant, Protection, Snapshot, diff_snapshots
from pipeledger_sqlite.sink import SqliteSink

BEFORE = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
AFTER = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
GRANTED_AT = datetime(2026, 3, 1, 17, 30, tzinfo=UTC)
WEB = Scope(owner="acme", repository="web")
ALICE = Actor(login="alice", id="7", type=ActorType.USER, name="Alice Admin")


@pytest.fixture
def ledger_path(tmp_path: Path) -> Path:
    return tmp_path / "ledger.db"


def open_ledger(path: Path) -> SqliteSink:
    return SqliteSink.open(f"sqlite:///{path}", SinkSettings(environ={}))


def grant_diff() -> list[AuditEvent]:
    """bob read -> admin, seen by two snapshots a day apart."""
    before = Snapshot.build("github", "github.com", "acme/web", BEFORE, [grant("read")])
    after = Snapshot.build("github", "github.com", "acme/web", AFTER, [grant("admin")])
    return diff_snapshots(before, after)


def grant(role: str) -> Grant:
    return Grant("user", "bob", role, WEB)


def audit_entry(
    native: str = "1", change: dict[str, Any] | None = None, target: dict[str, Any] | None = None
) -> AuditEvent:
    """What an audit log records of the grant: alice did it, at a known time."""
    endpoint = "/orgs/{org}/audit-log"
    return AuditEvent(
        id=event_id("github", "github.com", endpoint, native),
        kind=EventKind.PERMISSION_CHANGE,
        action="changed",
        occurred_at=GRANTED_AT,
        platform="github",
        instance="github.com",
        actor=ALICE,
        scope=WEB,
        source=Source(endpoint, native),
        target=target or {"type": "user", "login": "bob"},
        change=change,
        attributes={"detected_by": "audit-log"},
    )


def run(path: Path, *batches: Sequence[AuditEvent]) -> None:
    """One collect run: each batch through the merger, then stored."""
    ledger = open_ledger(path)
    try:
        merger = FactMerger(ledger)
        for batch in batches:
            ledger.append(merger.merge(batch), {})
    finally:
        ledger.close()


def standing(path: Path) -> list[AuditEvent]:
    ledger = open_ledger(path)
    try:
        return [record.event for record in current_records(ledger, EventFilter())]
    finally:
        ledger.close()


def stored(path: Path) -> list[AuditEvent]:
    ledger = open_ledger(path)
    try:
        return [record.event for record in ledger.records(EventFilter())]
    finally:
        ledger.close()


def assert_one_fact(path: Path) -> AuditEvent:
    facts = standing(path)
    assert len(facts) == 1, facts
    fact = facts[0]
    assert (fact.actor.login, fact.occurred_at) == ("alice", GRANTED_AT)
    assert fact.change == {"from": "read", "to": "admin"}
    assert fact.attributes["escalation"] is True  # the diff's judgement is kept
    assert fact.attributes["confirmed_by"] == "snapshot-diff"
    assert "detected_by" not in fact.attributes or fact.attributes["detected_by"] != "snapshot-diff"
    return fact


Order = Callable[[Path], None]


def audit_then_diff_one_run(path: Path) -> None:
    run(path, [audit_entry()], grant_diff())


def diff_then_audit_one_run(path: Path) -> None:
    run(path, grant_diff(), [audit_entry()])


def audit_then_diff_two_runs(path: Path) -> None:
    run(path, [audit_entry()])
    run(path, grant_diff())


def diff_then_audit_two_runs(path: Path) -> None:
    run(path, grant_diff())
    run(path, [audit_entry()])


def both_in_one_batch(path: Path) -> None:
    run(path, [*grant_diff(), audit_entry()])


@pytest.mark.parametrize(
    "order",
    [
        audit_then_diff_one_run,
        diff_then_audit_one_run,
        audit_then_diff_two_runs,
        diff_then_audit_two_runs,
        both_in_one_batch,
    ],
)
def test_one_change_is_one_fact_whichever_arrives_first(ledger_path: Path, order: Order) -> None:
    order(ledger_path)
    fact = assert_one_fact(ledger_path)
    superseded = {e.id for e in stored(ledger_path)} - {fact.id}
    assert superseded <= set(fact.supersedes)
    assert fact.id not in fact.supersedes


@pytest.mark.parametrize("order", [diff_then_audit_two_runs, audit_then_diff_two_runs])
def test_collecting_both_again_adds_nothing(ledger_path: Path, order: Order) -> None:
    order(ledger_path)
    before = stored(ledger_path)
    run(ledger_path, [audit_entry()], grant_diff())
    assert stored(ledger_path) == before
    assert_one_fact(ledger_path)


def test_an_entry_with_the_whole_change_makes_the_diff_redundant(ledger_path: Path) -> None:
    whole = {"from": "read", "to": "admin"}
    run(ledger_path, [audit_entry(change=whole)])
    run(ledger_path, grant_diff())
    events = stored(ledger_path)
    assert len(events) == 1 and events[0].supersedes == ()
    assert events[0].actor.login == "alice"


def test_a_change_outside_the_window_or_to_another_role_is_another_fact(
    ledger_path: Path,
) -> None:
    other = audit_entry("2", change={"from": "admin", "to": "write"})
    run(ledger_path, grant_diff(), [other])
    assert [e.supersedes for e in standing(ledger_path)] == [(), ()]
    late = replace(audit_entry("3"), occurred_at=AFTER + timedelta(hours=1))
    run(ledger_path, [late])
    assert len(standing(ledger_path)) == 3


def protection_diff() -> list[AuditEvent]:
    """Two settings of the production environment changed between two snapshots."""
    rule = "environment:production"

    def state(at: datetime, no_self_review: bool, wait: int) -> Snapshot:
        settings = {"prevent_self_review": no_self_review, "wait_timer": wait}
        return Snapshot.build(
            "github", "github.com", "acme/web", at, protections=[Protection(rule, WEB, settings)]
        )

    return diff_snapshots(state(BEFORE, True, 10), state(AFTER, False, 0))


def rule_updated() -> AuditEvent:
    """``environment.update_protection_rule``: who and when, but not which setting."""
    entry = audit_entry("9", target={"type": "environment", "name": "production"})
    return replace(entry, kind=EventKind.PROTECTION_CHANGE, action="changed")


@pytest.mark.parametrize("first_diff", [True, False])
def test_an_entry_naming_no_setting_attributes_every_setting_it_covers(
    ledger_path: Path, first_diff: bool
) -> None:
    if first_diff:
        run(ledger_path, protection_diff())
        run(ledger_path, [rule_updated()])
    else:
        run(ledger_path, [rule_updated()])
        run(ledger_path, protection_diff())
    facts = standing(ledger_path)
    assert sorted(((f.target or {}).get("setting"), f.actor.login) for f in facts) == [
        ("prevent_self_review", "alice"),
        ("wait_timer", "alice"),
    ]
    assert {json.dumps(f.change, sort_keys=True) for f in facts} == {
        '{"from": true, "to": false}',
        '{"from": 10, "to": 0}',
    }


def test_without_superseded_takes_the_ids_of_a_whole_ledger() -> None:
    diff = grant_diff()[0]
    fact = replace(audit_entry(), supersedes=(diff.id,))
    assert without_superseded([diff, fact]) == [fact]
    # Filtered to the diff alone, the superseding event is not in view: pass the ids.
    assert without_superseded([diff]) == [diff]
    assert without_superseded([diff], frozenset({diff.id})) == []


def test_the_superseding_event_round_trips_and_validates(ledger_path: Path) -> None:
    from tests.core.test_events import VALIDATOR

    diff_then_audit_two_runs(ledger_path)
    fact = assert_one_fact(ledger_path)
    VALIDATOR.validate(fact.to_dict())
    assert AuditEvent.from_dict(fact.to_dict()) == fact
    assert fact.to_dict()["actor"]["name"] == "Alice Admin"
    ledger = open_ledger(ledger_path)
    try:
        assert ledger_superseded_ids(ledger) == frozenset(fact.supersedes)
    finally:
        ledger.close()


def events_cli(path: Path, *args: str) -> list[dict[str, Any]]:
    out, err = io.StringIO(), io.StringIO()
    argv = ["events", "--sink", f"sqlite:///{path}", "--format", "json", *args]
    code = main(argv, environ={}, stdout=out, stderr=err)
    assert code == 0, err.getvalue()
    listed: list[dict[str, Any]] = json.loads(out.getvalue())
    return listed


def test_events_shows_the_fact_and_all_shows_what_it_superseded(ledger_path: Path) -> None:
    diff_then_audit_two_runs(ledger_path)
    shown = events_cli(ledger_path)
    assert [(e["actor"]["login"], e["change"]) for e in shown] == [
        ("alice", {"from": "read", "to": "admin"})
    ]
    everything = events_cli(ledger_path, "--all")
    assert sorted(str(e["actor"]["login"]) for e in everything) == ["None", "alice"]
    assert events_cli(ledger_path, "--actor", "alice") == shown


def test_ledger_facts_for_report_and_metrics_leave_superseded_events_out(
    ledger_path: Path,
) -> None:
    from pipeledger.ledger.facts import ledger_facts

    diff_then_audit_two_runs(ledger_path)
    ledger = open_ledger(ledger_path)
    try:
        facts = ledger_facts(ledger)
    finally:
        ledger.close()
    assert [(e.actor.login, e.change) for e in facts] == [
        ("alice", {"from": "read", "to": "admin"})
    ]


def test_a_bypass_is_never_taken_for_the_change_a_snapshot_saw(ledger_path: Path) -> None:
    bypass = replace(rule_updated(), action="bypassed")
    run(ledger_path, protection_diff(), [bypass])
    facts = standing(ledger_path)
    assert len(facts) == 3 and all(f.supersedes == () for f in facts)


def test_siem_formats_carry_supersedes(ledger_path: Path) -> None:
    from pipeledger.formats.ecs import to_ecs
    from pipeledger.formats.ocsf import to_ocsf

    diff_then_audit_two_runs(ledger_path)
    ledger = open_ledger(ledger_path)
    try:
        record = next(r for r in ledger.records(EventFilter()) if r.event.supersedes)
    finally:
        ledger.close()
    ids = list(record.event.supersedes)
    assert to_ocsf(record)["unmapped"]["pipeledger"]["supersedes"] == ids
    assert to_ecs(record)["pipeledger"]["event"]["supersedes"] == ids
