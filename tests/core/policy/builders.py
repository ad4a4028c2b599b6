"""Small builders for normalized events, in the shape the adapters record them."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping
from typing import Any

from pipeledger.events import (
    Actor,
    ActorType,
    AuditEvent,
    EventKind,
    Scope,
    Source,
    event_id,
    parse_time,
)
from pipeledger.policy.deployment_context import deployment_contexts
from pipeledger.policy.engine import Evaluation, evaluate
from pipeledger.policy.loader import LoadedPolicy, load_policy
from pipeledger.policy.rules.base import EvaluationEnv

OWNER = "octo-org"
REPO = "octo-repo"
SHA = "acb5820ced9479c074f688cc328bf03f341a511d"
HTML = "https://github.com/octo-org/octo-repo"


def actor(login: str | None, kind: str = "user") -> Actor:
    if login is None:
        return Actor(login=None, id=None, type=ActorType.UNKNOWN)
    return Actor(login=login, id=str(zlib.crc32(login.encode())), type=ActorType(kind))


def make(
    kind: EventKind,
    native: str,
    *,
    action: str,
    at: str,
    who: Actor,
    environment: str | None = None,
    repo: str | None = REPO,
    **fields: Any,
) -> AuditEvent:
    endpoint = f"/test/{kind.value}"
    return AuditEvent(
        id=event_id("github", "github.com", endpoint, native),
        kind=kind,
        action=action,
        occurred_at=parse_time(at),
        platform="github",
        instance="github.com",
        actor=who,
        scope=Scope(owner=OWNER, repository=repo, environment=environment),
        source=Source(endpoint=endpoint, native_id=native),
        **fields,
    )


def run(
    run_id: str = "100",
    *,
    trigger: str = "alice",
    trigger_type: str = "user",
    initial: str | None = None,
    attempt: str = "1",
    ref: str = "refs/heads/main",
    sha: str = SHA,
    at: str = "2026-03-11T10:00:00Z",
) -> AuditEvent:
    return make(
        EventKind.PIPELINE_RUN,
        f"{run_id}/{attempt}",
        action="completed",
        at=at,
        who=actor(trigger, trigger_type),
        ref=ref,
        sha=sha,
        correlation={"run_id": run_id, "run_attempt": attempt},
        attributes={"initial_actor": initial or trigger, "workflow": "deploy"},
        links={"html": f"{HTML}/actions/runs/{run_id}"},
    )


def deployment(
    deployment_id: str = "9",
    *,
    run_id: str | None = "100",
    environment: str = "production",
    ref: str | None = "main",
    sha: str = SHA,
    creator: str = "alice",
    creator_type: str = "user",
    action: str = "created",
    at: str = "2026-03-11T10:05:00Z",
    attempt: str | None = None,
) -> AuditEvent:
    correlation = {"deployment_id": deployment_id}
    if run_id:
        correlation["run_id"] = run_id
    if attempt:
        correlation["run_attempt"] = attempt
    return make(
        EventKind.DEPLOYMENT,
        f"{deployment_id}/{action}/{at}",
        action=action,
        at=at,
        who=actor(creator, creator_type),
        environment=environment,
        ref=ref,
        sha=sha,
        correlation=correlation,
    )


def approval(
    login: str,
    action: str = "approved",
    *,
    run_id: str = "100",
    environment: str = "production",
    at: str = "2026-03-11T10:03:00Z",
    attempt: str | None = None,
) -> AuditEvent:
    correlation = {"run_id": run_id}
    if attempt:
        correlation["run_attempt"] = attempt
    return make(
        EventKind.DEPLOYMENT_APPROVAL,
        f"{run_id}/{login}/{action}/{at}",
        action=action,
        at=at,
        who=actor(login),
        environment=environment,
        correlation=correlation,
    )


def review(
    login: str,
    state: str = "approved",
    *,
    pull: str = "7",
    author: str = "bob",
    merged: bool = True,
    sha: str | None = None,
    merge_sha: str = SHA,
    at: str = "2026-03-10T09:00:00Z",
    head: str | None = None,
    pr_state: str | None = None,
) -> AuditEvent:
    target: dict[str, Any] = {"type": "pull_request", "number": int(pull), "author": author}
    if head:
        target["head"] = head
    if pr_state:
        target["state"] = pr_state
    if merged:
        target["merged_at"] = "2026-03-10T12:00:00Z"
        target["merge_commit_sha"] = merge_sha
    return make(
        EventKind.CHANGE_REVIEW,
        f"{pull}/{login}/{state}/{at}",
        action=state,
        at=at,
        who=actor(login),
        sha=sha or "ecdd80bb57125d7ba9641ffaa4d7d2c19d3f3091",
        target=target,
        correlation={"pull_request": pull},
    )


def policy_from(tmp_path: Any, text: str, name: str = "policy.yml") -> LoadedPolicy:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load_policy(str(path))


def rule_yaml(body: str) -> str:
    return "version: 1\nrules:\n" + body


def judge(
    loaded: LoadedPolicy,
    events: Iterable[AuditEvent],
    teams: Mapping[str, Iterable[str]] | None = None,
) -> Evaluation:
    """Evaluate as audit does: deployments assembled from the events, single events too."""
    events = list(events)
    kinds = {k for rule in loaded.rules for k in rule.event_kinds}
    members = {team: frozenset(m.lower() for m in people) for team, people in (teams or {}).items()}
    return evaluate(
        loaded,
        deployment_contexts(events),
        [e for e in events if e.kind in kinds],
        EvaluationEnv(members),
    )


def messages(evaluation: Evaluation) -> list[str]:
    return [f.message for f in evaluation.findings]
