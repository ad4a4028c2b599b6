"""Approvals get their real time from ``deployment_review`` webhooks, and a webhook and a
backfill of the same approval are one event in either order (same id; the first stored
stands). The approved/rejected payloads are built from octokit's ``requested`` example and
checked against GitHub's payload schema, since no official example of them exists."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from pipeledger.events import AuditEvent, EventKind
from pipeledger.sinks.contract import EventFilter, SinkSettings
from pipeledger_github.normalize.reviews import approval_events
from pipeledger_sqlite.sink import SqliteSink
from tests.core.serve.process import ServeProcess, start_serve
from tests.paths import fixture


def _json(*parts: str) -> Any:
    return json.loads(fixture(*parts).read_text(encoding="utf-8"))


def review_payload(state: str, comment: str = "Ship it") -> dict[str, Any]:
    requested = _json("octokit-webhooks", "deployment_review", "01-requested.json")
    payload = copy.deepcopy(requested)
    job = payload.pop("workflow_job_run")
    for key in ("requestor", "reviewers", "environment"):
        payload.pop(key, None)
    payload |= {
        "action": state,
        "approver": requested["requestor"],
        "comment": comment,
        "workflow_job_runs": [job],
    }
    schema = _json("octokit-openapi-webhooks", f"deployment-review-{state}.schema.json")
    jsonschema.validate(payload, schema)
    return payload


def backfilled(payload: dict[str, Any]) -> AuditEvent:
    """The approval as ``collect`` records it from ``GET …/runs/{id}/approvals``."""
    (job,) = payload["workflow_job_runs"]
    approval = {
        "state": payload["action"],
        "comment": payload["comment"],
        "user": payload["approver"],
        "environments": [{"id": 1, "name": job["environment"]}],
    }
    (event,) = approval_events([approval], payload["workflow_run"], [], "github.com")
    return event


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[ServeProcess, Path]]:
    ledger = tmp_path / "ledger.db"
    process = start_serve(tmp_path, [f"sqlite:///{ledger}"])
    yield process, ledger
    process.stop()


def approvals(ledger: Path) -> list[AuditEvent]:
    sink = SqliteSink.open(f"sqlite:///{ledger}", SinkSettings(environ={}))
    try:
        selection = EventFilter(kinds=(EventKind.DEPLOYMENT_APPROVAL,))
        return [record.event for record in sink.records(selection)]
    finally:
        sink.close()


def append(ledger: Path, event: AuditEvent) -> int:
    sink = SqliteSink.open(f"sqlite:///{ledger}", SinkSettings(environ={}))
    try:
        return len(sink.append([event], {}))
    finally:
        sink.close()


@pytest.mark.parametrize("state", ["approved", "rejected"])
def test_the_webhook_dates_the_approval_and_the_backfill_adds_nothing(
    served: tuple[ServeProcess, Path], state: str
) -> None:
    process, ledger = served
    payload = review_payload(state)
    answer = process.github("deployment_review", payload, f"review-{state}")
    assert answer.json()["stored"] == 1
    (webhook,) = approvals(ledger)
    assert webhook.action == state
    assert webhook.attributes["occurred_at_source"] == "webhook"
    assert webhook.actor.login == payload["approver"]["login"]
    assert append(ledger, backfilled(payload)) == 0
    assert approvals(ledger) == [webhook]
    assert webhook.id == backfilled(payload).id
    assert webhook.occurred_at != backfilled(payload).occurred_at


def test_a_backfill_first_keeps_one_event_the_backfills(served: tuple[ServeProcess, Path]) -> None:
    process, ledger = served
    payload = review_payload("approved")
    assert append(ledger, backfilled(payload)) == 1
    answer = process.github("deployment_review", payload, "review-late")
    assert (answer.status_code, answer.json()["stored"]) == (200, 0)
    (only,) = approvals(ledger)
    assert only.attributes["occurred_at_source"].startswith("run.")


def test_another_comment_is_another_approval_fact(served: tuple[ServeProcess, Path]) -> None:
    process, ledger = served
    process.github("deployment_review", review_payload("approved", "ok"), "r-1")
    process.github("deployment_review", review_payload("approved", "LGTM"), "r-2")
    assert len(approvals(ledger)) == 2
