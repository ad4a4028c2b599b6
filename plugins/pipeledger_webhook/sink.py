"""Generic webhook sink: POSTs JSON batches ``{"format", "records", "checkpoint"}`` signed with
``X-Pipeledger-Signature: sha256=<HMAC-SHA256(secret, body)>`` and carrying an
``Idempotency-Key`` that is the same whenever the same batch is sent again."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Sequence
from urllib.parse import urlencode, urlunsplit

import requests

from pipeledger.plugin import (
    BatchLimits,
    ChainCheckpoint,
    Hints,
    HttpSinkClient,
    LedgerRecord,
    RecordSchema,
    RetryPolicy,
    Sink,
    SinkSettings,
    SinkUrl,
    UsageError,
    batched,
    canonical_json,
    checkpoint_document,
    render_json,
)

ENV_NAME = "PIPELEDGER_WEBHOOK_SECRET"
SIGNATURE_HEADER = "X-Pipeledger-Signature"
OPTIONS = ("format", "batch_size", "max_bytes", "unsigned")
DEFAULT_LIMITS = BatchLimits(count=500, size=1_000_000)
CEILING = BatchLimits(count=10_000, size=100_000_000)
HINTS = Hints(
    credentials=f"Check that {ENV_NAME} is the receiver's secret, and the user and password in"
    " the sink URL if the receiver needs them.",
    permission=f"The receiver refused the request; check that it shares {ENV_NAME}.",
    not_found="Check the path of the webhook URL.",
)


class WebhookSink(Sink):
    def __init__(
        self,
        *,
        target: str,
        display: str,
        client: HttpSinkClient,
        secret: bytes | None,
        output: RecordSchema,
        limits: BatchLimits,
    ) -> None:
        self._target = target
        self._display = display
        self.client = client
        self._secret = secret
        self._format = output
        self._limits = limits

    @classmethod
    def open(
        cls,
        url: str,
        settings: SinkSettings,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> WebhookSink:
        parsed = SinkUrl.parse(url, OPTIONS, keep_unknown=True)
        secret = settings.environ.get(ENV_NAME) or None
        if secret is None and not parsed.option_bool("unsigned"):
            raise UsageError(
                f"The webhook sink {parsed.display} has no signing secret.",
                f"Set {ENV_NAME} to a secret shared with the receiver, or add unsigned=1"
                " to the URL to send unsigned batches.",
            )
        auth = (parsed.username or "", parsed.password or "") if parsed.username else None
        client = HttpSinkClient(
            parsed.display,
            HINTS,
            headers={"Content-Type": "application/json"},
            auth=auth,
            secrets=[s for s in (secret, parsed.password) if s],
            policy=RetryPolicy.for_sinks(timeout=settings.timeout),
            session=session,
            sleep=sleep,
        )
        limits = BatchLimits.from_options(parsed.option_int, DEFAULT_LIMITS, CEILING)
        output = RecordSchema.parse(parsed.option("format"))
        encoded = secret.encode() if secret else None
        return cls(
            target=_target(parsed),
            display=parsed.display,
            client=client,
            secret=encoded,
            output=output,
            limits=limits,
        )

    @property
    def display_url(self) -> str:
        return self._display

    def write(self, records: Sequence[LedgerRecord]) -> None:
        pieces = ((r, render_json(r, self._format).encode()) for r in records)
        for batch in batched(pieces, self._limits):
            self._send_batch(batch)

    def write_checkpoint(self, checkpoint: ChainCheckpoint) -> None:
        document = canonical_json(checkpoint_document(checkpoint)["pipeledger_checkpoint"])
        key = _digest(f"checkpoint\n{checkpoint.seq}\n{checkpoint.head_hash}")
        self._post(b"[]", document.encode(), key)

    def check(self) -> None:
        """An empty signed batch: proves the receiver is up and accepts the signature."""
        self._post(b"[]", b"null", _digest("check"))

    def close(self) -> None:
        self.client.close()

    def _send_batch(self, batch: list[tuple[LedgerRecord, bytes]]) -> None:
        key = _digest(f"{batch[0][0].event.id}\n{batch[-1][0].event.id}")
        self._post(b"[" + b",".join(piece for _, piece in batch) + b"]", b"null", key)

    def _post(self, records_json: bytes, checkpoint_json: bytes, key: str) -> None:
        # Keys in sorted order, as canonical JSON would have them.
        body = (
            b'{"checkpoint":' + checkpoint_json
            + b',"format":"' + self._format.value.encode()
            + b'","records":' + records_json + b"}"
        )  # fmt: skip
        headers = {"Idempotency-Key": key}
        if self._secret is not None:
            headers[SIGNATURE_HEADER] = "sha256=" + sign(self._secret, body)
        # 409: a receiver that already saw this Idempotency-Key.
        self.client.send("POST", self._target, body=body, headers=headers, accept=frozenset({409}))


def sign(secret: bytes, body: bytes) -> str:
    return hmac.new(secret, body, hashlib.sha256).hexdigest()


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _target(parsed: SinkUrl) -> str:
    """The receiver's URL: no credentials (sent as basic auth), its own query kept."""
    query = urlencode(parsed.passthrough)
    return urlunsplit((parsed.transport, parsed.netloc, parsed.path or "/", query, ""))
