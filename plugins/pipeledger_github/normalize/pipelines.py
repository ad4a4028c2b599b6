"""Pure functions from GitHub REST payloads to audit events: no HTTP, no clock.

A record missing something it cannot be recorded without raises :class:`MissingField` (the
caller skips it and says so); unknown enum values are kept as sent and noted in ``Oddities``.
Runs and deployments are here; approvals and reviews in :mod:`pipeledger_github.normalize.reviews`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pipeledger.plugin import UNKNOWN_ACTOR, Actor, AuditEvent, EventKind, Scope, Source, event_id
from pipeledger_github.normalize.fields import (
    NO_REFS,
    PLATFORM,
    MissingField,
    Oddities,
    RefNames,
    actor,
    html_link,
    ident_of,
    known_actor,
    native_id,
    number,
    repository_of,
    required_time,
    run_id_from_url,
    sha_field,
    text,
    time_field,
)
from pipeledger_github.normalize.reviews import approval_events, review_events

__all__ = [
    "approval_events",
    "deployment_events",
    "deployment_is_final",
    "deployment_run_id",
    "review_events",
    "run_event",
    "run_is_final",
]

RUNS_ENDPOINT = "/repos/{owner}/{repo}/actions/runs"
DEPLOYMENTS_ENDPOINT = "/repos/{owner}/{repo}/deployments"
STATUSES_ENDPOINT = "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses"

RUN_STATUSES = frozenset(
    {"requested", "queued", "in_progress", "completed", "waiting", "pending", "action_required"}
)
RUN_CONCLUSIONS = frozenset(
    {
        "success",
        "failure",
        "neutral",
        "cancelled",
        "skipped",
        "timed_out",
        "action_required",
        "stale",
        "startup_failure",
    }
)
DEPLOYMENT_STATES = frozenset(
    {"error", "failure", "inactive", "in_progress", "queued", "pending", "success", "waiting"}
)
FINAL_DEPLOYMENT_STATES = frozenset({"error", "failure", "inactive", "success"})


def run_event(
    run: Mapping[str, Any],
    instance: str,
    *,
    repository: str | None = None,
    oddities: Oddities | None = None,
    refs: RefNames = NO_REFS,
) -> AuditEvent:
    """One ``pipeline.run`` event per (run, attempt, status) observed; ``refs`` tells a tag's
    name from a branch's."""
    notes = oddities or Oddities()
    ident = native_id(run, "workflow run")
    status = _run_status(run, ident, notes)
    conclusion = text(run, "conclusion")
    if conclusion is not None and conclusion not in RUN_CONCLUSIONS:
        notes.unknown_value("workflow run conclusion", conclusion)
    attempt = number(run, "run_attempt")
    occurred_at, occurred_source = _run_time(run, ident, status)
    owner, repo = repository_of(run, repository, "workflow run", ident)
    initial = actor(run.get("actor"))
    correlation = {"run_id": ident}
    if attempt is not None:
        correlation["run_attempt"] = str(attempt)
    native = f"{ident}/{attempt}/{status}" if attempt is not None else f"{ident}/{status}"
    return AuditEvent(
        id=event_id(PLATFORM, instance, RUNS_ENDPOINT, native),
        kind=EventKind.PIPELINE_RUN,
        action=status,
        occurred_at=occurred_at,
        platform=PLATFORM,
        instance=instance,
        actor=_run_actor(run, initial, ident, notes),
        scope=Scope(owner=owner, repository=repo),
        source=Source(endpoint=RUNS_ENDPOINT, native_id=native),
        ref=refs.full_ref(text(run, "head_branch"), text(run, "head_sha")),
        sha=sha_field(run, "head_sha"),
        outcome=conclusion,
        correlation=correlation,
        links=html_link(run),
        attributes=_run_attributes(run, initial, occurred_source),
    )


def run_is_final(run: Mapping[str, Any]) -> bool:
    return run.get("status") == "completed"


def _run_status(run: Mapping[str, Any], ident: str, notes: Oddities) -> str:
    status = text(run, "status")
    if status is None:
        raise MissingField("workflow run", ident, "status")
    if status not in RUN_STATUSES:
        notes.unknown_value("workflow run status", status)
    return status


def _run_time(run: Mapping[str, Any], ident: str, status: str) -> tuple[datetime, str]:
    """Completion time for a completed run, otherwise when this attempt started."""
    if status == "completed" and (updated := time_field(run, "updated_at")) is not None:
        return updated, "updated_at"
    if (started := time_field(run, "run_started_at")) is not None:
        return started, "run_started_at"
    return required_time(run, "created_at", "workflow run", ident), "created_at"


def _run_actor(run: Mapping[str, Any], initial: Actor | None, ident: str, notes: Oddities) -> Actor:
    """Who started this attempt: ``triggering_actor``; older payloads only have ``actor``."""
    triggering = actor(run.get("triggering_actor"))
    if triggering is not None:
        return triggering
    if initial is not None:
        return initial
    notes.note(f"workflow run {ident} names no actor; it is recorded with an unknown actor.")
    return UNKNOWN_ACTOR


def _run_attributes(
    run: Mapping[str, Any], initial: Actor | None, occurred_source: str
) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "workflow": text(run, "name"),
        "workflow_path": text(run, "path"),
        "event": text(run, "event"),
        "run_number": number(run, "run_number"),
        "display_title": text(run, "display_title"),
        "head_branch": text(run, "head_branch"),
        "initial_actor": initial.login if initial else None,
        "created_at": text(run, "created_at"),
        "run_started_at": text(run, "run_started_at"),
        "occurred_at_source": occurred_source,
        "pull_requests": _pull_numbers(run.get("pull_requests")),
        "head_repository": _headrepository_of(run),
    }
    return {key: value for key, value in attributes.items() if value not in (None, [])}


