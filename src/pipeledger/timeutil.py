"""Parses the ``WHEN`` arguments: an RFC 3339 time, a date, or a duration back from now."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from pipeledger.errors import UsageError
from pipeledger.events import parse_time

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

_DURATION = re.compile(r"^(\d+)\s*([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_when(text: str, now: datetime | None = None, *, option: str = "--since") -> datetime:
    value = text.strip()
    duration = _DURATION.match(value)
    if duration:
        amount, unit = int(duration.group(1)), duration.group(2)
        return (now or datetime.now(UTC)) - timedelta(**{_UNITS[unit]: amount})
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        return parse_time(value)
    except ValueError:
        raise UsageError(
            f"{option} {text!r} is not a time pipeledger understands.",
            "Use an RFC 3339 time (2026-05-01T12:00:00Z), a date (2026-05-01) or a duration"
            " back from now (7d, 12h, 30m, 2w).",
        ) from None


def parse_duration(text: str, *, option: str) -> timedelta:
    """A positive duration such as ``90d``, ``12h`` or ``2w``."""
    duration = _DURATION.match(text.strip())
    if not duration or int(duration.group(1)) == 0:
        raise UsageError(
            f"{option} {text!r} is not a duration pipeledger understands.",
            "Use a whole number and a unit: 90d, 12h, 30m or 2w.",
        )
    amount, unit = int(duration.group(1)), duration.group(2)
    return timedelta(**{_UNITS[unit]: amount})


def epoch_micros(when: datetime) -> int:
    """A time as microseconds since 1970 UTC, for keeping many of them in an ``array``; a
    naive time is read as UTC (naive times only ever meet each other)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when - _EPOCH) // _MICROSECOND


def from_epoch_micros(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)
