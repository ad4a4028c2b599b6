"""Pure functions from GitHub webhook payloads about runs, deployments, approvals and reviews
to audit events, through the collector's own normalizers: a webhook and a later backfill of
the same fact get the same event id, so the ledger keeps one of them (the first stored)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pipeledger.plugin import AuditEvent
from pipeledger_github.normalize.fields import Oddities, ident_of, text
from pipeledger_github.normalize.pipelines import deployment_events, run_event
from pipeledger_github.normalize.reviews import approval_events, review_events

Json = Mapping[str, Any]
APPROVAL_ACTIONS = frozenset({"approved", "rejected"})


def repository_name(payload: Json) -> str | None:
    repository = payload.get("repository")
    return text(repository, "full_name") if isinstance(repository, Mapping) else None


def workflow_run_events(payload: Json, instance: str, notes: Oddities) -> list[AuditEvent]:
    run = _object(payload, "workflow_run")
    return [run_event(run, instance, repository=repository_name(payload), oddities=notes)]


def workflow_job_events(payload: Json, instance: str, notes: Oddities) -> list[AuditEvent]:
    """The collector records runs, not jobs; a job waiting on an environment carries the
    deployment it is making, recorded like ``GET /deployments`` would."""
    deployment = payload.get("deployment")
    if not isinstance(deployment, Mapping):
        return []
    job = _object(payload, "workflow_job")
    return _with_run(
        deployment_events(
            deployment, [], instance, repository=repository_name(payload), oddities=notes
        ),
        ident_of({"id": job.get("run_id")}),
    )


def deployment_webhook_events(payload: Json, instance: str, notes: Oddities) -> list[AuditEvent]:
    """``deployment`` (created) and ``deployment_status`` (created): the deployment, and the
    status when there is one — the ids ``GET /deployments`` and ``…/statuses`` give them."""
    deployment = _object(payload, "deployment")
    status = payload.get("deployment_status")
    statuses = [status] if isinstance(status, Mapping) else []
    events = deployment_events(
        deployment, statuses, instance, repository=repository_name(payload), oddities=notes
    )
    return _with_run(events, ident_of(_optional_object(payload, "workflow_run")))


def deployment_review_events(
    payload: Json, instance: str, received_at: datetime, notes: Oddities
) -> list[AuditEvent]:
    """An environment approval or rejection at the moment it happened. The approvals API
    gives none, so the collector dates approvals by the deployment; this event carries the
    same id, and whichever is stored first stands (normally this one, minutes earlier)."""
    state = text(payload, "action")
    if state not in APPROVAL_ACTIONS:
        return []  # ``requested``: nobody has decided anything yet
    run = _object(payload, "workflow_run")
    environments = _review_environments(payload)
    approval = {
        "state": state,
        "comment": text(payload, "comment") or "",
        "user": payload.get("approver") or payload.get("sender"),
        "environments": [{"name": name} for name in environments],
    }
    events = approval_events(
        [approval], run, [], instance, repository=repository_name(payload), oddities=notes
    )
    return [_dated_by_webhook(event, received_at, payload) for event in events]


def _review_environments(payload: Json) -> list[str]:
    runs = payload.get("workflow_job_runs")
    names = [
        name
        for job in [payload.get("workflow_job_run"), *(runs if isinstance(runs, list) else [])]
        if isinstance(job, Mapping) and (name := text(job, "environment"))
    ]
    if not names and (name := text(payload, "environment")):
        names.append(name)
    return sorted(set(names))


def _dated_by_webhook(event: AuditEvent, received_at: datetime, payload: Json) -> AuditEvent:
    attributes = dict(event.attributes) | {"occurred_at_source": "webhook"}
    if since := text(payload, "since"):
        attributes["waiting_since"] = since
    return dataclasses.replace(event, occurred_at=received_at, attributes=attributes)


def pull_request_review_events(payload: Json, instance: str, notes: Oddities) -> list[AuditEvent]:
    review = _object(payload, "review")
    return review_events(
        _object(payload, "pull_request"),
        [review],
        None,
        instance,
        repository=repository_name(payload),
        oddities=notes,
    )


def _with_run(events: list[AuditEvent], run_id: str | None) -> list[AuditEvent]:
    if run_id is None:
        return events
    return [
        dataclasses.replace(event, correlation=dict(event.correlation) | {"run_id": run_id})
        if "run_id" not in event.correlation
        else event
        for event in events
    ]


def _object(payload: Json, key: str) -> Json:
    value = payload.get(key)
    if not isinstance(value, Mapping):
        raise MissingObject(key)
    return value


def _optional_object(payload: Json, key: str) -> Json | None:
    value = payload.get(key)
    return value if isinstance(value, Mapping) else None


class MissingObject(Exception):
    """The payload lacks the object its event type is about."""

    def __init__(self, key: str) -> None:
        super().__init__(f"the payload has no {key!r} object")