def _pull_numbers(pulls: Any) -> list[int]:
    if not isinstance(pulls, list):
        return []
    return [n for pull in pulls if isinstance(pull, Mapping) and (n := number(pull, "number"))]


def _headrepository_of(run: Mapping[str, Any]) -> str | None:
    """Named only when it differs from the run's repository (a fork's pull request)."""
    head, base = run.get("head_repository"), run.get("repository")
    if not isinstance(head, Mapping) or not isinstance(base, Mapping):
        return None
    head_name = text(head, "full_name")
    return head_name if head_name != text(base, "full_name") else None


def deployment_events(
    deployment: Mapping[str, Any],
    statuses: Sequence[Mapping[str, Any]],
    instance: str,
    *,
    repository: str | None = None,
    oddities: Oddities | None = None,
    refs: RefNames = NO_REFS,
) -> list[AuditEvent]:
    """The deployment's creation, then one event per status (each its own immutable record);
    ``refs`` tells a tag's name from a branch's. A status that cannot be recorded is refused
    (quarantined when collecting)."""
    notes = oddities or Oddities()
    ident = native_id(deployment, "deployment")
    owner, repo = repository_of(deployment, repository, "deployment", ident)
    run_id = deployment_run_id(statuses)
    correlation = {"deployment_id": ident} | ({"run_id": run_id} if run_id else {})
    raw_ref = text(deployment, "ref")
    base = _DeploymentBase(
        ident=ident,
        scope=Scope(owner=owner, repository=repo, environment=text(deployment, "environment")),
        correlation=correlation,
        ref=refs.full_ref(raw_ref, text(deployment, "sha")),
        sha=sha_field(deployment, "sha"),
        attributes=_deployment_attributes(deployment, raw_ref),
    )
    events = [_deployment_created(base, deployment, instance, notes)]
    for status in statuses:
        try:
            events.append(_deployment_status(base, status, instance, notes))
        except MissingField as missing:
            notes.refuse(STATUSES_ENDPOINT, f"{ident}/{ident_of(status)}", str(missing), status)
    return events


def deployment_run_id(statuses: Sequence[Mapping[str, Any]]) -> str | None:
    for status in statuses:
        found = run_id_from_url(text(status, "log_url"), text(status, "target_url"))
        if found:
            return found
    return None


def deployment_is_final(statuses: Sequence[Mapping[str, Any]]) -> bool:
    """Statuses come newest first; a deployment is final once its latest state is terminal."""
    return bool(statuses) and statuses[0].get("state") in FINAL_DEPLOYMENT_STATES


@dataclass(frozen=True)
class _DeploymentBase:
    """What the creation event and every status event of one deployment share."""

    ident: str
    scope: Scope
    correlation: dict[str, str]
    ref: str | None
    sha: str | None
    attributes: dict[str, Any] = field(default_factory=dict)


def _deployment_attributes(deployment: Mapping[str, Any], raw_ref: str | None) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "ref_name": raw_ref,
        "task": text(deployment, "task"),
        "original_environment": text(deployment, "original_environment"),
        "production_environment": deployment.get("production_environment"),
        "transient_environment": deployment.get("transient_environment"),
        "description": text(deployment, "description"),
        "performed_via_github_app": _app_slug(deployment.get("performed_via_github_app")),
    }
    return {key: value for key, value in attributes.items() if value is not None}


def _app_slug(app: Any) -> str | None:
    return text(app, "slug") if isinstance(app, Mapping) else None


def _deployment_created(
    base: _DeploymentBase, deployment: Mapping[str, Any], instance: str, notes: Oddities
) -> AuditEvent:
    return AuditEvent(
        id=event_id(PLATFORM, instance, DEPLOYMENTS_ENDPOINT, base.ident),
        kind=EventKind.DEPLOYMENT,
        action="created",
        occurred_at=required_time(deployment, "created_at", "deployment", base.ident),
        platform=PLATFORM,
        instance=instance,
        actor=known_actor(deployment.get("creator"), f"deployment {base.ident}", notes),
        scope=base.scope,
        source=Source(endpoint=DEPLOYMENTS_ENDPOINT, native_id=base.ident),
        ref=base.ref,
        sha=base.sha,
        correlation=base.correlation,
        attributes=base.attributes,
    )


def _deployment_status(
    base: _DeploymentBase, status: Mapping[str, Any], instance: str, notes: Oddities
) -> AuditEvent:
    ident = native_id(status, "deployment status")
    state = text(status, "state")
    if state is None:
        raise MissingField("deployment status", ident, "state")
    if state not in DEPLOYMENT_STATES:
        notes.unknown_value("deployment status state", state)
    environment = text(status, "environment") or base.scope.environment
    extra = {
        key: value
        for key in ("description", "environment_url", "log_url", "target_url")
        if (value := text(status, key))
    }
    return AuditEvent(
        id=event_id(PLATFORM, instance, STATUSES_ENDPOINT, ident),
        kind=EventKind.DEPLOYMENT,
        action=state,
        occurred_at=required_time(status, "created_at", "deployment status", ident),
        platform=PLATFORM,
        instance=instance,
        actor=known_actor(status.get("creator"), f"deployment status {ident}", notes),
        scope=Scope(base.scope.owner, base.scope.repository, environment),
        source=Source(endpoint=STATUSES_ENDPOINT, native_id=ident),
        ref=base.ref,
        sha=base.sha,
        outcome=state if state in FINAL_DEPLOYMENT_STATES else None,
        correlation=base.correlation,
        attributes=base.attributes | extra,
    )
