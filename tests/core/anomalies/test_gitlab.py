"""GitLab names approval-rule users by id, not login: a new approver added to a protected
environment's rules between two snapshots, who approves a deploy within hours, is a
privilege escalation. Built from GitLab's documented payloads through the real normalizer
and the real snapshot difference."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pipeledger.anomalies.engine import Selection, detect_in_ledger
from pipeledger.anomalies.settings import AnomalySettings
from pipeledger.events import AuditEvent, Scope
from pipeledger.snapshots import Snapshot, diff_snapshots
from pipeledger_gitlab.normalize.access import environment_protections
from pipeledger_gitlab.normalize.pipelines import (
    Origin,
    ProjectRef,
    deployment_approval_events,
    deployment_events,
)
from pipeledger_sqlite.sink import SqliteSink
from tests.plugins.pipeledger_gitlab.conftest import load_example

Json = dict[str, Any]
ORIGIN = Origin(instance="gitlab.com", project=ProjectRef(id=1, full_path="acme/web"))
SCOPE = Scope(owner="acme", repository="web")
START = datetime(2026, 1, 5, 9, tzinfo=UTC)
DEVELOPERS = ({"id": 7, "username": "mia"}, {"id": 8, "username": "noah"})
LEADS = ({"id": 11, "username": "lena"},)
IVAN = {"id": 42, "username": "ivan"}


def deployment(number: int, when: datetime, user: dict[str, Any], approver: dict[str, Any]) -> Json:
    """One deployment as ``GET /projects/:id/deployments/:id`` shows it (GitLab's documented
    example), approved by ``approver`` 20 minutes after its creation."""
    payload: Json = copy.deepcopy(load_example("docs/deployments-get.json"))
    payload.update(id=number, iid=number, status="success", user=user)
    payload["created_at"] = when.isoformat()
    payload["updated_at"] = payload["finished_at"] = (when + timedelta(minutes=30)).isoformat()
    payload["environment"]["name"] = "production"
    payload["deployable"]["id"] = 10_000 + number
    payload["deployable"]["pipeline"]["id"] = 20_000 + number
    approval = {
        "user": approver,
        "status": "approved",
        "created_at": (when + timedelta(minutes=20)).isoformat(),
        "comment": None,
    }
    payload["approvals"] = [approval]
    return payload


def protections(rules: list[Json]) -> Snapshot:
    environment = copy.deepcopy(load_example("docs/protected-environments-list.json"))[0]
    environment.update(name="production", approval_rules=rules)
    return Snapshot.build(
        "gitlab",
        "gitlab.com",
        "acme/web",
        START,
        protections=environment_protections([environment], SCOPE),
    )


def history() -> list[AuditEvent]:
    events: list[AuditEvent] = []
    for day in range(40):
        when = START + timedelta(days=day, hours=day % 3)
        payload = deployment(100 + day, when, DEVELOPERS[day % 2], LEADS[0])
        events += deployment_events(ORIGIN, payload) + deployment_approval_events(ORIGIN, payload)
    lead_rule = {"user_id": 11, "required_approvals": 1, "access_level": None, "group_id": None}
    ivan_rule = {**lead_rule, "user_id": 42}
    before = protections([lead_rule])
    after = Snapshot.build(
        "gitlab",
        "gitlab.com",
        "acme/web",
        START + timedelta(days=40),
        protections=protections([lead_rule, ivan_rule]).protections.values(),
    )
    events += diff_snapshots(before, after)
    # ivan approves mia's deploy two hours after the snapshot that first saw him as approver.
    payload = deployment(200, START + timedelta(days=40, hours=2), DEVELOPERS[0], IVAN)
    events += deployment_events(ORIGIN, payload) + deployment_approval_events(ORIGIN, payload)
    return events


def test_an_approver_added_by_id_who_approves_within_hours_is_an_escalation(tmp_path: Path) -> None:
    events = history()
    ledger = SqliteSink(tmp_path / "gitlab.db")
    ledger.append(events, {})
    try:
        found = detect_in_ledger(
            ledger, AnomalySettings(), Selection(since=START + timedelta(days=39))
        )
    finally:
        ledger.close()
    [alert] = [a for a in found.alerts if a.detector == "privilege-escalation"]
    assert alert.message.startswith(
        "ivan (user 42) was given environment reviewer on acme/web between"
    )
    assert "seen by comparing snapshots" in alert.message
    assert alert.subject.deployment_id == "200" and alert.subject.pipeline_id == "20200"
    assert alert.actors[0] == "ivan"
