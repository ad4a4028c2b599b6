"""``deploy-window``: deployments only on allowed days and hours in a named time zone, and
never during a freeze."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pipeledger.policy.deployment_context import DeploymentContext
from pipeledger.policy.model import RuleSpec, Violation
from pipeledger.policy.rules.base import EvaluationEnv, Rule, RuleProblem, links_of

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Window:
    days: frozenset[int]
    start: time
    end: time | None  # None: until midnight (24:00)

    def contains(self, local: datetime) -> bool:
        now = local.time().replace(tzinfo=None)
        today = local.weekday()
        if self.end is None:
            return today in self.days and now >= self.start
        if self.start < self.end:
            return today in self.days and self.start <= now < self.end
        # Runs past midnight: the evening belongs to the listed day, the morning to the next.
        yesterday = (today - 1) % 7
        return (today in self.days and now >= self.start) or (
            yesterday in self.days and now < self.end
        )

    def describe(self) -> str:
        days = _day_ranges(sorted(self.days))
        end = self.end.strftime("%H:%M") if self.end else "24:00"
        return f"{days} {self.start:%H:%M}-{end}"


def _day_ranges(days: list[int]) -> str:
    """``[0, 1, 2, 3, 4, 6]`` -> ``Mon-Fri, Sun``."""
    runs: list[list[int]] = []
    for day in days:
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ", ".join(_run_name(run) for run in runs)


def _run_name(run: list[int]) -> str:
    first, last = DAYS[run[0]].capitalize(), DAYS[run[-1]].capitalize()
    if len(run) == 1:
        return first
    return f"{first}-{last}" if len(run) > 2 else f"{first}, {last}"


@dataclass(frozen=True)
class Freeze:
    start: datetime
    end: datetime
    reason: str


class DeployWindowRule(Rule):
    type_name = "deploy-window"
    default_remedy = "Deploy inside the allowed window, or after the freeze ends."

    def __init__(self, spec: RuleSpec) -> None:
        super().__init__(spec)
        params = spec.params
        if not params.get("allow") and not params.get("freezes"):
            raise RuleProblem(
                "",
                "a deploy-window rule needs allow windows, freezes, or both",
                'Add allow: [{days: [mon, tue, wed, thu, fri], hours: "06:00-20:00"}].',
            )
        self.zone_name = str(params.get("timezone", "UTC"))
        self.zone = load_zone(self.zone_name)
        self.windows = [_window(w, i) for i, w in enumerate(params.get("allow") or [])]
        self.freezes = [_freeze(f, i, self.zone) for i, f in enumerate(params.get("freezes") or [])]

    def check_deployment(self, ctx: DeploymentContext, env: EvaluationEnv) -> Iterable[Violation]:
        local = ctx.when.astimezone(self.zone)
        shown = f"{local:%a %Y-%m-%d %H:%M} {self.zone_name}"
        for freeze in self.freezes:
            if freeze.start <= local < freeze.end:
                return [self._violation(ctx, f"falls in a freeze ({freeze.reason})", shown)]
        if self.windows and not any(w.contains(local) for w in self.windows):
            allowed = "; ".join(w.describe() for w in self.windows)
            return [self._violation(ctx, f"is outside the deploy window ({allowed})", shown)]
        return ()

    def _violation(self, ctx: DeploymentContext, why: str, shown: str) -> Violation:
        verb = "The pending deployment" if ctx.pending else "The deployment"
        return Violation(
            message=f"{verb} to {ctx.environment} at {shown} {why}.",
            evidence=ctx.evidence_ids(),
            links=links_of(ctx.deployment, ctx.run),
        )


def load_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        close = difflib.get_close_matches(name, sorted(available_timezones()), n=1)
        hint = f"Did you mean {close[0]}? " if close else ""
        raise RuleProblem(
            "/timezone",
            f"{name!r} is not a time zone",
            f"{hint}Write an IANA name such as UTC, Europe/Berlin or America/New_York.",
        ) from None


def _window(spec: Mapping[str, Any], index: int) -> Window:
    start_text, end_text = str(spec["hours"]).split("-")
    start = time.fromisoformat(start_text)
    end = None if end_text == "24:00" else time.fromisoformat(end_text)
    if end == start:
        raise RuleProblem(
            f"/allow/{index}/hours",
            f"the window {spec['hours']} is empty",
            'Write a range such as "06:00-20:00", or "00:00-24:00" for the whole day.',
        )
    return Window(days=frozenset(DAYS.index(d) for d in spec["days"]), start=start, end=end)


def _freeze(spec: Mapping[str, Any], index: int, zone: ZoneInfo) -> Freeze:
    start = _local_time(spec["from"], f"/freezes/{index}/from", zone)
    end = _local_time(spec["to"], f"/freezes/{index}/to", zone)
    if end <= start:
        raise RuleProblem(
            f"/freezes/{index}/to",
            f"the freeze ends ({spec['to']}) before it starts ({spec['from']})",
            "Make to later than from; a freeze over midnight ends on the next day.",
        )
    return Freeze(start=start, end=end, reason=str(spec["reason"]))


def _local_time(text: str, pointer: str, zone: ZoneInfo) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise RuleProblem(
            pointer,
            f"{text!r} is not a date-time",
            'Write a local time such as "2026-12-24T18:00" (or a date, "2026-12-24").',
        ) from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=zone)
    return moment
