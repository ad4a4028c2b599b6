"""Every relevant example payload in tests/fixtures/github normalizes into valid
events. A new example file whose name matches a pattern below becomes a test case."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from pipeledger.events import AuditEvent, EventKind
from pipeledger_github.evidence import compact_pull
from pipeledger_github.normalize.fields import Oddities
from pipeledger_github.normalize.pipelines import (
    approval_events,
    deployment_events,
    review_events,
    run_event,
)
from tests.paths import ROOT, fixture

GITHUB = fixture("github")
SCHEMA = json.loads((ROOT / "schemas" / "event.v1.schema.json").read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
A_RUN = {"id": 30433642, "created_at": "2020-01-22T19:33:08Z", "run_attempt": 1}
A_DEPLOYMENT = {"id": 1, "environment": "staging", "created_at": "2020-11-23T22:10:00Z"}


def _runs(body: Any) -> list[Mapping[str, Any]]:
    if isinstance(body, dict) and "workflow_runs" in body:
        return list(body["workflow_runs"])
    if isinstance(body, dict) and "workflow_run" in body:
        return [body["workflow_run"]]
    return [body]


def normalize_runs(body: Any) -> list[AuditEvent]:
    return [run_event(run, "github.com", oddities=Oddities()) for run in _runs(body)]


def normalize_deployments(body: Any) -> list[AuditEvent]:
    deployments = body if isinstance(body, list) else [body.get("deployment", body)]
    statuses = (
        [body["deployment_status"]]
        if isinstance(body, dict) and "deployment_status" in body
        else []
    )
    repository = body.get("repository", {}).get("full_name") if isinstance(body, dict) else None
    return [
        event
        for deployment in deployments
        for event in deployment_events(deployment, statuses, "github.com", repository=repository)
    ]


def normalize_statuses(body: Any) -> list[AuditEvent]:
    statuses = body if isinstance(body, list) else [body]
    deployment = json.loads((GITHUB / "rest/deployments-get.deployment.json").read_text())
    return deployment_events(deployment, statuses, "github.com")[1:]


def normalize_approvals(body: Any) -> list[AuditEvent]:
    run = A_RUN | {"repository": {"full_name": "octocat/Hello-World"}}
    return approval_events(body, run, [A_DEPLOYMENT], "github.com")


def normalize_pulls(body: Any) -> list[AuditEvent]:
    reviews = json.loads(
        (GITHUB / "rest/pulls-reviews-list.pull-request-review-items.json").read_text()
    )
    deployment = {"id": 42, "sha": body[0]["merge_commit_sha"], "environment": "production"}
    return [e for pull in body for e in review_events(pull, reviews, deployment, "github.com")]


def normalize_reviews(body: Any) -> list[AuditEvent]:
    reviews = body if isinstance(body, list) else [body]
    pull = json.loads((GITHUB / "rest/commits-pulls.pull-request-simple-items.json").read_text())[0]
    return review_events(pull, reviews, {"id": 42, "environment": "production"}, "github.com")


# (glob, normalizer, kind of the events it must produce)
CASES: list[tuple[str, Callable[[Any], list[AuditEvent]], EventKind]] = [
    ("**/actions-runs-list*.json", normalize_runs, EventKind.PIPELINE_RUN),
    ("**/actions-run-get*.json", normalize_runs, EventKind.PIPELINE_RUN),
    ("webhooks/workflow_run.*.json", normalize_runs, EventKind.PIPELINE_RUN),
    ("**/deployments-list*.json", normalize_deployments, EventKind.DEPLOYMENT),
    ("**/deployments-get*.json", normalize_deployments, EventKind.DEPLOYMENT),
    ("webhooks/deployment.*payload.json", normalize_deployments, EventKind.DEPLOYMENT),
    ("webhooks/deployment_status.*payload.json", normalize_deployments, EventKind.DEPLOYMENT),
    ("webhooks/workflow_job.*with-deployment*.json", normalize_deployments, EventKind.DEPLOYMENT),
    ("**/deployments-statuses-*.json", normalize_statuses, EventKind.DEPLOYMENT),
    ("**/actions-run-approvals*.json", normalize_approvals, EventKind.DEPLOYMENT_APPROVAL),
    ("**/commits-pulls*.json", normalize_pulls, EventKind.CHANGE_REVIEW),
    ("**/pulls-review*.json", normalize_reviews, EventKind.CHANGE_REVIEW),
]


def _example_cases() -> list[Any]:
    found = []
    for pattern, normalizer, kind in CASES:
        for path in sorted(GITHUB.glob(pattern)):
            name = str(path.relative_to(GITHUB))
            found.append(pytest.param(path, normalizer, kind, id=name))
    return found


EXAMPLES = _example_cases()


def test_every_kind_of_example_is_found() -> None:
    assert len(EXAMPLES) >= 18, [case.id for case in EXAMPLES]
    for pattern, _, _ in CASES:
        assert any(GITHUB.glob(pattern)), f"no example matches {pattern}"


@pytest.mark.parametrize(("path", "normalizer", "kind"), EXAMPLES)
def test_example_normalizes_to_valid_events(
    path: Path, normalizer: Callable[[Any], list[AuditEvent]], kind: EventKind
) -> None:
    events = normalizer(json.loads(path.read_text(encoding="utf-8")))
    assert events, f"{path.name} produced no events"
    for event in events:
        assert event.kind is kind
        errors = sorted(VALIDATOR.iter_errors(event.to_dict()), key=str)
        assert not errors, f"{path.name}: {errors[0].message} at {list(errors[0].absolute_path)}"
        assert AuditEvent.from_dict(event.to_dict()) == event


@pytest.mark.parametrize(("path", "normalizer", "kind"), EXAMPLES)
def test_example_normalizes_to_the_same_ids_twice(
    path: Path, normalizer: Callable[[Any], list[AuditEvent]], kind: EventKind
) -> None:
    body = json.loads(path.read_text(encoding="utf-8"))
    first = [event.id for event in normalizer(body)]
    assert first == [event.id for event in normalizer(body)]
    assert len(set(first)) == len(first)


def test_a_compacted_pull_request_gives_the_same_review_events() -> None:
    pulls = json.loads((GITHUB / "rest/commits-pulls.pull-request-simple-items.json").read_text())
    reviews = json.loads(
        (GITHUB / "rest/pulls-reviews-list.pull-request-review-items.json").read_text()
    )
    deployment = {"id": 42, "sha": pulls[0]["merge_commit_sha"], "environment": "production"}
    for pull in pulls:
        compact = compact_pull(pull)
        assert len(json.dumps(compact)) < len(json.dumps(pull)) / 10
        same = review_events(compact, reviews, deployment, "github.com")
        assert same == review_events(pull, reviews, deployment, "github.com")
        assert same
