"""The ``--period`` of ``report`` and ``metrics``: a quarter, a month, a year, a date range
or a duration back from now, always as a half-open UTC interval [start, end)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from pipeledger.errors import UsageError
from pipeledger.events import format_time

_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_YEAR = re.compile(r"^(\d{4})$")
_DURATION = re.compile(r"^(\d+)([dw])$")


@dataclass(frozen=True)
class Period:
    label: str
    start: datetime
    end: datetime  # exclusive

    @property
    def days(self) -> float:
        return (self.end - self.start).total_seconds() / 86_400

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def to_dict(self) -> dict[str, str]:
        return {"label": self.label, "start": format_time(self.start), "end": format_time(self.end)}


def parse_period(text: str, now: datetime | None = None) -> Period:
    value = text.strip()
    try:
        found = _parse(value, now or datetime.now(UTC))
    except ValueError:
        found = None
    if found is None or found.end <= found.start:
        raise UsageError(
            f"--period {text!r} is not a period pipeledger understands.",
            "Use a quarter (2024-Q1), a month (2024-03), a year (2024), a date range with both"
            " days included (2024-01-01..2024-03-31) or a duration back from now (30d, 12w).",
        )
    return found


def _parse(value: str, now: datetime) -> Period | None:
    if match := _QUARTER.match(value):
        year, quarter = int(match.group(1)), int(match.group(2))
        start = _day(date(year, 3 * quarter - 2, 1))
        return Period(f"{year}-Q{quarter}", start, _add_months(start, 3))
    if match := _MONTH.match(value):
        start = _day(date(int(match.group(1)), int(match.group(2)), 1))
        return Period(value, start, _add_months(start, 1))
    if match := _YEAR.match(value):
        start = _day(date(int(value), 1, 1))
        return Period(value, start, _add_months(start, 12))
    if ".." in value:
        first, _, last = value.partition("..")
        start = _day(date.fromisoformat(first))
        end = _day(date.fromisoformat(last)) + timedelta(days=1)
        return Period(value, start, end)
    if match := _DURATION.match(value):
        days = int(match.group(1)) * (7 if match.group(2) == "w" else 1)
        end = now.astimezone(UTC)
        return Period(value, end - timedelta(days=days), end)
    return None


def _day(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _add_months(start: datetime, months: int) -> datetime:
    index = start.month - 1 + months
    return start.replace(year=start.year + index // 12, month=index % 12 + 1)


def whole_span(first: datetime, last: datetime) -> Period:
    """From the first day with an event to the end of the last one (``metrics`` with no
    ``--period``)."""
    start = _day(first.date())
    end = _day(last.date()) + timedelta(days=1)
    return Period(f"{start.date()}..{(end - timedelta(days=1)).date()}", start, end)
