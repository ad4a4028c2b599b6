"""``slack://``: posts each newly recorded anomaly alert to a Slack incoming webhook (or any
receiver of Slack's ``{"text": ...}`` messages) — one message per delivery, a summary line
first. Every other event is skipped, and, like stdout, it starts at the ledger's head: adding
it never replays old alerts. The webhook URL is a secret and comes from the environment."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

import requests

from pipeledger.plugin import (
    AuditEvent,
    ChainCheckpoint,
    EventKind,
    Hints,
    HttpSinkClient,
    LedgerRecord,
    RetryPolicy,
    Sink,
    SinkSettings,
    UsageError,
)

ENV_NAME = "PIPELEDGER_SLACK_WEBHOOK_URL"
MAX_LISTED = 20
SEVERITY_ORDER = ("high", "medium", "low")
HINTS = Hints(
    credentials=f"Check {ENV_NAME}: the incoming webhook may have been revoked.",
    permission=f"Slack refused the post; create a new incoming webhook and set {ENV_NAME}.",
    not_found=f"{ENV_NAME} names no webhook (revoked or mistyped); create a new one.",
)


class SlackSink(Sink):
    replays_history = False

    def __init__(self, *, target: str, display: str, client: HttpSinkClient) -> None:
        self._target = target
        self._display = display
        self.client = client

    @classmethod
    def open(
        cls,
        url: str,
        settings: SinkSettings,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> SlackSink:
        target = settings.environ.get(ENV_NAME, "").strip()
        parts = urlsplit(target)
        if parts.scheme not in ("https", "http") or not parts.netloc:
            raise UsageError(
                f"The sink {url} needs the Slack incoming-webhook URL in {ENV_NAME}.",
                f"Set {ENV_NAME}=https://hooks.slack.com/services/... (Slack: Apps > Incoming"
                " Webhooks); it is a secret, so it is read from the environment only.",
            )
        display = url.split("?", 1)[0]
        client = HttpSinkClient(
            display,
            HINTS,
            headers={"Content-Type": "application/json"},
            secrets=[target],
            policy=RetryPolicy.for_sinks(timeout=settings.timeout),
            session=session,
            sleep=sleep,
        )
        return cls(target=target, display=display, client=client)

    @property
    def display_url(self) -> str:
        return self._display

    def write(self, records: Sequence[LedgerRecord]) -> None:
        alerts = [r.event for r in records if is_new_alert(r.event)]
        if alerts:
            body = json.dumps({"text": message(alerts)}).encode()
            self.client.send("POST", self._target, body=body)

    def write_checkpoint(self, checkpoint: ChainCheckpoint) -> None:
        """A chat channel is not a copy of the ledger: checkpoints are not posted."""

    def check(self) -> None:
        """An empty message: Slack answers 400 ``no_text`` when the webhook exists."""
        self.client.send("POST", self._target, body=b"{}", accept=frozenset({400}))

    def close(self) -> None:
        self.client.close()


def is_new_alert(event: AuditEvent) -> bool:
    return event.kind is EventKind.ANOMALY and event.action == "raised"


def message(alerts: Sequence[AuditEvent]) -> str:
    tally = Counter(str(a.attributes.get("severity", "medium")) for a in alerts)
    parts = [f"{tally[s]} {s}" for s in SEVERITY_ORDER if tally[s]]
    plural = "s" if len(alerts) != 1 else ""
    lines = [f"pipeledger: {len(alerts)} new anomaly alert{plural} ({', '.join(parts)})"]
    lines += [_line(alert) for alert in alerts[:MAX_LISTED]]
    if len(alerts) > MAX_LISTED:
        lines.append(f"… and {len(alerts) - MAX_LISTED} more: run `pipeledger anomalies`.")
    return "\n".join(lines)


def _line(alert: AuditEvent) -> str:
    attributes: dict[str, Any] = dict(alert.attributes)
    severity = str(attributes.get("severity", "medium")).upper()
    text = _escape(str(attributes.get("message", "")))
    link = alert.links.get("deployment") or alert.links.get("run")
    where = f" <{link}|details>" if link else ""
    detector, ident = attributes.get("detector"), attributes.get("alert_id")
    return f"• *{severity}* `{detector}` {text}{where} (id {ident})"


def _escape(text: str) -> str:
    """Slack's mrkdwn treats &, < and > as markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
