"""``unusual-time``: a deploy at an hour or on a weekday this team does not deploy, learned
from the environment's own deploys in the look-back (not from any policy window). An
environment with too little history is not judged."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterator

from pipeledger.anomalies._facts import Deploy
from pipeledger.anomalies._sliding import SlidingCounts
from pipeledger.anomalies.detectors._base import Detector, clock, deploys_of, where
from pipeledger.anomalies.history import History
from pipeledger.anomalies.model import AlertSeverity, Anomaly

DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
HOUR, WEEKDAY = 0, 1


class UnusualTimeDetector(Detector):
    name = "unusual-time"
    summary = "A deploy outside the hours and weekdays this team actually deploys in."
    default_severity = AlertSeverity.MEDIUM

    def detect(self, history: History) -> Iterator[Anomaly]:
        margin = self.settings.whole("margin_hours", 1)
        share = self.settings.number("min_share", 0.02)
        span = self.judging.lookback
        places: defaultdict[tuple[str, ...], SlidingCounts] = defaultdict(
            lambda: SlidingCounts(span, 2)
        )
        for deploy in history.deploys:
            seen = places[deploy.place]
            seen.advance(deploy.when)
            hour, weekday = deploy.when.hour, deploy.when.weekday()
            total = len(seen)
            if self.judging.judges(deploy.when) and self.knows_enough(seen, deploy.when):
                floor = max(1.0, share * total)
                near = sum(seen.count((hour + k) % 24, HOUR) for k in range(-margin, margin + 1))
                same_day = seen.count(weekday, WEEKDAY)
                if (near < floor or same_day < floor) and not self.skips(
                    deploy.deployer, deploy.deployer_type
                ):
                    yield self._alert(deploy, seen, near, same_day, floor)
            seen.add(deploy.when, hour, weekday)

    def _alert(
        self, deploy: Deploy, seen: SlidingCounts, near: int, same_day: int, floor: float
    ) -> Anomaly:
        total = len(seen)
        hours = {int(str(h)): n for h, n in seen.counts[HOUR].items()}
        start, end, covered = hour_band(hours)
        weekdays = sorted(int(str(d)) for d in seen.counts[WEEKDAY])
        odd_hour, odd_day = near < floor, same_day < floor
        when = f"at {clock(deploy.when)}" if odd_hour else ""
        if odd_day:
            when = f"{when} on a {DAYS[deploy.when.weekday()]}".strip()
        days = self.judging.settings.lookback_days
        lead = "were all" if covered == total else f"{covered} of them were"
        reasons = []
        if odd_hour:
            reasons.append(f"{lead} between {start:02d}:00 and {end:02d}:59 UTC")
        if odd_day:
            count = "none" if same_day == 0 else f"only {same_day}"
            day = DAYS[deploy.when.weekday()]
            reasons.append(f"included {count} on a {day} (they deploy {_day_list(weekdays)})")
        message = (
            f"{deploy.deployer} deployed {where(deploy)} {when}; the"
            f" {deploys_of(deploy, total)} in the last {days} days {' and '.join(reasons)}."
        )
        rarity = min(near if odd_hour else floor, same_day if odd_day else floor)
        return self.deploy_alert(
            deploy,
            key=(deploy.owner, deploy.repository, deploy.environment or "", deploy.deployment_id),
            message=message,
            score=1.0 - rarity / floor,
            baseline={
                "lookback_days": days,
                "deploys": total,
                "hours_utc": [start, end],
                "deploys_in_hours": covered,
                "weekdays": [DAYS[d] for d in weekdays],
            },
        )


def hour_band(hours: dict[int, int]) -> tuple[int, int, int]:
    """The shortest run of hours (it may wrap past midnight) holding all the deploys — or 95 %
    of them when a few stray deploys would widen it by more than four hours: (first hour,
    last hour, deploys in it)."""
    total = sum(hours.values())
    every = _shortest(hours, total)
    most = _shortest(hours, math.ceil(total * 0.95))
    return most if _length(most) + 4 < _length(every) else every


def _shortest(hours: dict[int, int], need: int) -> tuple[int, int, int]:
    for length in range(1, 25):
        for start in range(24):
            covered = sum(hours.get((start + k) % 24, 0) for k in range(length))
            if covered >= need:
                return start, (start + length - 1) % 24, covered
    return 0, 23, sum(hours.values())


def _length(band: tuple[int, int, int]) -> int:
    return (band[1] - band[0]) % 24 + 1


def _day_list(weekdays: list[int]) -> str:
    if weekdays and weekdays == list(range(weekdays[0], weekdays[-1] + 1)) and len(weekdays) > 2:
        return f"{DAYS[weekdays[0]]} to {DAYS[weekdays[-1]]}"
    return "on " + ", ".join(DAYS[d] for d in weekdays)
