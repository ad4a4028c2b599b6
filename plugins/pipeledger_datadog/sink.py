"""Datadog logs sink: JSON arrays POSTed to ``https://http-intake.logs.SITE/api/v2/logs`` with
``DD-API-KEY``, at most 1,000 entries and 5 MB per request. Each entry's ``message`` is the
record as JSON, which Datadog parses into attributes."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

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
    SinkError,
    SinkSettings,
    SinkUrl,
    UsageError,
    batched,
    canonical_json,
    checkpoint_document,
    is_loopback,
    render,
)

ENV_NAMES = ("DD_API_KEY", "PIPELEDGER_DATADOG_API_KEY")
OPTIONS = ("service", "tags", "format", "batch_size", "max_bytes", "insecure")
DEFAULT_LIMITS = BatchLimits(count=1000, size=5_000_000)
# The intake's own limits: 1,000 entries and 5 MB (uncompressed) per request.
CEILING = DEFAULT_LIMITS
HINTS = Hints(
    credentials=f"Set {ENV_NAMES[0]} (or {ENV_NAMES[1]}) to a Datadog API key.",
    permission=f"The API key in {ENV_NAMES[0]} is not valid for this site; check the site in"
    " datadog://SITE (datadoghq.com, datadoghq.eu, us5.datadoghq.com, …) and the key.",
    not_found="Check the site in datadog://SITE.",
)


class DatadogSink(Sink):
    def __init__(
        self, *, intake: str, validate: str, client: HttpSinkClient, parsed: SinkUrl
    ) -> None:
        self._intake = intake
        self._validate = validate
        self._display = parsed.display
        self.client = client
        self._format = RecordSchema.parse(parsed.option("format"))
        self._limits = BatchLimits.from_options(parsed.option_int, DEFAULT_LIMITS, CEILING)
        self._service = parsed.option("service", "pipeledger")
        self._tags = parsed.option("tags")

    @classmethod
    def open(
        cls,
        url: str,
        settings: SinkSettings,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> DatadogSink:
        parsed = SinkUrl.parse(url, OPTIONS)
        api_key = next((settings.environ[n] for n in ENV_NAMES if settings.environ.get(n)), None)
        if api_key is None:
            raise UsageError(
                f"The Datadog sink {parsed.display} has no API key.", HINTS.credentials
            )
        intake, validate = _endpoints(parsed)
        client = HttpSinkClient(
            parsed.display,
            HINTS,
            headers={
                "DD-API-KEY": api_key,
                "Content-Type": "application/json",
            },
            secrets=[api_key],
            policy=RetryPolicy.for_sinks(timeout=settings.timeout),
            session=session,
            sleep=sleep,
        )
        return cls(intake=intake, validate=validate, client=client, parsed=parsed)

    @property
    def display_url(self) -> str:
        return self._display

    def write(self, records: Sequence[LedgerRecord]) -> None:
        entries = ((r, self._entry(render(r, self._format), r.event.instance)) for r in records)
        for batch in batched(entries, self._limits):
            self._post([entry for _, entry in batch])

    def write_checkpoint(self, checkpoint: ChainCheckpoint) -> None:
        self._post([self._entry(checkpoint_document(checkpoint), None)])

    def check(self) -> None:
        """Datadog's key validation endpoint: authenticated, writes nothing."""
        answer = self.client.send("GET", self._validate).json()
        if not (isinstance(answer, dict) and answer.get("valid") is True):
            raise SinkError(f"{self._display} did not confirm the API key.", HINTS.permission)

    def close(self) -> None:
        self.client.close()

    def _entry(self, document: dict[str, Any], hostname: str | None) -> bytes:
        # No "date": the intake drops entries older than about 18 hours, and a backfill is
        # older. The event's own time stays inside the message.
        entry = {
            "ddsource": "pipeledger",
            "service": self._service,
            "message": canonical_json(document),
        }
        if self._tags:
            entry["ddtags"] = self._tags
        if hostname:
            entry["hostname"] = hostname
        return canonical_json(entry).encode()

    def _post(self, entries: Sequence[bytes]) -> None:
        self.client.send("POST", self._intake, body=b"[" + b",".join(entries) + b"]")


def _endpoints(parsed: SinkUrl) -> tuple[str, str]:
    """Log intake and key validation URLs for a site, or for a local relay when insecure=1."""
    if parsed.option_bool("insecure"):
        if not is_loopback(parsed.host):
            raise UsageError(
                f"insecure=1 in {parsed.display} is allowed only for a relay on this machine.",
                "Remove insecure=1 to send to Datadog over HTTPS.",
            )
        base = f"http://{parsed.netloc}"
        return f"{base}/api/v2/logs", f"{base}/api/v1/validate"
    if parsed.port or parsed.path.strip("/"):
        raise UsageError(
            f"datadog://SITE takes a Datadog site, not {parsed.display}.",
            "Write datadog://datadoghq.com, datadog://datadoghq.eu, datadog://us5.datadoghq.com.",
        )
    return (
        f"https://http-intake.logs.{parsed.host}/api/v2/logs",
        f"https://api.{parsed.host}/api/v1/validate",
    )
