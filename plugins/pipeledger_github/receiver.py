"""GitHub webhooks for ``pipeledger serve``: ``X-Hub-Signature-256`` checked in constant
time against ``PIPELEDGER_WEBHOOK_SECRET`` before anything is parsed; each delivery mapped to
the events the collector records for the same facts."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, ClassVar

from pipeledger.plugin import (
    AuditEvent,
    Delivery,
    Handling,
    LedgerAccess,
    MalformedDelivery,
    Receiver,
    ReceiverSettings,
    RedeliveryRequest,
    RedeliverySummary,
    Route,
    Unauthorized,
    UsageError,
    delivery_headers,
)
from pipeledger_github import webhook_admin, webhook_events
from pipeledger_github.auth import resolve_endpoint
from pipeledger_github.normalize.fields import MissingField, Oddities
from pipeledger_github.webhooks import webhook_event

SECRET = "PIPELEDGER_WEBHOOK_SECRET"  # noqa: S105 - the variable's name
PATH = "/webhooks/github"
Json = Mapping[str, Any]
Mapper = Callable[[Delivery, str, Oddities], list[AuditEvent]]


def _membership(delivery: Delivery, instance: str, notes: Oddities) -> list[AuditEvent]:
    event = webhook_event(
        delivery.event, delivery.payload, delivery.delivery_id, delivery.received_at, instance
    )
    return [event] if event is not None else []


MAPPERS: dict[str, Mapper] = {
    "workflow_run": lambda d, i, n: webhook_events.workflow_run_events(d.payload, i, n),
    "workflow_job": lambda d, i, n: webhook_events.workflow_job_events(d.payload, i, n),
    "deployment": lambda d, i, n: webhook_events.deployment_webhook_events(d.payload, i, n),
    "deployment_status": lambda d, i, n: webhook_events.deployment_webhook_events(d.payload, i, n),
    "deployment_review": lambda d, i, n: webhook_events.deployment_review_events(
        d.payload, i, d.received_at, n
    ),
    "pull_request_review": lambda d, i, n: webhook_events.pull_request_review_events(
        d.payload, i, n
    ),
    "member": _membership,
    "membership": _membership,
    "organization": _membership,
    **webhook_admin.MAPPERS,
}


class GitHubReceiver(Receiver):
    name = "github"
    routes: ClassVar[tuple[Route, ...]] = (Route(PATH, "webhook"),)

    def __init__(self, secret: bytes | None, instance: str) -> None:
        self._secret = secret
        self.instance = instance
        self.protection: Any = None  # set by the deployment protection rule, when configured

    @classmethod
    def create(cls, settings: ReceiverSettings) -> GitHubReceiver:
        secret = settings.environ.get(SECRET) or None
        if secret is not None and len(secret) < 16:
            raise UsageError(
                f"{SECRET} is shorter than 16 characters.",
                "Use a long random secret, e.g. `openssl rand -hex 32`, in both the GitHub"
                " webhook settings and this variable.",
            )
        instance = resolve_endpoint(settings.api_url, settings.environ).instance
        receiver = cls(secret.encode() if secret else None, instance)
        receiver.protection = _protection_rule(settings, instance)
        return receiver

    def enabled(self) -> list[str]:
        return [PATH] if self._secret is not None else []

    def authenticate(self, route: Route, headers: Mapping[str, str], body: bytes) -> None:
        signature = headers.get("x-hub-signature-256")
        if self._secret is None or not signature:
            raise Unauthorized("unsigned", "the delivery has no X-Hub-Signature-256 header")
        expected = "sha256=" + hmac.new(self._secret, body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
            raise Unauthorized("bad_signature", "X-Hub-Signature-256 does not match the body")

    def delivery(
        self, route: Route, headers: Mapping[str, str], payload: Json, received_at: datetime
    ) -> Delivery:
        delivery_id, event = delivery_headers(headers, "X-GitHub-Delivery", "X-GitHub-Event")
        return Delivery(
            receiver=self.name,
            channel=route.channel,
            delivery_id=delivery_id,
            event=event,
            payload=payload,
            received_at=received_at,
            headers={"hook_id": headers.get("x-github-hook-id", "")},
        )

    def handle(self, delivery: Delivery) -> Handling:
        if delivery.event == "deployment_protection_rule" and self.protection is not None:
            return self.protection.handle(delivery)  # type: ignore[no-any-return]
        mapper = MAPPERS.get(delivery.event)
        if mapper is None:
            return Handling(known=False)
        notes = Oddities()
        try:
            events = mapper(delivery, self.instance, notes)
        except (MissingField, webhook_events.MissingObject) as missing:
            raise MalformedDelivery(
                "unusable_payload", f"{delivery.event} delivery: {missing}"
            ) from None
        return Handling(events=events)

    @classmethod
    def redeliver(cls, request: RedeliveryRequest) -> RedeliverySummary:
        from pipeledger_github.redeliver import redeliver_failed

        return redeliver_failed(request)

    def start(self, ledger: LedgerAccess) -> None:
        if self.protection is not None:
            self.protection.start(ledger)

    def stop(self) -> None:
        if self.protection is not None:
            self.protection.stop()


def _protection_rule(settings: ReceiverSettings, instance: str) -> Any:
    """The deployment protection rule, when ``serve`` was given a policy."""
    if settings.policy_path is None:
        return None
    from pipeledger_github.protection_rule import ProtectionRule

    return ProtectionRule.create(settings, instance)
