"""Every GitHub webhook example (octokit/webhooks) of the events serve maps normalizes to
schema-valid events; a new example file is a new test case."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest

from pipeledger.events import EventKind
from pipeledger.serve.receiver import ReceiverSettings, Route
from pipeledger_github.receiver import GitHubReceiver
from tests.conftest import ROOT

EXAMPLES = ROOT / "tests" / "fixtures" / "octokit-webhooks"
SCHEMA = json.loads((ROOT / "schemas" / "event.v1.schema.json").read_text(encoding="utf-8"))
ROUTE = Route("/webhooks/github", "webhook")
AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
FILES = sorted(EXAMPLES.glob("*/*.json"))
# Examples whose action is no access, protection, run, deployment or review fact.
NOTHING_TO_RECORD = {
    "deployment_review/01-requested",  # nobody has decided yet
    "organization/05-renamed",
    "repository/02-created",
    "repository/03-created",
    "repository/04-edited",
    "repository/05-edited",
    "repository/10-renamed",
    "repository/11-transferred",
    "repository/12-transferred",
    "repository/13-transferred",
    "team/03-created",
    "team/04-deleted",
    "team/05-edited",  # a rename: no repository permission changed
    # jobs are recorded through their run; only one carries the deployment it makes
    "workflow_job/01-in_progress",
    "workflow_job/02-completed",
    "workflow_job/03-completed",
    "workflow_job/04-in_progress",
    "workflow_job/05-in_progress",
    "workflow_job/06-queued",
    "workflow_job/08-waiting",
}


def receiver() -> GitHubReceiver:
    return GitHubReceiver.create(ReceiverSettings(environ={"PIPELEDGER_WEBHOOK_SECRET": "s" * 32}))


def handle(path: Path, delivery_id: str = "d-1"):  # type: ignore[no-untyped-def]
    payload = json.loads(path.read_text(encoding="utf-8"))
    headers = {"x-github-delivery": delivery_id, "x-github-event": path.parent.name}
    github = receiver()
    return github.handle(github.delivery(ROUTE, headers, payload, AT))


def case(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


def test_the_examples_cover_every_event_with_an_official_example() -> None:
    names = {path.parent.name for path in FILES}
    assert {"workflow_run", "workflow_job", "deployment", "deployment_status"} <= names
    assert {"member", "membership", "organization", "team", "team_add", "repository"} <= names
    assert {"branch_protection_rule", "installation", "pull_request_review"} <= names


@pytest.mark.parametrize("path", FILES, ids=case)
def test_each_example_becomes_schema_valid_events(path: Path) -> None:
    handling = handle(path)
    assert handling.known
    if case(path) in NOTHING_TO_RECORD:
        assert handling.events == []
        return
    assert handling.events, f"{case(path)} recorded nothing"
    for event in handling.events:
        jsonschema.validate(event.to_dict(), SCHEMA)
        assert event.platform == "github"
        assert event.instance == "github.com"


@pytest.mark.parametrize("path", FILES, ids=case)
def test_a_redelivery_gives_the_same_event_ids(path: Path) -> None:
    assert [e.id for e in handle(path, "d-1").events] == [e.id for e in handle(path, "d-1").events]


def test_a_run_webhook_has_the_id_the_collector_gives_the_run() -> None:
    from pipeledger_github.normalize.pipelines import run_event

    path = EXAMPLES / "workflow_run" / "02-completed.json"
    payload = json.loads(path.read_text(encoding="utf-8"))
    (event,) = handle(path).events
    assert event.kind is EventKind.PIPELINE_RUN
    assert event.id == run_event(payload["workflow_run"], "github.com").id


def test_a_deployment_status_webhook_has_the_ids_of_the_deployment_and_its_status() -> None:
    from pipeledger_github.normalize.pipelines import deployment_events

    path = EXAMPLES / "deployment_status" / "01-created.json"
    payload = json.loads(path.read_text(encoding="utf-8"))
    collected = deployment_events(
        payload["deployment"], [payload["deployment_status"]], "github.com"
    )
    assert [e.id for e in handle(path).events] == [e.id for e in collected]


def test_an_unmapped_event_type_is_known_to_be_unknown() -> None:
    github = receiver()
    headers = {"x-github-delivery": "d", "x-github-event": "star"}
    handling = github.handle(github.delivery(ROUTE, headers, {"action": "created"}, AT))
    assert not handling.known
    assert handling.events == ()
