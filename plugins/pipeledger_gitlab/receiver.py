"""GitLab for ``pipeledger serve``: webhooks (project, group and system hooks) on
``/webhooks/gitlab``, checked with ``X-Gitlab-Token``, and audit event streaming on
``/streams/gitlab-audit``, checked with ``X-Gitlab-Event-Streaming-Token``. Both tokens are
compared in constant time before the body is parsed."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from pipeledger.plugin import (
    Delivery,
    Handling,
    MalformedDelivery,
    Receiver,
    ReceiverSettings,
    Route,
    Unauthorized,
    UsageError,
    delivery_headers,
)
from pipeledger_gitlab import webhook_events
from pipeledger_gitlab.audit import streaming as audit_streaming
from pipeledger_gitlab.client import instance_of, resolve_api_url

WEBHOOK_TOKEN = "PIPELEDGER_GITLAB_WEBHOOK_TOKEN"  # noqa: S105 - the variable's name
STREAMING_TOKEN = "PIPELEDGER_GITLAB_STREAMING_TOKEN"  # noqa: S105 - the variable's name
# The API root of the GitLab instance, as ``collect --api-url`` takes it: names the instance.
URL_VARIABLE = "PIPELEDGER_GITLAB_URL"
WEBHOOKS = Route("/webhooks/gitlab", "webhook")
STREAM = Route("/streams/gitlab-audit", "audit-stream")
MIN_TOKEN = 16
# The header each path is authenticated by (as ASGI hands it, and as GitLab spells it).
TOKEN_HEADERS = {
    WEBHOOKS.path: ("x-gitlab-token", "X-Gitlab-Token"),
    STREAM.path: ("x-gitlab-event-streaming-token", "X-Gitlab-Event-Streaming-Token"),
}
Json = Mapping[str, Any]


class GitLabReceiver(Receiver):
    name = "gitlab"
    routes: ClassVar[tuple[Route, ...]] = (WEBHOOKS, STREAM)

    def __init__(self, tokens: Mapping[str, bytes], instance: str) -> None:
        self._tokens = dict(tokens)  # path → token
        self.instance = instance

    @classmethod
    def create(cls, settings: ReceiverSettings) -> GitLabReceiver:
        tokens: dict[str, bytes] = {}
        for route, variable in ((WEBHOOKS, WEBHOOK_TOKEN), (STREAM, STREAMING_TOKEN)):
            token = settings.environ.get(variable) or None
            if token is None:
                continue
            if len(token) < MIN_TOKEN:
                raise UsageError(
                    f"{variable} is shorter than {MIN_TOKEN} characters.",
                    "Use a long random token, e.g. `openssl rand -hex 32`, in both GitLab's"
                    " settings (the webhook's secret token, or the streaming destination's"
                    " verification token) and this variable.",
                )
            tokens[route.path] = token.encode()
        url = resolve_api_url(settings.environ.get(URL_VARIABLE), settings.environ)
        return cls(tokens, instance_of(url))

    def enabled(self) -> list[str]:
        return sorted(self._tokens)

    def authenticate(self, route: Route, headers: Mapping[str, str], body: bytes) -> None:
        header, shown = TOKEN_HEADERS[route.path]
        given = headers.get(header)
        expected = self._tokens.get(route.path)
        if expected is None or not given:
            raise Unauthorized("no_token", f"the delivery has no {shown} header")
        if not hmac.compare_digest(expected, given.encode("latin-1")):
            raise Unauthorized("bad_token", f"{shown} does not match")

    def delivery(
        self, route: Route, headers: Mapping[str, str], payload: Json, received_at: datetime
    ) -> Delivery:
        if route.path == STREAM.path:
            delivery_id = str(payload.get("id") or "").strip()
            event = str(
                payload.get("event_type") or headers.get("x-gitlab-audit-event-type") or ""
            ).strip()
            if not delivery_id or not event:
                raise MalformedDelivery(
                    "missing_id", "a streamed audit event needs its id and event_type"
                )
        else:
            delivery_id, event = delivery_headers(headers, "X-Gitlab-Event-UUID", "X-Gitlab-Event")
        return Delivery(
            receiver=self.name,
            channel=route.channel,
            delivery_id=delivery_id,
            event=event,
            payload=payload,
            received_at=received_at,
            headers={"webhook_uuid": headers.get("x-gitlab-webhook-uuid", "")},
        )

    def handle(self, delivery: Delivery) -> Handling:
        if delivery.channel == STREAM.channel:
            return self._streamed(delivery)
        mapper = webhook_events.MAPPERS.get(delivery.event)
        if mapper is None:
            return Handling(known=False)
        try:
            events = mapper(
                delivery.payload, self.instance, delivery.delivery_id, delivery.received_at
            )
        except webhook_events.UnusablePayload as unusable:
            raise MalformedDelivery(
                "unusable_payload", f"{delivery.event} delivery: {unusable}"
            ) from None
        except (KeyError, ValueError, TypeError, AttributeError) as error:
            # A field of the wrong type where a mapper needs it (an id that is no number…).
            raise MalformedDelivery(
                "unusable_payload",
                f"{delivery.event} delivery: a field has the wrong type ({type(error).__name__})",
            ) from None
        return Handling(known=False) if events is None else Handling(events=events)

    def _streamed(self, delivery: Delivery) -> Handling:
        if not audit_streaming.is_recorded(delivery.payload):
            return Handling(known=False)
        try:
            event = audit_streaming.streamed_event(self.instance, delivery.payload)
        except (KeyError, ValueError, TypeError, AttributeError) as error:
            raise MalformedDelivery(
                "unusable_payload",
                f"streamed audit event: a field is missing or of the wrong type"
                f" ({type(error).__name__})",
            ) from None
        return Handling(events=[event] if event is not None else [])
