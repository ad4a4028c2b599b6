"""The production-deploy cases the gate must get right, as GitHub API payloads.

Each case edits the official example responses (tests/fixtures/github) into one scenario:
the run, its environment approvals, the deployed commit's pull request and its reviews.
``api_payloads`` is what a fake GitHub API would serve (for the real adapter, once merged);
``normalized_events`` is the evidence in the normalized shape the gate contract describes,
for the fake adapter used until then.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
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
from tests.paths import fixture

ENVIRONMENT = "production"


@dataclass(frozen=True)
class GateCase:
    name: str
    expected_exit: int
    failing_rules: tuple[str, ...] = ()
    trigger: str = "octocat"
    trigger_type: str = "User"
    ref: str = "refs/heads/main"
    approvals: tuple[tuple[str, str], ...] = (("hubot", "approved"),)
    pr_author: str = "monalisa"
    reviews: tuple[tuple[str, str], ...] = (("hubot", "APPROVED"),)
    now: str = "2026-03-11T10:00:00Z"  # a Wednesday
    api_down: bool = False


CASES = (
    GateCase("approved by a second person from main", 0),
    GateCase("self-approved", 1, ("prod-approval",), approvals=(("octocat", "approved"),)),
    GateCase("from a feature branch", 1, ("prod-refs",), ref="refs/heads/feature/login"),
    GateCase("no approval", 1, ("prod-approval",), approvals=()),
    GateCase("on a Saturday at 02:00 UTC", 1, ("prod-window",), now="2026-03-14T02:00:00Z"),
    GateCase("by a bot", 1, ("prod-no-bots",), trigger="dependabot[bot]", trigger_type="Bot"),
    GateCase("from a release tag", 0, ref="refs/tags/v2.3.0"),
    GateCase("with the API down", 3, api_down=True),
)


@cache
def _example(name: str) -> Any:
    path = fixture("github", "rest", name)
    return json.loads(path.read_text(encoding="utf-8"))


def api_payloads(case: GateCase) -> dict[str, Any]:
    run = copy.deepcopy(_example("actions-run-get.workflow-run.json"))
    user = {**run["triggering_actor"], "login": case.trigger, "type": case.trigger_type}
    run.update(actor=user, triggering_actor=user, run_attempt=1, status="in_progress")
    run["head_branch"] = (
        case.ref.rsplit("/", 1)[-1]
        if case.ref.startswith("refs/tags/")
        else (case.ref.removeprefix("refs/heads/"))
    )
    template = _example("actions-run-approvals.environment-approvals-items.json")[0]
    approvals = []
    for login, state in case.approvals:
        item = copy.deepcopy(template)
        item["user"]["login"], item["state"] = login, state
        item["environments"][0]["name"] = ENVIRONMENT
        approvals.append(item)
    pull = copy.deepcopy(_example("commits-pulls.pull-request-simple-items.json")[0])
    pull["user"]["login"] = case.pr_author
    pull["merge_commit_sha"] = run["head_sha"]
    reviews = []
    for login, state in case.reviews:
        review = copy.deepcopy(_example("pulls-reviews-list.pull-request-review-items.json")[0])
        review["user"]["login"], review["state"] = login, state
        reviews.append(review)
    return {"run": run, "approvals": approvals, "pulls": [pull], "reviews": reviews}


def normalized_events(case: GateCase) -> list[AuditEvent]:
    payloads = api_payloads(case)
    run = _run_event(payloads["run"], case.ref)
    events = [run]
    when = parse_time(case.now)
    for index, item in enumerate(payloads["approvals"]):
        events.append(_approval_event(item, run, when - timedelta(minutes=10 - index)))
    for pull in payloads["pulls"]:
        events.extend(_review_event(r, pull, run) for r in payloads["reviews"])
    return events


def _actor(user: dict[str, Any]) -> Actor:
    kind = ActorType.BOT if user["type"] == "Bot" else ActorType.USER
    return Actor(login=user["login"], id=str(user["id"]), type=kind)


def _event(kind: EventKind, endpoint: str, native: str, **fields: Any) -> AuditEvent:
    return AuditEvent(
        id=event_id("github", "github.com", endpoint, native),
        kind=kind,
        platform="github",
        instance="github.com",
        source=Source(endpoint=endpoint, native_id=native),
        **fields,
    )


def _run_event(run: dict[str, Any], ref: str) -> AuditEvent:
    owner, name = run["repository"]["full_name"].split("/")
    return _event(
        EventKind.PIPELINE_RUN,
        "/repos/{owner}/{repo}/actions/runs/{run_id}/attempts/{attempt}",
        f"{run['id']}/{run['run_attempt']}",
        action=run["status"],
        occurred_at=parse_time(run["run_started_at"]),
        actor=_actor(run["triggering_actor"]),
        scope=Scope(owner=owner, repository=name),
        ref=ref,
        sha=run["head_sha"],
        correlation={"run_id": str(run["id"]), "run_attempt": str(run["run_attempt"])},
        links={"html": run["html_url"]},
        attributes={"initial_actor": run["actor"]["login"], "workflow": run["name"]},
    )


def _approval_event(item: dict[str, Any], run: AuditEvent, at: Any) -> AuditEvent:
    environment = item["environments"][0]["name"]
    run_id = run.correlation["run_id"]
    return _event(
        EventKind.DEPLOYMENT_APPROVAL,
        "/repos/{owner}/{repo}/actions/runs/{run_id}/approvals",
        f"{run_id}/{environment}/{item['user']['login']}/{item['state']}",
        action=item["state"],
        occurred_at=at,
        actor=_actor(item["user"]),
        scope=Scope(
            owner=run.scope.owner, repository=run.scope.repository, environment=environment
        ),
        correlation=dict(run.correlation),
        attributes={"comment": item["comment"]},
    )


def _review_event(review: dict[str, Any], pull: dict[str, Any], run: AuditEvent) -> AuditEvent:
    return _event(
        EventKind.CHANGE_REVIEW,
        "/repos/{owner}/{repo}/pulls/{pull_number}/reviews",
        str(review["id"]) + review["user"]["login"],
        action=review["state"].lower(),
        occurred_at=parse_time(review["submitted_at"]),
        actor=_actor(review["user"]),
        scope=run.scope,
        sha=review["commit_id"],
        target={
            "type": "pull_request",
            "number": pull["number"],
            "author": pull["user"]["login"],
            "merged_at": pull["merged_at"],
            "merge_commit_sha": pull["merge_commit_sha"],
        },
        correlation={"pull_request": str(pull["number"])},
        links={"html": review["html_url"]},
    )
