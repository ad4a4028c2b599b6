"""Provenance finds the protection rules in force however a platform keys its snapshots
(``owner/name`` on GitHub, ``project:<id>`` on GitLab)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pipeledger.events import EventKind, Scope
from pipeledger.provenance import build
from pipeledger.sinks.contract import EventFilter
from pipeledger.snapshots import Protection, Snapshot, history_scope_keys, snapshot_state
from pipeledger_sqlite.sink import SqliteSink
from tests.core.factories import BASE_TIME, make_event

PROJECT = Scope(owner="acme/platform", repository="api")


def _snapshot(taken_minutes: int, approvals: int) -> Snapshot:
    rule = Protection(
        target="environment:production",
        scope=Scope(owner=PROJECT.owner, repository=PROJECT.repository, environment="production"),
        settings={"required_approval_count": approvals},
    )
    other = Protection(target="environment:staging", scope=PROJECT, settings={})
    return Snapshot.build(
        "gitlab",
        "gitlab.example.com",
        "project:7",
        BASE_TIME + timedelta(minutes=taken_minutes),
        protections=[rule, other],
    )


def test_a_gitlab_style_scope_key_is_found_by_the_deployments_repository(tmp_path: Path) -> None:
    ledger = SqliteSink(tmp_path / "l.db")
    first, second = _snapshot(0, 2), _snapshot(60, 1)
    ledger.append([], snapshot_state(None, first))
    ledger.append([], snapshot_state(first, second))
    deployment = make_event(
        30,
        kind=EventKind.DEPLOYMENT,
        action="created",
        platform="gitlab",
        instance="gitlab.example.com",
        scope=Scope(owner=PROJECT.owner, repository=PROJECT.repository, environment="production"),
        correlation={"deployment_id": "77"},
    )
    ledger.append([deployment], {})
    assert history_scope_keys(ledger, "gitlab", "gitlab.example.com") == {"project:7"}
    events = [r.event for r in ledger.records(EventFilter())]
    provenance = build(events, "acme/platform/api#77", ledger)
    assert provenance.protections_observed_at == first.taken_at  # the deploy came before the change
    assert [p.target for p in provenance.protections] == ["environment:production"]
    assert provenance.protections[0].settings == {"required_approval_count": 2}
