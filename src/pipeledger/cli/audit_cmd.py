"""``pipeledger audit``: evaluate recorded history against a policy, so violations that
happened outside any gate are found too. Exits 1 when findings reach ``--fail-on``."""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from pipeledger.cli.context import Context, add_sink_option
from pipeledger.cli.findings_output import (
    add_policy_options,
    emit,
    parse_fail_on,
    parse_targets,
    require_policy,
)
from pipeledger.errors import ExitCode, UsageError
from pipeledger.events import AuditEvent, EventKind
from pipeledger.policy.context import CONTEXT_KINDS, assemble, build_index
from pipeledger.policy.engine import Evaluation, evaluate
from pipeledger.policy.loader import LoadedPolicy, load_policy
from pipeledger.policy.rules.base import EvaluationEnv
from pipeledger.report.model import OutputFormat, Report
from pipeledger.sink import EventFilter, Ledger
from pipeledger.timeutil import parse_when

DEFAULTS: dict[str, Any] = {
    "policy": None,
    "sink": [],
    "since": None,
    "until": None,
    "format": "text",
    "output": [],
    "fail_on": "error",
}


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "audit", help="evaluate recorded history in the ledger against a policy"
    )
    add_policy_options(parser)
    parser.add_argument("--since", help="RFC 3339 time, date, or duration such as 30d")
    parser.add_argument("--until", help="RFC 3339 time, date, or duration")
    add_sink_option(parser)
    return parser


def run(args: argparse.Namespace, context: Context) -> int:
    loaded = load_policy(require_policy(args, "audit"))
    fail_on = parse_fail_on(args.fail_on)
    targets = parse_targets(args.format, args.output)
    since = parse_when(args.since, option="--since") if args.since else None
    until = parse_when(args.until, option="--until") if args.until else None
    if since and until and since >= until:
        raise UsageError("--since must be earlier than --until.")
    notes = _unresolved_teams(loaded)
    sinks = context.open_sinks(args)
    try:
        keep = any(t.output_format is OutputFormat.JUNIT for t in targets)
        evaluation = audit_ledger(loaded, sinks.ledger, since, until, keep_subjects=keep)
    finally:
        sinks.close()
    for note in notes:
        context.err(f"pipeledger: warning: {note}")
    failed = evaluation.fails(fail_on)
    report = Report(
        command="audit",
        policy=loaded.policy,
        decision="fail" if failed else "pass",
        fail_on=fail_on,
        evaluation=evaluation,
        generated_at=datetime.now(UTC),
        since=since,
        until=until,
        notes=tuple(notes),
    )
    emit(report, targets, context)
    return int(ExitCode.VIOLATIONS if failed else ExitCode.OK)


def audit_ledger(
    loaded: LoadedPolicy,
    ledger: Ledger,
    since: datetime | None,
    until: datetime | None,
    *,
    keep_subjects: bool = False,
) -> Evaluation:
    """Deployments (and single events) in ``[since, until)``, judged with everything the
    ledger knows about them, whenever it happened."""
    event_kinds = {k for rule in loaded.rules for k in rule.event_kinds}
    judges_deployments = any(rule.judges_deployments for rule in loaded.rules)
    kinds = set(event_kinds) | (set(CONTEXT_KINDS) if judges_deployments else set())
    events = [record.event for record in ledger.records(EventFilter(kinds=tuple(sorted(kinds))))]
    contexts = (
        [ctx for ctx in assemble(build_index(events)) if _within(ctx.when, since, until)]
        if judges_deployments
        else []
    )
    singles = _singles(events, event_kinds, since, until)
    env = EvaluationEnv(dict(loaded.policy.teams))
    return evaluate(loaded, contexts, singles, env, keep_subjects=keep_subjects)


def _singles(
    events: Iterable[AuditEvent],
    kinds: set[EventKind],
    since: datetime | None,
    until: datetime | None,
) -> list[AuditEvent]:
    return [e for e in events if e.kind in kinds and _within(e.occurred_at, since, until)]


def _within(moment: datetime, since: datetime | None, until: datetime | None) -> bool:
    return (since is None or moment >= since) and (until is None or moment < until)


def _unresolved_teams(loaded: LoadedPolicy) -> list[str]:
    missing = [t for t in loaded.policy.team_names() if t not in loaded.policy.teams]
    if not missing:
        return []
    return [
        f"the policy names team(s) {', '.join(missing)} without listing their members under"
        " teams:, so audit treats them as empty (check asks the platform instead)."
    ]
