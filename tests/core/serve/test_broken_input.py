"""Fields of the wrong type in a mapped GitLab delivery are a 400, and a receiver plugin that
fails anyway is one log line and a 500: never a traceback, nothing stored."""

from __future__ import annotations

import asyncio
import copy
import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest

from pipeledger.serve._app import ServeApp
from pipeledger.serve._metrics import ServeMetrics
from pipeledger.serve._writer import LedgerWriter
from pipeledger.serve.receiver import (
    Delivery,
    Handling,
    MalformedDelivery,
    Receiver,
    ReceiverSettings,
    Route,
)
from pipeledger_gitlab.receiver import STREAM, WEBHOOKS, GitLabReceiver
from tests.paths import fixture

AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def gitlab() -> GitLabReceiver:
    environ = {
        "PIPELEDGER_GITLAB_WEBHOOK_TOKEN": "t" * 32,
        "PIPELEDGER_GITLAB_STREAMING_TOKEN": "u" * 32,
    }
    return GitLabReceiver.create(ReceiverSettings(environ=environ))


def example(*parts: str) -> dict[str, Any]:
    return json.loads(fixture("gitlab-webhooks", *parts).read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("hook", "name", "spoil"),
    [
        ("Pipeline Hook", "pipeline-hook/01-success.json", ("project", "id", "not-a-number")),
        ("Pipeline Hook", "pipeline-hook/01-success.json", ("object_attributes", "status", [1])),
        ("Deployment Hook", "deployment-hook/01-success.json", ("project", "id", {"x": 1})),
        ("System Hook", "system-hook/02-user_add_to_team.json", (None, "project_id", "x")),
    ],
)
def test_a_field_of_the_wrong_type_is_a_malformed_delivery(
    hook: str, name: str, spoil: tuple[str | None, str, Any]
) -> None:
    payload = copy.deepcopy(example(*name.split("/")))
    parent, key, value = spoil
    (payload[parent] if parent else payload)[key] = value
    receiver = gitlab()
    headers = {"x-gitlab-event": hook, "x-gitlab-event-uuid": "u-1"}
    delivery = receiver.delivery(WEBHOOKS, headers, payload, AT)
    with pytest.raises(MalformedDelivery):
        receiver.handle(delivery)


def test_a_streamed_event_with_a_wrong_entity_id_is_malformed() -> None:
    streamed = json.loads(
        fixture("gitlab-audit-streaming", "12-project-group-link-update.json").read_text("utf-8")
    )
    streamed["entity_id"] = "not-a-number"
    receiver = gitlab()
    with pytest.raises(MalformedDelivery):
        receiver.handle(receiver.delivery(STREAM, {}, streamed, AT))


class BrokenReceiver(Receiver):
    name = "broken"
    routes: ClassVar[tuple[Route, ...]] = (Route("/webhooks/broken", "webhook"),)

    @classmethod
    def create(cls, settings: ReceiverSettings) -> BrokenReceiver:
        return cls()

    def enabled(self) -> list[str]:
        return ["/webhooks/broken"]

    def authenticate(self, route: Route, headers: Mapping[str, str], body: bytes) -> None:
        return None

    def delivery(
        self, route: Route, headers: Mapping[str, str], payload: Mapping[str, Any], at: datetime
    ) -> Delivery:
        return Delivery("broken", route.channel, "d-1", "thing", payload, at)

    def handle(self, delivery: Delivery) -> Handling:
        raise RuntimeError("a bug in the plugin")


def test_a_failing_receiver_plugin_is_a_500_and_one_log_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def no_ledger() -> Any:
        raise AssertionError("nothing may be stored")

    app = ServeApp([BrokenReceiver()], LedgerWriter(no_ledger), ServeMetrics())
    sent: list[dict[str, Any]] = []
    body = [{"type": "http.request", "body": b"{}", "more_body": False}]

    async def receive() -> dict[str, Any]:
        return body.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "path": "/webhooks/broken", "method": "POST", "headers": []}
    with caplog.at_level(logging.ERROR, logger="pipeledger.serve"):
        asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 500
    assert json.loads(sent[1]["body"]) == {"error": "internal error; redeliver later"}
    assert [record.getMessage() for record in caplog.records] == [
        "/webhooks/broken: internal error (RuntimeError) handling a delivery; answered 500"
    ]
    assert all(record.exc_info is None for record in caplog.records)
