"""Pure functions from environment approvals and pull request reviews to audit events.

The approvals API gives no time: an approval is dated by the run's earliest deployment to the
environment (or the run's start), and ``attributes.occurred_at_source`` says which.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pipeledger.plugin import AuditEvent, EventKind, Scope, Source, event_id
from pipeledger_github.normalize.fields import (
    NO_REFS,
    PLATFORM,
    MissingField,
    Oddities,
    RefNames,
    actor,
    branch_ref,
    html_link,
    ident_of,
    known_actor,
    native_id,
    number,
    repository_of,
    required_time,
    sha_field,
    text,
    time_field,
)

APPROVALS_ENDPOINT = "/repos/{owner}/{repo}/actions/runs/{run_id}/approvals"
REVIEWS_ENDPOINT = "/repos/{owner}/{repo}/pulls/{pull_number}/reviews"
APPROVAL_STATES = frozenset({"approved", "rejected", "pending"})
REVIEW_STATES = frozenset({"approved", "changes_requested", "commented", "dismissed", "pending"})


def approval_events(
    approvals: Sequence[Mapping[str, Any]],
    run: Mapping[str, Any],
    deployments: Sequence[Mapping[str, Any]],
    instance: str,
    *,
    repository: str | None = None,
    oddities: Oddities | None = None,
    refs: RefNames = NO_REFS,
) -> list[AuditEvent]:
    """One event per (approval, environment). The API gives approvals no time, so the time is
    that of the run's earliest deployment to the environment (or the run's start)."""
    notes = oddities or Oddities()
    run_ident = native_id(run, "workflow run")
    owner, repo = repository_of(run, repository, "workflow run", run_ident)
    ref = refs.full_ref(text(run, "head_branch"), text(run, "head_sha"))
    events: list[AuditEvent] = []
    for approval in approvals:
        state = text(approval, "state")
        if state is None:
            reason = f"an approval of run {run_ident} has no 'state'"
            notes.refuse(APPROVALS_ENDPOINT, run_ident, reason, approval)
            continue
        if state not in APPROVAL_STATES:
            notes.unknown_value("approval state", state)
        for environment in _approval_environments(approval, run_ident, notes):
            context = _ApprovalContext(run, run_ident, owner, repo, deployments, ref)
            try:
                events.append(_approval_event(approval, state, environment, context, instance))
            except MissingField as missing:
                notes.refuse(APPROVALS_ENDPOINT, run_ident, str(missing), approval)
    return events


def _approval_environments(
    approval: Mapping[str, Any], run_ident: str, notes: Oddities
) -> list[str]:
    raw = approval.get("environments")
    names = [name for env in raw or [] if isinstance(env, Mapping) and (name := text(env, "name"))]
    if not names:
        reason = f"an approval of run {run_ident} names no environment"
        notes.refuse(APPROVALS_ENDPOINT, run_ident, reason, approval)
    return names


class _ApprovalContext:
    def __init__(
        self,
        run: Mapping[str, Any],
        run_ident: str,
        owner: str,
        repo: str,
        deployments: Sequence[Mapping[str, Any]],
        ref: str | None,
    ) -> None:
        self.run = run
        self.run_ident = run_ident
        self.owner = owner
        self.repo = repo
        self.deployments = deployments
        self.ref = ref

    def earliest_deployment(self, environment: str) -> Mapping[str, Any] | None:
        dated = [
            (moment, d)
            for d in self.deployments
            if text(d, "environment") == environment
            and (moment := time_field(d, "created_at")) is not None
        ]
        return min(dated, key=lambda pair: pair[0])[1] if dated else None

    def when(self, deployment: Mapping[str, Any] | None) -> tuple[datetime, str]:
        if deployment is not None and (moment := time_field(deployment, "created_at")):
            return moment, "deployment.created_at"
        for key in ("run_started_at", "created_at"):
            if (moment := time_field(self.run, key)) is not None:
                return moment, f"run.{key}"
        raise MissingField("workflow run", self.run_ident, "created_at")


def _approval_event(
    approval: Mapping[str, Any],
    state: str,
    environment: str,
    context: _ApprovalContext,
    instance: str,
) -> AuditEvent:
    reviewer = actor(approval.get("user"))
    if reviewer is None:
        raise MissingField(f"approval of run {context.run_ident}", environment, "user")
    deployment = context.earliest_deployment(environment)
    occurred_at, source = context.when(deployment)
    comment = text(approval, "comment") or ""
    digest = hashlib.sha256(comment.encode()).hexdigest()[:8]
    native = f"{context.run_ident}/{environment}/{reviewer.id or reviewer.login}/{state}/{digest}"
    correlation = {"run_id": context.run_ident}
    if (attempt := number(context.run, "run_attempt")) is not None:
        correlation["run_attempt"] = str(attempt)
    if (deployment_id := ident_of(deployment)) is not None:
        correlation["deployment_id"] = deployment_id
    return AuditEvent(
        id=event_id(PLATFORM, instance, APPROVALS_ENDPOINT, native),
        kind=EventKind.DEPLOYMENT_APPROVAL,
        action=state,
        occurred_at=occurred_at,
        platform=PLATFORM,
        instance=instance,
        actor=reviewer,
        scope=Scope(owner=context.owner, repository=context.repo, environment=environment),
        source=Source(endpoint=APPROVALS_ENDPOINT, native_id=native),
        target={"type": "workflow_run", "run_id": context.run_ident, "environment": environment},
        ref=context.ref,
        sha=sha_field(context.run, "head_sha"),
        correlation=correlation,
        attributes=_approval_attributes(approval, comment, source),
    )


def _approval_attributes(approval: Mapping[str, Any], comment: str, source: str) -> dict[str, Any]:
    environments = [
        name
        for env in approval.get("environments") or []
        if isinstance(env, Mapping) and (name := text(env, "name"))
    ]
    attributes: dict[str, Any] = {"environments": environments, "occurred_at_source": source}
    if comment:
        attributes["comment"] = comment
    return attributes


def review_events(
    pull: Mapping[str, Any],
    reviews: Sequence[Mapping[str, Any]],
    deployment: Mapping[str, Any] | None,
    instance: str,
    *,
    repository: str | None = None,
    oddities: Oddities | None = None,
) -> list[AuditEvent]:
    """Reviews of a pull request that contains the deployed commit (merged or not; the target
    says which, and from which branch), one event per (review, deployment) so each deployment
    carries its own review evidence."""
    notes = oddities or Oddities()
    pull_number = number(pull, "number")
    if pull_number is None:
        notes.note("a pull request without a 'number' was skipped.")
        return []
    base = pull.get("base")
    base_repo = base.get("repo") if isinstance(base, Mapping) else None
    where = base_repo if isinstance(base_repo, Mapping) else pull
    owner, repo = repository_of(where, repository, "pull request", str(pull_number))
    context = _ReviewContext(_pull_target(pull, pull_number), deployment, owner, repo)
    events = []
    for review in reviews:
        try:
            events.append(_review_event(review, context, instance, notes))
        except MissingField as missing:
            notes.refuse(REVIEWS_ENDPOINT, ident_of(review), str(missing), review)
    return events


class _ReviewContext:
    def __init__(
        self,
        target: dict[str, Any],
        deployment: Mapping[str, Any] | None,
        owner: str,
        repo: str,
    ) -> None:
        self.target = target
        self.deployment_id = ident_of(deployment)
        environment = text(deployment, "environment") if deployment else None
        self.scope = Scope(owner=owner, repository=repo, environment=environment)
        self.deployed_sha = sha_field(deployment, "sha") if deployment else None


def _pull_target(pull: Mapping[str, Any], pull_number: int) -> dict[str, Any]:
    author = actor(pull.get("user"))
    base = pull.get("base")
    head = pull.get("head")
    merged_at = text(pull, "merged_at")
    target = {
        "type": "pull_request",
        "number": pull_number,
        "author": author.login if author else None,
        "merged_at": merged_at,
        "merge_commit_sha": text(pull, "merge_commit_sha"),
        "base": branch_ref(text(base, "ref")) if isinstance(base, Mapping) else None,
        "merged": merged_at is not None,
    }
    state = "merged" if merged_at else text(pull, "state")
    if state:
        target["state"] = state
    head_ref = text(head, "ref") if isinstance(head, Mapping) else None
    if head_ref:
        target["head"] = branch_ref(head_ref)
    # When the change began (DORA's lead time) and what it says it is (a revert).
    for key in ("created_at", "title"):
        if value := text(pull, key):
            target[key] = value
    return target


def _review_event(
    review: Mapping[str, Any], context: _ReviewContext, instance: str, notes: Oddities
) -> AuditEvent:
    ident = native_id(review, "review")
    state = text(review, "state")
    if state is None:
        raise MissingField("review", ident, "state")
    if state.lower() not in REVIEW_STATES:
        notes.unknown_value("review state", state)
    occurred_at = required_time(review, "submitted_at", "review", ident)
    deployment_id = context.deployment_id
    native = f"{ident}@{deployment_id}" if deployment_id else ident
    correlation = {"pull_request": str(context.target["number"])}
    if deployment_id:
        correlation["deployment_id"] = deployment_id
    attributes = {
        "author_association": text(review, "author_association"),
        "deployed_sha": context.deployed_sha,
    }
    return AuditEvent(
        id=event_id(PLATFORM, instance, REVIEWS_ENDPOINT, native),
        kind=EventKind.CHANGE_REVIEW,
        action=state.lower(),
        occurred_at=occurred_at,
        platform=PLATFORM,
        instance=instance,
        actor=known_actor(review.get("user"), f"review {ident}", notes),
        scope=context.scope,
        source=Source(endpoint=REVIEWS_ENDPOINT, native_id=native),
        target=context.target,
        ref=context.target["base"],
        sha=sha_field(review, "commit_id"),
        correlation=correlation,
        links=html_link(review),
        attributes={key: value for key, value in attributes.items() if value is not None},
    )
