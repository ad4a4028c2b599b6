"""Quarantine: an API record that cannot become a valid event is kept aside, raw and with the
reason, instead of stopping the collection or being dropped without a trace.

Adapters hold what their normalizers refused (:class:`Holding`) and hand it over with the next
batch; the core adds the events that fail :mod:`pipeledger.event_check` and stores both in the
ledger's quarantine table before the batch itself, so a run killed in between quarantines the
same records again (stored once, by fingerprint) and loses none.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pipeledger.errors import PipeledgerError

# A raw record is kept up to this many characters of its JSON; the rest is cut (and said so).
RAW_LIMIT = 64 * 1024
REASON_LIMIT = 500
T = TypeVar("T")


@dataclass(frozen=True)
class QuarantinedRecord:
    """One refused record: where it came from, why, and its raw JSON (size-capped, ASCII)."""

    platform: str
    endpoint: str
    native_id: str
    reason: str
    raw: str

    @property
    def fingerprint(self) -> str:
        """Same record, same reason → same fingerprint: quarantined once across reruns."""
        material = "\x1f".join((self.platform, self.endpoint, self.native_id, self.raw))
        return hashlib.sha256(material.encode("utf-8", "backslashreplace")).hexdigest()

    def describe(self) -> str:
        return f"{self.platform} {self.endpoint} id {self.native_id}: {self.reason}"


def quarantine_values(record: QuarantinedRecord) -> tuple[str, str, str, str, str]:
    """platform, endpoint, native_id, reason, raw: a quarantine table's columns."""
    return (record.platform, record.endpoint, record.native_id, record.reason, record.raw)


def quarantined(
    platform: str, endpoint: str, native_id: object, reason: str, raw: object
) -> QuarantinedRecord:
    """A quarantine entry; every text is made printable ASCII-safe JSON and capped."""
    return QuarantinedRecord(
        platform=safe_text(platform, 100),
        endpoint=safe_text(endpoint, 300),
        native_id=safe_text("?" if native_id is None else str(native_id), 200),
        reason=safe_text(reason, REASON_LIMIT),
        raw=raw_json(raw),
    )


def raw_json(value: object) -> str:
    """The record as JSON, ``\\u`` escapes for anything not ASCII (lone surrogates included,
    so it can always be stored), cut at :data:`RAW_LIMIT` characters."""
    try:
        text = json.dumps(value, ensure_ascii=True, sort_keys=True, default=repr)
    except (ValueError, TypeError, RecursionError):
        text = json.dumps(repr(value)[:RAW_LIMIT])
    if len(text) <= RAW_LIMIT:
        return text
    return json.dumps({"truncated_from": len(text), "start": text[:RAW_LIMIT]})


def safe_text(value: str, limit: int) -> str:
    """Valid UTF-8 without control characters, at most ``limit`` characters."""
    cleaned = "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in valid_text(value))
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def valid_text(value: str) -> str:
    """``value`` with each lone surrogate (which no UTF-8 store accepts) replaced by U+FFFD;
    a well-formed surrogate pair becomes the character it encodes."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return value


# A JSON escape of a UTF-16 surrogate, the only way a decoded body gets text UTF-8 cannot hold.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def valid_json_body(raw: bytes, decoded: Any) -> Any:
    """A decoded API body with lone surrogates replaced; free when the raw body escapes no
    surrogate at all (nearly always)."""
    if _SURROGATE_ESCAPE.search(raw) is None:
        return decoded
    return valid_json_texts(decoded)


def valid_json_texts(value: Any) -> Any:
    """A decoded JSON value with every string (keys too) made valid UTF-8."""
    if isinstance(value, str):
        return valid_text(value)
    if isinstance(value, list):
        return [valid_json_texts(item) for item in value]
    if isinstance(value, dict):
        return {valid_text(str(k)): valid_json_texts(v) for k, v in value.items()}
    return value


class Holding:
    """What an adapter's normalizers refused, waiting to ride on the next batch."""

    def __init__(self, platform: str) -> None:
        self.platform = platform
        self._held: list[QuarantinedRecord] = []

    def guard(
        self,
        make: Callable[[], T],
        *,
        raw: object,
        endpoint: str,
        native_id: object,
        what: str,
        passing: tuple[type[Exception], ...] = (),
    ) -> T | None:
        """``make()``, or None with ``raw`` held when it fails on the record's content.
        The project's own errors (the API refused, a sink failed) are not about the record
        and pass through, as do ``passing`` (errors the caller handles itself)."""
        reraised: tuple[type[Exception], ...] = (PipeledgerError, *passing)
        try:
            return make()
        except reraised:
            raise
        except (RecursionError, MemoryError):
            self.hold(endpoint, native_id, f"the {what} is too deeply nested or too large", raw)
        except Exception as error:  # any failure on one record is that record's
            self.hold(endpoint, native_id, f"the {what} cannot be normalized: {_why(error)}", raw)
        return None

    def hold(self, endpoint: str, native_id: object, reason: str, raw: object) -> None:
        self._held.append(quarantined(self.platform, endpoint, native_id, reason, raw))

    def take(self) -> list[QuarantinedRecord]:
        held, self._held = self._held, []
        return held


def _why(error: Exception) -> str:
    message = str(error)
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def unique(records: Sequence[QuarantinedRecord]) -> Iterator[QuarantinedRecord]:
    seen: set[str] = set()
    for record in records:
        if record.fingerprint not in seen:
            seen.add(record.fingerprint)
            yield record
