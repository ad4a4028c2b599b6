"""Evaluates recorded history: every deployment (and single event) in a period, judged with
everything the ledger knows about it, whenever that happened."""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

from pipeledger.events import AuditEvent, EventKind
from pipeledger.facts import without_superseded
from pipeledger.policy.context import CONTEXT_KINDS, DeploymentContext, assemble, build_index
from pipeledger.policy.engine import Evaluation, evaluate
from pipeledger.policy.loader import LoadedPolicy
from pipeledger.policy.rules.base import EvaluationEnv
from pipeledger.sink import EventFilter, Ledger


@contextmanager
def collector_paused() -> Iterator[None]:
    """Loading a ledger allocates millions of objects that all stay alive until the end;
    the cycle collector would rescan them again and again for garbage that is not there,
    which doubles the time. Reference counting still frees everything as usual."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def needed_kinds(loaded: LoadedPolicy) -> tuple[EventKind, ...]:
    kinds = {k for rule in loaded.rules for k in rule.event_kinds}
    if any(rule.judges_deployments for rule in loaded.rules):
        kinds |= set(CONTEXT_KINDS)
    return tuple(sorted(kinds))


def audit_ledger(
    loaded: LoadedPolicy,
    ledger: Ledger,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    keep_subjects: bool = False,
) -> Evaluation:
    kinds = needed_kinds(loaded)
    with collector_paused():
        if set(CONTEXT_KINDS) <= set(kinds):
            # Deployment rules need nearly every record; reading all in chain order is
            # faster than a kind filter, which makes the store sort them back by seq.
            records = ledger.records(EventFilter())
            events = [r.event for r in records if r.event.kind in kinds]
        else:
            events = [r.event for r in ledger.records(EventFilter(kinds=kinds))]
        # Superseding events are of the kinds they supersede: both are in ``events`` or neither.
        events = without_superseded(events)
        return audit_events(loaded, events, since, until, keep_subjects=keep_subjects)


def audit_events(
    loaded: LoadedPolicy,
    events: Iterable[AuditEvent],
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    keep_subjects: bool = False,
    contexts: Sequence[DeploymentContext] | None = None,
) -> Evaluation:
    """``contexts``: the events' deployments when the caller has assembled them already."""
    events = list(events)
    judges_deployments = any(rule.judges_deployments for rule in loaded.rules)
    if not judges_deployments:
        contexts = []
    elif contexts is None:
        contexts = assemble(build_index(events))
    in_period = [ctx for ctx in contexts if _within(ctx.when, since, until)]
    kinds = {k for rule in loaded.rules for k in rule.event_kinds}
    singles = [e for e in events if e.kind in kinds and _within(e.occurred_at, since, until)]
    env = EvaluationEnv(dict(loaded.policy.teams))
    return evaluate(loaded, in_period, singles, env, keep_subjects=keep_subjects)


def _within(moment: datetime, since: datetime | None, until: datetime | None) -> bool:
    return (since is None or moment >= since) and (until is None or moment < until)
