"""What the ledger must hold for a pack to mean anything: events in the period, and
deployments to the ``--environment`` asked for. A pack of nothing would look like a clean
period to an auditor, so both are refused with what the ledger does hold."""

from __future__ import annotations

from collections.abc import Sequence

from pipeledger.errors import UsageError
from pipeledger.events import AuditEvent, EventKind, format_time
from pipeledger.evidence_pack.options import PackOptions

LISTED = 12  # environments named in the error, at most


def require_history(events: Sequence[AuditEvent], options: PackOptions, ledger: str) -> None:
    period = options.period
    if not events:
        raise UsageError(
            f"The ledger {ledger} holds no events, so there is nothing to report.",
            "Collect history first (pipeledger collect), or name the ledger with --sink.",
        )
    if not any(period.contains(event.occurred_at) for event in events):
        first = min(event.occurred_at for event in events)
        last = max(event.occurred_at for event in events)
        raise UsageError(
            f"The ledger {ledger} holds no events in {period.label} ({format_time(period.start)}"
            f" to {format_time(period.end)}); its events run from {format_time(first)} to"
            f" {format_time(last)}.",
            "Choose a --period inside that range, or collect that period first"
            " (pipeledger collect --since).",
        )
    if options.environment is not None:
        _require_environment(events, options.environment)


def _require_environment(events: Sequence[AuditEvent], wanted: str) -> None:
    known = {
        event.scope.environment
        for event in events
        if event.kind is EventKind.DEPLOYMENT and event.scope.environment
    }
    if wanted.lower() in {name.lower() for name in known}:
        return
    names = sorted(known, key=str.lower)
    listed = ", ".join(names[:LISTED]) + (" …" if len(names) > LISTED else "")
    raise UsageError(
        f"--environment {wanted!r}: no deployment in the ledger went to it"
        f" (it holds deployments to {listed or 'no environment'}).",
        "Name one of those environments (case does not matter), or leave --environment out.",
    )
