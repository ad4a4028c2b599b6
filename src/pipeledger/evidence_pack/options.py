"""What one evidence pack covers and how its sample is drawn."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pipeledger.dora import DoraSettings
from pipeledger.errors import UsageError
from pipeledger.period import Period
from pipeledger.policy.loader import LoadedPolicy

DEFAULT_SAMPLE = 25
DEFAULT_LOOKBACK = timedelta(days=30)
_HOURS = re.compile(r"^(\d{1,2})-(\d{1,2})$")


@dataclass(frozen=True)
class WorkingHours:
    """The team's usual hours: Monday to Friday, [start, end) o'clock in ``zone``."""

    start: int = 7
    end: int = 20
    zone: tzinfo = UTC

    def outside(self, moment: datetime) -> bool:
        local = moment.astimezone(self.zone)
        return local.weekday() >= 5 or not self.start <= local.hour < self.end

    def describe(self) -> str:
        return f"Monday to Friday {self.start:02d}:00-{self.end:02d}:00 {self.zone}"


def working_hours(text: str, zone_name: str) -> WorkingHours:
    match = _HOURS.match(text.strip())
    start, end = (int(match.group(1)), int(match.group(2))) if match else (-1, -1)
    if not 0 <= start < end <= 24:
        raise UsageError(
            f"--working-hours {text!r} is not a range of hours.",
            "Use START-END in 24-hour clock, e.g. 07-20 (from 07:00 to 20:00).",
        )
    try:
        zone: tzinfo = UTC if zone_name.upper() == "UTC" else ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(
            f"--timezone {zone_name!r} is not a known time zone.",
            "Use an IANA name such as Europe/Berlin or America/New_York, or UTC.",
        ) from None
    return WorkingHours(start, end, zone)


@dataclass(frozen=True)
class PackOptions:
    period: Period
    generated_at: datetime
    seed: int
    sample_size: int = DEFAULT_SAMPLE
    environment: str | None = None
    hours: WorkingHours = field(default_factory=WorkingHours)
    dora: DoraSettings = field(default_factory=DoraSettings)
    policy: LoadedPolicy | None = None
    lookback: timedelta = DEFAULT_LOOKBACK

    @property
    def dora_settings(self) -> DoraSettings:
        """The DORA settings the pack counts with: ``--environment`` names production."""
        if self.environment is None:
            return self.dora
        return replace(self.dora, production=(self.environment,))
