"""The gate's side of evaluation: the pending deployment it is about to allow, built from
the run's evidence, and the ``gate.decision`` event that records its verdict."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from pipeledger.collect.adapter import CiJob, GateEvidence
from pipeledger.errors import MalformedResponse
from pipeledger.events import AuditEvent, EventKind, Scope, Source, event_id, format_time
from pipeledger.policy.deployment_context import (
    DeploymentContext,
    deployment_contexts,
    pending_context,
    team_members_lower,
)
from pipeledger.policy.engine import Evaluation, evaluate
from pipeledger.policy.loader import LoadedPolicy
from pipeledger.policy.model import Policy
from pipeledger.policy.rules.base import EvaluationEnv

PENDING_ENDPOINT = "pipeledger/gate/pending-deployment"
DECISION_ENDPOINT = "pipeledger/gate/decision"


class Decision(StrEnum):
    PASS = "pass"  # noqa: S105 - a verdict, not a password
    FAIL = "fail"
    ERROR = "error"


def run_event(evidence: GateEvidence) -> AuditEvent:
    """This attempt's ``pipeline.run``: the latest attempt of the evidence's run."""
    runs = [
        e
        for e in evidence.events
        if e.kind is EventKind.PIPELINE_RUN and e.correlation.get("run_id") == evidence.run_id
    ]
    if not runs:
        raise MalformedResponse(
            f"The platform adapter returned no pipeline.run event for run {evidence.run_id}.",
            "This is a bug in the adapter plugin; report it with the output of -v.",
        )
    return max(runs, key=lambda e: (_attempt(e), e.occurred_at))


def evaluate_evidence(
    loaded: LoadedPolicy,
    evidence: GateEvidence,
    environment: str | None,
    now: datetime,
    *,
    keep_subjects: bool = False,
) -> Evaluation:
    """The gate's judgement of one deployment: ``check`` inside a CI job and ``serve`` as a
    deployment protection rule both come here."""
    contexts = gate_contexts(evidence, environment, now)
    members = {**team_members_lower(evidence.team_members), **loaded.policy.teams}
    return evaluate(
        loaded, contexts, evidence.events, EvaluationEnv(members), keep_subjects=keep_subjects
    )


def gate_contexts(
    evidence: GateEvidence, environment: str | None, now: datetime
) -> list[DeploymentContext]:
    """The deployment(s) the gate judges: a pending one for ``environment`` (the job's
    environment), or, without one, what the run already deployed."""
    run = run_event(evidence)
    recorded = [
        e
        for e in evidence.events
        if e.kind is EventKind.DEPLOYMENT and e.correlation.get("run_id") == evidence.run_id
    ]
    if environment is None and recorded:
        contexts = deployment_contexts(evidence.events)
        return [ctx for ctx in contexts if ctx.run_id == evidence.run_id]
    synthetic = pending_deployment(run, environment, now, _deployment_id(recorded, environment))
    return [pending_context(evidence.events, synthetic)]


def pending_deployment(
    run: AuditEvent, environment: str | None, now: datetime, deployment_id: str | None
) -> AuditEvent:
    attempt = run.correlation.get("run_attempt")
    run_id = run.correlation.get("run_id", "")
    native = f"{run_id}/{attempt or 1}/{environment or '-'}"
    correlation = {"run_id": run_id}
    if attempt:
        correlation["run_attempt"] = attempt
    if deployment_id:
        correlation["deployment_id"] = deployment_id
    return AuditEvent(
        id=event_id(run.platform, run.instance, PENDING_ENDPOINT, native),
        kind=EventKind.DEPLOYMENT,
        action="pending",
        occurred_at=now,
        platform=run.platform,
        instance=run.instance,
        actor=run.actor,
        scope=Scope(
            owner=run.scope.owner, repository=run.scope.repository, environment=environment
        ),
        source=Source(endpoint=PENDING_ENDPOINT, native_id=native),
        ref=run.ref,
        sha=run.sha,
        correlation=correlation,
        links=dict(run.links),
    )


def _deployment_id(recorded: Sequence[AuditEvent], environment: str | None) -> str | None:
    wanted = (environment or "").lower()
    for event in sorted(recorded, key=lambda e: e.occurred_at, reverse=True):
        if (event.scope.environment or "").lower() == wanted and event.correlation.get(
            "deployment_id"
        ):
            return event.correlation["deployment_id"]
    return None


def _attempt(event: AuditEvent) -> int:
    text = event.correlation.get("run_attempt") or "1"
    return int(text) if text.isdigit() else 1


def job_from_run(run: AuditEvent) -> CiJob:
    return CiJob(
        platform=run.platform,
        instance=run.instance,
        owner=run.scope.owner,
        repository=run.scope.repository,
        run_id=run.correlation.get("run_id", ""),
        run_attempt=run.correlation.get("run_attempt"),
        actor=run.actor,
        ref=run.ref,
        sha=run.sha,
    )


def decision_event(
    job: CiJob,
    *,
    environment: str | None,
    decision: Decision,
    now: datetime,
    policy: Policy,
    evaluation: Evaluation | None,
    details: Mapping[str, Any],
) -> AuditEvent:
    """The gate's verdict as an audit event; its id is unique per job attempt, environment
    and moment, so two checks in one job are both kept."""
    native = f"{job.run_id}/{job.run_attempt or 1}/{environment or '-'}/{format_time(now)}"
    correlation = {"run_id": job.run_id}
    if job.run_attempt:
        correlation["run_attempt"] = job.run_attempt
    attributes: dict[str, Any] = {
        "policy_file": policy.path,
        "policy_sha256": policy.sha256,
        **details,
    }
    if evaluation is not None:
        attributes["rules"] = [r.to_dict() for r in evaluation.results]
        attributes["findings"] = [f.fingerprint for f in evaluation.findings]
    return AuditEvent(
        id=event_id(job.platform, job.instance, DECISION_ENDPOINT, native),
        kind=EventKind.GATE_DECISION,
        action=decision.value,
        occurred_at=now,
        platform=job.platform,
        instance=job.instance,
        actor=job.actor,
        scope=Scope(owner=job.owner, repository=job.repository, environment=environment),
        source=Source(endpoint=DECISION_ENDPOINT, native_id=native),
        ref=job.ref,
        sha=job.sha,
        outcome=decision.value,
        correlation=correlation,
        attributes=attributes,
    )
