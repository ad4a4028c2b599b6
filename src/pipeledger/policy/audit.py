"""Evaluates recorded history: every deployment (and single event) in a period, judged with
everything the ledger knows about it, whenever that happened."""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

from pipeledger.events import AuditEvent, EventKind
from pipeledger.facts import FACT_KINDS, ledger_superseded_ids
from pipeledger.ledger.chain import event_from_body
from pipeledger.policy.deployment_context import (
    CONTEXT_KINDS,
    DeploymentContext,
    assemble,
    build_index,
)
from pipeledger.policy.engine import Evaluation, Judge, context_events, evaluate
from pipeledger.policy.loader import LoadedPolicy
from pipeledger.policy.model import Finding
from pipeledger.policy.rules.base import EvaluationEnv
from pipeledger.policy.stream import DeploymentStream, SeqSet, Window
from pipeledger.sinks.contract import EventFilter, Ledger


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
    window: Window | None = None,
    evidence: dict[str, AuditEvent] | None = None,
) -> Evaluation:
    """Judge the ledger's history in ``[since, until)`` as a stream (see
    :mod:`pipeledger.policy.stream`): the same verdict as :func:`audit_events` over every
    event, in memory bounded by one window of history. ``evidence``, when given, receives
    every event a finding names as evidence (for ``audit --record``)."""
    window = window or Window()
    kinds = needed_kinds(loaded)
    single_kinds = frozenset(k for rule in loaded.rules for k in rule.event_kinds)
    judges_deployments = any(rule.judges_deployments for rule in loaded.rules)
    judge = Judge(loaded, EvaluationEnv(dict(loaded.policy.teams)), keep_subjects=keep_subjects)
    counted = SeqSet()

    def on_deployment(ctx: DeploymentContext, first_seq: int) -> None:
        if not _within(ctx.when, since, until):
            return
        found = judge.deployment(ctx, first_seq)
        members = context_events(ctx)
        for event in members:
            counted.add(stream.seq_of(event))
        _keep_evidence(evidence, found, members)

    stream = DeploymentStream(window, on_deployment)
    wanted = frozenset(kind.value for kind in kinds)
    with collector_paused():
        gone = _superseded(ledger, kinds)
        for stored in ledger.stored_bodies(_selection(kinds, since, until, window)):
            if stored.kind not in wanted:
                continue
            event = event_from_body(stored.seq, stored.body)
            if event.id in gone:
                continue
            if event.kind in single_kinds and _within(event.occurred_at, since, until):
                counted.add(stored.seq)
                _keep_evidence(evidence, judge.event(event, stored.seq), [event])
            if judges_deployments and event.kind in CONTEXT_KINDS:
                stream.add(event, stored.seq)
        stream.close()
    return judge.finish(counted.count)


def _selection(
    kinds: tuple[EventKind, ...], since: datetime | None, until: datetime | None, window: Window
) -> EventFilter:
    """What to read, in time order: the period widened by the window. When deployments are
    judged nearly every record is needed, and filtering kinds in Python beats making the
    store merge several kinds back into time order."""
    return EventFilter(
        kinds=() if set(CONTEXT_KINDS) <= set(kinds) else kinds,
        since=since - window.reach if since else None,
        until=until + window.look_ahead if until else None,
        by_time=True,
    )


def _superseded(ledger: Ledger, kinds: tuple[EventKind, ...]) -> frozenset[str]:
    """Ids replaced by later facts; superseding events are of the kinds they supersede."""
    if not any(kind in FACT_KINDS for kind in kinds):
        return frozenset()
    return ledger_superseded_ids(ledger)


def _keep_evidence(
    evidence: dict[str, AuditEvent] | None, found: list[Finding], events: list[AuditEvent]
) -> None:
    if evidence is None or not found:
        return
    named = {ident for finding in found for ident in finding.evidence}
    evidence.update((event.id, event) for event in events if event.id in named)


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
