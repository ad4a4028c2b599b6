"""``repository_ruleset`` deliveries: octokit's example package has none, so each action's
payload is built from the objects of its ``branch_protection_rule`` examples and checked
against GitHub's payload schema (``@octokit/openapi-webhooks``) before serve maps it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import jsonschema
import pytest

from pipeledger.events import EventKind
from pipeledger.serve.receiver import ReceiverSettings, Route
from pipeledger_github.receiver import GitHubReceiver
from tests.paths import ROOT, fixture

SCHEMA = json.loads((ROOT / "schemas" / "event.v1.schema.json").read_text(encoding="utf-8"))
ROUTE = Route("/webhooks/github", "webhook")
AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _json(*parts: str) -> Any:
    return json.loads(fixture(*parts).read_text(encoding="utf-8"))


def ruleset_payload(action: str) -> dict[str, Any]:
    example = _json("octokit-webhooks", "branch_protection_rule", "02-created.json")
    repository = example["repository"]
    payload = {
        "action": action,
        "repository": repository,
        "sender": example["sender"],
        "repository_ruleset": {
            "id": 21,
            "name": "protect main",
            "target": "branch",
            "source_type": "Repository",
            "source": repository["full_name"],
            "enforcement": "active",
            "rules": [{"type": "deletion"}, {"type": "non_fast_forward"}],
        },
    }
    schema = _json("octokit-openapi-webhooks", f"repository-ruleset-{action}.schema.json")
    jsonschema.validate(payload, schema)
    return payload


@pytest.mark.parametrize(
    ("action", "verdict"), [("created", "added"), ("edited", "changed"), ("deleted", "removed")]
)
def test_a_ruleset_change_is_a_protection_change(action: str, verdict: str) -> None:
    github = GitHubReceiver.create(
        ReceiverSettings(environ={"PIPELEDGER_WEBHOOK_SECRET": "s" * 32})
    )
    headers = {"x-github-delivery": f"rs-{action}", "x-github-event": "repository_ruleset"}
    handling = github.handle(github.delivery(ROUTE, headers, ruleset_payload(action), AT))
    (event,) = handling.events
    jsonschema.validate(event.to_dict(), SCHEMA)
    assert (event.kind, event.action) == (EventKind.PROTECTION_CHANGE, verdict)
    assert event.target["type"] == "ruleset" and event.target["title"] == "protect main"
    assert event.target["enforcement"] == "active"
    assert event.scope.repository is not None
