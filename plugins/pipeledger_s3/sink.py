"""Amazon S3 sink: one JSONL object per batch under a content-addressed key, written only if
absent (``If-None-Match: *``), so redelivering a batch never writes it twice; Object Lock
retention when asked. boto3 is an optional extra (``pipeledger[s3]``), imported on open."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pipeledger.plugin import (
    BatchLimits,
    ChainCheckpoint,
    LedgerRecord,
    RecordSchema,
    Sink,
    SinkSettings,
    SinkUrl,
    UsageError,
    batched,
    canonical_json,
    checkpoint_document,
    render_json,
)
from pipeledger_s3.errors import translate

OPTIONS = (
    "object_lock",
    "retain_days",
    "region",
    "endpoint",
    "format",
    "batch_size",
    "max_bytes",
)
DEFAULT_LIMITS = BatchLimits(count=1000, size=50_000_000)
CEILING = BatchLimits(count=100_000, size=1_000_000_000)
LOCK_MODES = {"governance": "GOVERNANCE", "compliance": "COMPLIANCE"}
CREDENTIAL_ENV = {
    "aws_access_key_id": "AWS_ACCESS_KEY_ID",
    "aws_secret_access_key": "AWS_SECRET_ACCESS_KEY",
    "aws_session_token": "AWS_SESSION_TOKEN",
    "profile_name": "AWS_PROFILE",
}


class S3Sink(Sink):
    def __init__(
        self,
        *,
        client: Any,
        parsed: SinkUrl,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.client = client
        self._bucket = parsed.host
        self._prefix = parsed.path.strip("/")
        self._display = parsed.display
        self._format = RecordSchema.parse(parsed.option("format"))
        self._limits = BatchLimits.from_options(parsed.option_int, DEFAULT_LIMITS, CEILING)
        self._lock_mode = _lock_mode(parsed)
        self._retain_days = parsed.option_int("retain_days", 0, 0, 36_500)
        if self._lock_mode and not self._retain_days:
            raise UsageError(
                f"object_lock in {self._display} needs a retention period.",
                "Add retain_days=N (for example retain_days=365) to the sink URL.",
            )
        self._clock = clock
        self.objects_written = 0

    @classmethod
    def open(
        cls,
        url: str,
        settings: SinkSettings,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> S3Sink:
        parsed = SinkUrl.parse(url, OPTIONS)
        return cls(client=_client(parsed, settings), parsed=parsed, clock=clock)

    @property
    def display_url(self) -> str:
        return self._display

    def write(self, records: Sequence[LedgerRecord]) -> None:
        lines = ((r, (render_json(r, self._format) + "\n").encode()) for r in records)
        for batch in batched(lines, self._limits, overhead=0):
            body = b"".join(line for _, line in batch)
            first, last = batch[0][0], batch[-1][0]
            key = batch_key(self._prefix, first, last, body)
            self._put_once(key, body, "application/x-ndjson")

    def write_checkpoint(self, checkpoint: ChainCheckpoint) -> None:
        body = (canonical_json(checkpoint_document(checkpoint)) + "\n").encode()
        self._put_once(checkpoint_key(self._prefix, checkpoint), body, "application/json")

    def check(self) -> None:
        """Bucket reachable with these credentials, and locked when object_lock asks it."""
        with translate(self._display, f"checking bucket {self._bucket}"):
            self.client.head_bucket(Bucket=self._bucket)
            if self._lock_mode:
                self.client.get_object_lock_configuration(Bucket=self._bucket)

    def _put_once(self, key: str, body: bytes, content_type: str) -> None:
        arguments: dict[str, Any] = {
            "Bucket": self._bucket,
            "Key": key,
            "Body": body,
            "ContentType": content_type,
            "ContentMD5": base64.b64encode(hashlib.md5(body).digest()).decode(),  # noqa: S324 - S3's integrity header, not security
            # The key is the content's hash: an object already there is this very batch.
            "IfNoneMatch": "*",
        }
        if self._lock_mode:
            arguments["ObjectLockMode"] = self._lock_mode
            arguments["ObjectLockRetainUntilDate"] = self._clock() + timedelta(
                days=self._retain_days
            )
        with translate(self._display, f"writing {key}") as outcome:
            self.client.put_object(**arguments)
        if not outcome.already_stored:
            self.objects_written += 1


def batch_key(prefix: str, first: LedgerRecord, last: LedgerRecord, body: bytes) -> str:
    """``prefix/YYYY/MM/DD/<first seq>-<last seq>-<sha256>.jsonl``; the date is the first
    event's, so the key depends on nothing but the batch."""
    day = first.event.occurred_at.strftime("%Y/%m/%d")
    digest = hashlib.sha256(body).hexdigest()
    name = f"{first.seq:012d}-{last.seq:012d}-{digest}.jsonl"
    return "/".join(part for part in (prefix, day, name) if part)


def checkpoint_key(prefix: str, checkpoint: ChainCheckpoint) -> str:
    return "/".join(p for p in (prefix, "checkpoints", f"{checkpoint.seq:012d}.json") if p)


def _lock_mode(parsed: SinkUrl) -> str | None:
    raw = parsed.option("object_lock")
    if raw is None:
        return None
    mode = LOCK_MODES.get(raw.lower())
    if mode is None:
        raise UsageError(
            f"object_lock={raw!r} in {parsed.display} is not a lock mode.",
            "Write object_lock=governance or object_lock=compliance.",
        )
    return mode


def _client(parsed: SinkUrl, settings: SinkSettings) -> Any:
    import boto3
    from botocore.config import Config

    environ: Mapping[str, str] = settings.environ
    credentials = {arg: environ[name] for arg, name in CREDENTIAL_ENV.items() if environ.get(name)}
    region = (
        parsed.option("region") or environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")
    )
    with translate(parsed.display, "opening the S3 client"):
        session = boto3.session.Session(region_name=region, **credentials)
        return session.client(
            "s3",
            endpoint_url=parsed.option("endpoint"),
            config=Config(
                retries={"max_attempts": 6, "mode": "standard"},
                connect_timeout=settings.timeout,
                read_timeout=settings.timeout,
            ),
        )
