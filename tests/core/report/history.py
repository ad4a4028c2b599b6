"""A small synthetic history built from the event schema's shapes: deployments with their
statuses, runs, approvals and reviews, whose DORA answers the tests compute by hand."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeledger.anomalies.model import AlertSeverity, AlertSubject, Anomaly
from pipeledger.anomalies.record import ack_event, alert_event
from pipeledger.cli.main import main
from pipeledger.events import Actor, ActorType, AuditEvent, EventKind, Scope, Source, event_id
from pipeledger.ledger.signing import Signer
from pipeledger.sinks.contract import SinkSettings
from pipeledger.sinks.fanout import SinkSet

PLATFORM = "github"
INSTANCE = "github.com"


def at(text: str) -> datetime:
    """``03-04 12:05`` in 2026, UTC."""
    return datetime.fromisoformat(f"2026-{text}").replace(tzinfo=UTC)


def event(kind: EventKind, native: str, when: datetime, who: str, **fields: Any) -> AuditEvent:
    endpoint = f"/test/{kind.value}"
    actor_type = ActorType.BOT if who.endswith("[bot]") else ActorType.USER
    return AuditEvent(
        id=event_id(PLATFORM, INSTANCE, endpoint, native),
        kind=kind,
        occurred_at=when,
        platform=PLATFORM,
        instance=INSTANCE,
        actor=Actor(login=who, id=str(sum(map(ord, who))), type=actor_type),
        source=Source(endpoint=endpoint, native_id=native),
        **fields,
    )


@dataclass(frozen=True)
class Pull:
    number: int
    author: str = "alice"
    reviewer: str = "bob"
    created_at: str | None = None  # "MM-DD HH:MM"
    reviewed_at: str = "01-01 00:00"
    title: str | None = None


def deploy(
    repo: str,
    number: int,
    created: str,
    sha: str,
    *,
    environment: str = "production",
    ref: str = "refs/heads/main",
    success: str | None = None,
    failure: str | None = None,
    pull: Pull | None = None,
    trigger: str = "carol",
    approver: str | None = "dave",
) -> list[AuditEvent]:
    owner, name = repo.split("/")
    scope = Scope(owner=owner, repository=name)
    env_scope = Scope(owner=owner, repository=name, environment=environment)
    run = {"run_id": str(number), "run_attempt": "1"}
    correlation = {**run, "deployment_id": str(number)}
    short_ref = ref.removeprefix("refs/heads/")
    links = {"html": f"https://github.com/{repo}/deployments/{number}"}
    events = [
        event(
            EventKind.PIPELINE_RUN,
            f"{repo}/run/{number}",
            at(created),
            trigger,
            action="completed",
            scope=scope,
            ref=ref,
            sha=sha,
            outcome="success",
            correlation=run,
            attributes={"initial_actor": trigger, "workflow": "deploy"},
            links={"html": f"https://github.com/{repo}/actions/runs/{number}"},
        ),
        event(
            EventKind.DEPLOYMENT,
            f"{repo}/{number}",
            at(created),
            "github-actions[bot]",
            action="created",
            scope=env_scope,
            ref=short_ref,
            sha=sha,
            correlation=correlation,
            links=links,
        ),
    ]
    for state, moment in (("success", success), ("failure", failure)):
        if moment:
            events.append(
                event(
                    EventKind.DEPLOYMENT,
                    f"{repo}/{number}/{state}",
                    at(moment),
                    "github-actions[bot]",
                    action=state,
                    outcome=state,
                    scope=env_scope,
                    ref=short_ref,
                    sha=sha,
                    correlation=correlation,
                    links=links,
                )
            )
    if approver:
        events.append(
            event(
                EventKind.DEPLOYMENT_APPROVAL,
                f"{repo}/approval/{number}",
                at(created),
                approver,
                action="approved",
                scope=env_scope,
                correlation=run,
            )
        )
    if pull is not None:
        events.append(_review(repo, pull, sha))
    return events


def _review(repo: str, pull: Pull, sha: str) -> AuditEvent:
    owner, name = repo.split("/")
    target: dict[str, Any] = {
        "type": "pull_request",
        "number": pull.number,
        "author": pull.author,
        "merge_commit_sha": sha,
    }
    if pull.created_at:
        target["created_at"] = at(pull.created_at).isoformat().replace("+00:00", "Z")
    return event(
        EventKind.CHANGE_REVIEW,
        f"{repo}/pull/{pull.number}/review",
        at(pull.reviewed_at),
        pull.reviewer,
        action="approved",
        scope=Scope(owner=owner, repository=name),
        sha=sha,
        target=target,
        correlation={"pull_request": str(pull.number)},
        attributes={"title": pull.title} if pull.title else {},
        links={"html": f"https://github.com/{repo}/pull/{pull.number}"},
    )


def march_history() -> list[AuditEvent]:
    """Two repositories deploying to production in March 2026; see test_dora.py."""
    api, web = "acme/api", "acme/web"
    events: list[AuditEvent] = []
    stories = [
        deploy(api, 1, "03-02 10:00", "s1", success="03-02 10:10",
               pull=Pull(1, created_at="03-01 10:10", reviewed_at="03-01 12:00")),
        deploy(api, 2, "03-03 09:00", "s2", success="03-03 09:05",
               pull=Pull(2, reviewed_at="03-02 21:05")),
        deploy(api, 3, "03-04 12:00", "s3", failure="03-04 12:05",
               pull=Pull(3, created_at="03-04 07:05", reviewed_at="03-04 08:00")),
        deploy(api, 4, "03-04 13:00", "s3", success="03-04 13:05"),
        deploy(api, 5, "03-05 10:00", "s5", success="03-05 10:05", approver=None),
        deploy(api, 6, "03-05 11:00", "s3", success="03-05 11:05", trigger="dave"),
        deploy(api, 7, "03-10 10:00", "s7", success="03-10 10:05",
               pull=Pull(7, created_at="03-09 10:05", reviewed_at="03-09 11:00")),
        deploy(api, 8, "03-12 10:00", "s8", ref="refs/heads/hotfix/login",
               success="03-12 10:05"),
        deploy(api, 9, "03-20 10:00", "s9", success="03-20 10:05",
               pull=Pull(9, created_at="03-20 08:05", reviewed_at="03-20 09:00")),
        deploy(api, 10, "03-20 14:00", "s10", ref="refs/heads/hotfix/x",
               success="03-20 14:05"),
        deploy(api, 12, "03-28 10:00", "s12", failure="03-28 10:05"),
        deploy(api, 11, "03-06 10:00", "s11", environment="staging", success="03-06 10:05"),
        deploy(web, 20, "02-27 10:00", "w0", success="02-27 10:05"),
        deploy(web, 21, "03-15 10:00", "w1", success="03-15 10:30",
               pull=Pull(21, created_at="03-14 10:30", reviewed_at="03-14 12:00")),
        deploy(web, 22, "03-31 23:00", "w2", failure="03-31 23:30"),
        deploy(web, 23, "04-01 00:10", "w3", success="04-01 00:30"),
    ]  # fmt: skip
    for story in stories:
        events += story
    return events


def write_ledger(path: Path, events: list[AuditEvent], signer: Signer | None = None) -> str:
    """The events in a new SQLite ledger at ``path``, with a chain checkpoint of its head
    signed by ``signer`` when one is given (as collect writes them); returns its sink URL."""
    url = f"sqlite:///{path}"
    sinks = SinkSet.open([url], SinkSettings(environ={}), signer=signer)
    try:
        sinks.append(events, {}, deliver=False)
        if signer is not None:
            sinks.seal()
    finally:
        sinks.close()
    return url


def run_cli(argv: list[str], environ: dict[str, str] | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, environ=environ or {}, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def alert(
    alert_id: str,
    when: datetime,
    message: str,
    *,
    repository: str | None = "api",
    deployment: str | None = None,
) -> AuditEvent:
    """An anomaly alert as ``pipeledger anomalies --record`` writes it."""
    anomaly = Anomaly(
        id=alert_id,
        detector="unusual-deployer" if deployment else "permission-burst",
        severity=AlertSeverity.HIGH,
        score=4.2,
        occurred_at=when,
        platform=PLATFORM,
        instance=INSTANCE,
        owner="acme",
        repository=repository,
        environment="production" if deployment else None,
        subject=AlertSubject(event_ids=(), deployment_id=deployment, run_id=deployment),
        actors=("carol",),
        message=message,
    )
    return alert_event(anomaly, when)


def anomaly_history() -> list[AuditEvent]:
    """An alert naming deploy 2 of acme/api (acknowledged by erin the next day) and one about
    the organization that names no deployment."""
    deploy_alert = alert("a-deploy-2", at("03-03 09:05"), "carol deployed api for the first time",
                         deployment="2")  # fmt: skip
    return [
        deploy_alert,
        ack_event(deploy_alert, "erin", "carol joined the on-call rota", at("03-04 10:00")),
        alert("a-org", at("03-25 16:00"), "5 admin grants in an hour", repository=None),
    ]


# The policy the evidence pack tests judge pack_history() with.
PACK_POLICY = """\
version: 1
rules:
  - id: prod-approval
    type: require-approval
    severity: error
    match:
      environments: ["prod*"]
    min_approvals: 1
"""


def pack_history() -> list[AuditEvent]:
    """march_history() with an admin grant, a bypass, a weakened protection rule and two
    anomaly alerts (one acknowledged)."""
    api = Scope(owner="acme", repository="api")
    return [
        *march_history(),
        *anomaly_history(),
        event(
            EventKind.PERMISSION_CHANGE,
            "grant/dave",
            at("03-01 09:00"),
            "root",
            action="granted",
            scope=api,
            target={"type": "user", "login": "dave"},
            change={"from": "write", "to": "admin"},
            attributes={"escalation": True},
        ),
        event(
            EventKind.PROTECTION_CHANGE,
            "bypass/7",
            at("03-10 09:30"),
            "carol",
            action="bypassed",
            scope=api,
            target={"type": "branch", "name": "main"},
        ),
        event(
            EventKind.PROTECTION_CHANGE,
            "weaken/main",
            at("03-20 09:00"),
            "root",
            action="updated",
            scope=api,
            target={"type": "branch", "name": "main", "setting": "required_approving_review_count"},
            change={"from": 2, "to": 1},
            attributes={"strength": "weaker"},
        ),
    ]
