"""The pack's overview: deploys per environment per week, approval coverage, violations and
anomalies over time, access and protection changes, and what the ledger covers."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import pairwise
from typing import Any

from pipeledger.events import AuditEvent, EventKind, format_time
from pipeledger.period import Period
from pipeledger.policy.deployment_context import DeploymentContext

GAP_DAYS = 7  # a week or more with no event of a scope that has events around it is a gap


def week_start(moment: datetime) -> date:
    day = moment.date()
    return day - timedelta(days=day.weekday())


def weeks(period: Period) -> list[date]:
    """Monday of every ISO week that overlaps the period."""
    first, found = week_start(period.start), []
    last = (period.end - timedelta(microseconds=1)).date()
    while first <= last:
        found.append(first)
        first += timedelta(days=7)
    return found


@dataclass(frozen=True)
class TimedCounts:
    """Counts per (week, label)."""

    counts: dict[tuple[date, str], int]

    @classmethod
    def of(cls, items: Iterable[tuple[datetime, str]]) -> TimedCounts:
        return cls(dict(Counter((week_start(moment), label) for moment, label in items)))

    def get(self, week: date, label: str) -> int:
        return self.counts.get((week, label), 0)

    def labels(self) -> list[str]:
        return sorted({label for _, label in self.counts})


def weekly_rows(
    period: Period,
    deployments: Sequence[DeploymentContext],
    findings: Sequence[tuple[datetime, str]],
    anomalies: Sequence[AuditEvent],
    changes: Sequence[AuditEvent],
) -> list[dict[str, Any]]:
    deploys = TimedCounts.of((c.when, c.environment or "(none)") for c in deployments)
    verdicts = TimedCounts.of(findings)
    alerts = TimedCounts.of((a.occurred_at, "anomaly") for a in anomalies)
    moves = TimedCounts.of((c.occurred_at, c.kind.value) for c in changes)
    environments = deploys.labels()
    return [
        {
            "week": f"{week.isocalendar().year}-W{week.isocalendar().week:02d}",
            "start": week.isoformat(),
            "deployments": {env: deploys.get(week, env) for env in environments},
            "findings": {sev: verdicts.get(week, sev) for sev in ("error", "warning", "notice")},
            "anomalies": alerts.get(week, "anomaly"),
            "permission_changes": moves.get(week, EventKind.PERMISSION_CHANGE.value),
            "protection_changes": moves.get(week, EventKind.PROTECTION_CHANGE.value),
        }
        for week in weeks(period)
    ]


def approval_coverage(deployments: Sequence[DeploymentContext]) -> dict[str, Any]:
    """Of the deployments, how many had an approval, and one by someone other than the person
    who triggered or started the run."""
    approved = by_other = 0
    for ctx in deployments:
        approvers = {a.actor.login for a in ctx.approvals if a.action == "approved"}
        starters = {ctx.initial_actor, ctx.triggering_actor.login if ctx.triggering_actor else None}
        approved += bool(approvers)
        by_other += bool(approvers - starters - {None})
    total = len(deployments)
    return {
        "deployments": total,
        "approved": approved,
        "approved_by_someone_else": by_other,
        "rate": round(by_other / total, 4) if total else None,
    }


def coverage(events: Iterable[AuditEvent], period: Period) -> list[dict[str, Any]]:
    """Per scope (platform, instance, repository or owner): first and last event the ledger
    holds, events in the period, and the gaps of GAP_DAYS or more inside the period with
    none."""
    found = ScopeCoverage()
    for event in events:
        scope = event.scope
        found.add(
            event.platform, event.instance, scope.owner, scope.repository, event.occurred_at, period
        )
    return found.rows(period)


class ScopeCoverage:
    """The coverage table counted one event at a time: per scope two times, a count and the
    days of the period with events, so a reader that streams the ledger keeps no events."""

    def __init__(self) -> None:
        self.days: dict[tuple[str, str, str], set[date]] = defaultdict(set)
        self.first: dict[tuple[str, str, str], datetime] = {}
        self.last: dict[tuple[str, str, str], datetime] = {}
        self.in_period: Counter[tuple[str, str, str]] = Counter()

    def add(
        self,
        platform: str,
        instance: str,
        owner: str,
        repository: str | None,
        moment: datetime,
        period: Period,
    ) -> None:
        key = (platform, instance, f"{owner}/{repository}" if repository else owner)
        first, last = self.first.get(key), self.last.get(key)
        if first is None or moment < first:
            self.first[key] = moment
        if last is None or moment > last:
            self.last[key] = moment
        if period.contains(moment):
            self.in_period[key] += 1
            self.days[key].add(moment.date())

    def rows(self, period: Period) -> list[dict[str, Any]]:
        first, last = self.first, self.last
        return [
            {
                "platform": key[0],
                "instance": key[1],
                "scope": key[2],
                "first_event": format_time(first[key]),
                "last_event": format_time(last[key]),
                "events_in_period": self.in_period[key],
                "gaps": _gaps(sorted(self.days[key]), period, first[key], last[key]),
            }
            for key in sorted(first)
        ]


def _gaps(
    days: list[date], period: Period, first: datetime, last: datetime
) -> list[dict[str, Any]]:
    """Runs of GAP_DAYS or more days with no event, between the scope's first and last event
    as far as they fall inside the period."""
    start = max(first, period.start).date()
    end = min(last, period.end - timedelta(microseconds=1)).date()
    if start > end:
        return []
    marks = [
        start - timedelta(days=1),
        *[d for d in days if start <= d <= end],
        end + timedelta(days=1),
    ]
    found = []
    for before, after in pairwise(marks):
        empty = (after - before).days - 1
        if empty >= GAP_DAYS:
            found.append(
                {
                    "from": (before + timedelta(days=1)).isoformat(),
                    "to": (after - timedelta(days=1)).isoformat(),
                    "days": empty,
                }
            )
    return found
