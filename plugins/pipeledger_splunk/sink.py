"""Splunk HTTP Event Collector sink: stacked JSON events POSTed to ``/services/collector/event``
with ``Authorization: Splunk <token>``; a reply other than ``{"code": 0}`` is a failure."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import requests

from pipeledger.plugin import (
    KEPT_IN_LEDGER,
    BatchLimits,
    ChainCheckpoint,
    Hints,
    HttpSinkClient,
    LedgerRecord,
    RecordSchema,
    Reply,
    RetryPolicy,
    Sink,
    SinkError,
    SinkSettings,
    SinkUrl,
    UsageError,
    batched,
    canonical_json,
    checkpoint_document,
    render,
)

ENV_NAME = "PIPELEDGER_SPLUNK_TOKEN"
EVENT_PATH = "/services/collector/event"
OPTIONS = ("index", "sourcetype", "source", "host", "format", "batch_size", "max_bytes")
DEFAULT_LIMITS = BatchLimits(count=500, size=1_000_000)
CEILING = BatchLimits(count=10_000, size=800_000_000)
HINTS = Hints(
    credentials=f"Set {ENV_NAME} to a valid HTTP Event Collector token.",
    permission=f"The HEC token in {ENV_NAME} is invalid or disabled, or may not write to"
    " this index; check it under Settings > Data inputs > HTTP Event Collector.",
    not_found="Check the host and port (HEC listens on 8088 by default) and that HEC is enabled.",
)
# HEC answers 400 with code 5 ("No data") to an empty POST once the token is accepted.
NO_DATA = 5
# Refusals whose JSON body ({"text", "code"}) says more than the status.
EXPLAINED = frozenset({400, 401, 403})


class SplunkSink(Sink):
    def __init__(
        self, *, target: str, display: str, client: HttpSinkClient, parsed: SinkUrl
    ) -> None:
        self._target = target
        self._display = display
        self.client = client
        self._format = RecordSchema.parse(parsed.option("format"))
        self._limits = BatchLimits.from_options(parsed.option_int, DEFAULT_LIMITS, CEILING)
        self._envelope = {
            "source": parsed.option("source", "pipeledger"),
            "sourcetype": parsed.option("sourcetype", f"pipeledger:{self._format.value}"),
            "index": parsed.option("index"),
            "host": parsed.option("host"),
        }

    @classmethod
    def open(
        cls,
        url: str,
        settings: SinkSettings,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> SplunkSink:
        parsed = SinkUrl.parse(url, OPTIONS)
        if parsed.transport not in ("http", "https"):
            raise UsageError(
                f"The Splunk sink URL {parsed.display} must start with splunk+https://.",
                "Write splunk+https://HOST:8088?index=main.",
            )
        token = settings.environ.get(ENV_NAME)
        if not token:
            raise UsageError(f"The Splunk sink {parsed.display} has no token.", HINTS.credentials)
        client = HttpSinkClient(
            parsed.display,
            HINTS,
            headers={
                "Authorization": f"Splunk {token}",
                "Content-Type": "application/json",
            },
            secrets=[token],
            policy=RetryPolicy.for_sinks(timeout=settings.timeout),
            session=session,
            sleep=sleep,
        )
        path = parsed.path.rstrip("/") or EVENT_PATH
        target = f"{parsed.transport}://{parsed.netloc}{path}"
        return cls(target=target, display=parsed.display, client=client, parsed=parsed)

    @property
    def display_url(self) -> str:
        return self._display

    def write(self, records: Sequence[LedgerRecord]) -> None:
        pieces = ((r, self._event(r)) for r in records)
        for batch in batched(pieces, self._limits):
            self._post(b"\n".join(piece for _, piece in batch))

    def write_checkpoint(self, checkpoint: ChainCheckpoint) -> None:
        event = {
            **self._fields(checkpoint.created_at.timestamp()),
            "sourcetype": "pipeledger:checkpoint",
            "event": checkpoint_document(checkpoint),
        }
        self._post(canonical_json(event).encode())

    def check(self) -> None:
        reply = self.client.send("POST", self._target, body=b"", accept=EXPLAINED)
        body = reply.json()
        code = body.get("code") if isinstance(body, dict) else None
        if reply.status >= 400 and code != NO_DATA:
            raise self._rejected(reply, body)

    def close(self) -> None:
        self.client.close()

    def _event(self, record: LedgerRecord) -> bytes:
        event = {
            **self._fields(record.event.occurred_at.timestamp()),
            "event": render(record, self._format),
        }
        if event.get("host") is None:
            event["host"] = record.event.instance
        return canonical_json(event).encode()

    def _fields(self, epoch: float) -> dict[str, Any]:
        fields = {key: value for key, value in self._envelope.items() if value is not None}
        return {"time": round(epoch, 3), **fields}

    def _post(self, body: bytes) -> None:
        reply = self.client.send("POST", self._target, body=body, accept=EXPLAINED)
        answer = reply.json()
        if not (isinstance(answer, dict) and answer.get("code") == 0):
            raise self._rejected(reply, answer)

    def _rejected(self, reply: Reply, answer: Any) -> SinkError:
        if not isinstance(answer, dict):
            return self.client.refusal(reply)
        text = f"{answer.get('text', 'no text')} (code {answer.get('code')})"
        if "invalid-event-number" in answer:
            text += f", event #{answer['invalid-event-number']} of the batch"
        if answer.get("code") == 7:
            return SinkError(
                f"{self._display} refused the events: {text}.",
                "The index in the URL does not exist or the token may not write to it; fix"
                f" index= or the token's allowed indexes. {KEPT_IN_LEDGER}",
            )
        return self.client.refusal(reply, detail=text)
