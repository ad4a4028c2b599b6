"""What the ledger must hold for a pack to mean anything: events in the period, and
deployments to the ``--environment`` asked for. A pack of nothing would look like a clean
period to an auditor, so both are refused with what the ledger does hold."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from pipeledger.errors import UsageError
from pipeledger.events import AuditEvent, EventKind, format_time
from pipeledger.evidence_pack.options import PackOptions
from pipeledger.period import Period

LISTED = 12  # environments named in the error, at most


@dataclass
class HistoryFacts:
    """What the checks below need of the ledger's events, counted one event at a time."""

    events: int = 0
    first: datetime | None = None
    last: datetime | None = None
    in_period: bool = False
    environments: set[str] = field(default_factory=set)  # of deployment events

    def add(self, moment: datetime, kind: str, environment: str | None, period: Period) -> None:
        self.events += 1
        if self.first is None or moment < self.first:
            self.first = moment
        if self.last is None or moment > self.last:
            self.last = moment
        self.in_period = self.in_period or period.contains(moment)
        if kind == EventKind.DEPLOYMENT.value and environment:
            self.environments.add(environment)

    @classmethod
    def of(cls, events: Sequence[AuditEvent], period: Period) -> HistoryFacts:
        found = cls()
        for event in events:
            found.add(event.occurred_at, event.kind.value, event.scope.environment, period)
        return found


def require_history(events: Sequence[AuditEvent], options: PackOptions, ledger: str) -> None:
    require_facts(HistoryFacts.of(events, options.period), options, ledger)


def require_facts(facts: HistoryFacts, options: PackOptions, ledger: str) -> None:
    period = options.period
    if not facts.events or facts.first is None or facts.last is None:
        raise UsageError(
            f"The ledger {ledger} holds no events, so there is nothing to report.",
            "Collect history first (pipeledger collect), or name the ledger with --sink.",
        )
    if not facts.in_period:
        raise UsageError(
            f"The ledger {ledger} holds no events in {period.label} ({format_time(period.start)}"
            f" to {format_time(period.end)}); its events run from {format_time(facts.first)} to"
            f" {format_time(facts.last)}.",
            "Choose a --period inside that range, or collect that period first"
            " (pipeledger collect --since).",
        )
    if options.environment is not None:
        _require_environment(facts.environments, options.environment)


def _require_environment(known: set[str], wanted: str) -> None:
    if wanted.lower() in {name.lower() for name in known}:
        return
    names = sorted(known, key=str.lower)
    listed = ", ".join(names[:LISTED]) + (" …" if len(names) > LISTED else "")
    raise UsageError(
        f"--environment {wanted!r}: no deployment in the ledger went to it"
        f" (it holds deployments to {listed or 'no environment'}).",
        "Name one of those environments (case does not matter), or leave --environment out.",
    )
