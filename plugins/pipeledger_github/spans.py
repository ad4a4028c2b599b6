"""Which creation-time ranges a collection still has to read, given what is stored, and how
to cut a ``created`` window that exceeds GitHub's 1,000-result cap for filtered lists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum

from pipeledger_github.cursor import Span

# No workflow run is older than the GitHub Actions beta; the floor for a window with no start.
ACTIONS_EPOCH = datetime(2018, 10, 1, tzinfo=UTC)
SECOND = timedelta(seconds=1)


class Side(Enum):
    FRESH = "fresh"  # nothing stored yet: the span grows downward from the newest record
    UPPER = "upper"  # newer than the stored span: the span's top moves up once it is read
    LOWER = "lower"  # older than the stored span: the span's bottom moves down as it is read
    APART = "apart"  # not touching the span: read, but the span stays as it is


@dataclass(frozen=True)
class Gap:
    """Creation times ``low``..``high`` to read; ``high`` None means up to now. An end that
    touches the stored span is open: what sits exactly there is stored already."""

    low: datetime | None
    high: datetime | None
    side: Side

    def contains(self, moment: datetime) -> bool:
        above = (
            self.low is None
            or moment > self.low
            or (moment == self.low and self.side is not Side.UPPER)
        )
        below = (
            self.high is None
            or moment < self.high
            or (moment == self.high and self.side is not Side.LOWER)
        )
        return above and below


def plan_gaps(span: Span | None, since: datetime | None, until: datetime | None) -> list[Gap]:
    """The ranges of [since, until] not inside ``span``: the newer one first."""
    if span is None:
        return [Gap(since, until, Side.FRESH)]
    gaps: list[Gap] = []
    if until is None or until > span.high:
        touching = since is None or since <= span.high
        low = span.high if touching else since
        gaps.append(Gap(low, until, Side.UPPER if touching else Side.APART))
    if span.low is not None and (since is None or since < span.low):
        touching = until is None or until >= span.low
        high = span.low if touching else until
        gaps.append(Gap(since, high, Side.LOWER if touching else Side.APART))
    return gaps


def created_query(low: datetime | None, high: datetime | None) -> str:
    """GitHub's ``created`` search syntax for an inclusive range."""
    if high is None:
        return f">={_stamp(low or ACTIONS_EPOCH)}"
    return f"{_stamp(low or ACTIONS_EPOCH)}..{_stamp(high)}"


def halves(low: datetime, high: datetime) -> tuple[tuple[datetime, datetime], ...]:
    """Two inclusive halves at whole seconds (GitHub compares at second precision); one range
    when it cannot be split any further."""
    start, end = _floor(low), _floor(high)
    if end - start < SECOND:
        return ((low, high),)
    middle = _floor(start + (end - start) / 2)
    return ((start, middle), (middle + SECOND, end))


def _floor(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def _stamp(moment: datetime) -> str:
    """The date-time form GitHub's search syntax documents: ``YYYY-MM-DDTHH:MM:SS+00:00``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")
