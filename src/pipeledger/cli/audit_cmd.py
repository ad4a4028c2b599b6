"""``pipeledger audit``: evaluate recorded history against a policy, so violations that
happened outside any gate are found too. Exits 1 when findings reach ``--fail-on``."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from pipeledger.anomalies.mentions import alert_notes
from pipeledger.cli.command_context import Context, add_sink_option
from pipeledger.cli.findings_output import (
    add_policy_options,
    emit,
    parse_fail_on,
    parse_targets,
    require_policy,
)
from pipeledger.cli.options import add_flag, add_option
from pipeledger.errors import ExitCode, UsageError
from pipeledger.events import AuditEvent, format_time
from pipeledger.policy.audit import audit_ledger
from pipeledger.policy.engine import Evaluation
from pipeledger.policy.loader import LoadedPolicy, load_policy
from pipeledger.policy.record import audit_decisions
from pipeledger.policy.stream import DEFAULT_LOOK_AHEAD, DEFAULT_LOOK_BACK, Window
from pipeledger.report.model import Report, ReportFormat
from pipeledger.timeutil import parse_duration, parse_when


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "audit", help="evaluate recorded history in the ledger against a policy"
    )
    add_policy_options(parser)
    add_flag(
        parser,
        "--record",
        help="also record one verdict event per subject with findings, sent to every sink",
    )
    add_flag(
        parser,
        "--allow-empty",
        shown_default="exit 2, a pass on no data proves nothing",
        help="pass a period with nothing to judge",
    )
    add_option(parser, "--since", help="RFC 3339 time, date, or duration such as 30d")
    add_option(parser, "--until", help="RFC 3339 time, date, or duration")
    add_option(
        parser,
        "--look-back",
        default=f"{DEFAULT_LOOK_BACK.days}d",
        metavar="DURATION",
        help="how far before a deployment its runs, approvals and reviews are looked for",
    )
    add_option(
        parser,
        "--look-ahead",
        default=f"{DEFAULT_LOOK_AHEAD.days}d",
        metavar="DURATION",
        help="how long after a deployment appears its statuses, run and approvals are waited for",
    )
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
    window = Window(
        look_back=parse_duration(args.look_back, option="--look-back"),
        look_ahead=parse_duration(args.look_ahead, option="--look-ahead"),
    )
    notes = _unresolved_teams(loaded)
    sinks = context.open_sinks(args, reading=True)
    try:
        keep = any(t.output_format is ReportFormat.JUNIT for t in targets)
        evidence: dict[str, AuditEvent] | None = {} if args.record else None
        evaluation = audit_ledger(
            loaded, sinks.ledger, since, until, keep_subjects=keep, window=window, evidence=evidence
        )
        if evidence is not None:
            decisions = audit_decisions(evaluation.findings, evidence, loaded, datetime.now(UTC))
            sinks.append(decisions, {})
            context.err(f"pipeledger: recorded {len(decisions)} audit verdict event(s).")
        alerts = alert_notes(sinks.ledger, since, until)
    finally:
        sinks.close()
    for url, failure in sinks.failures.items():
        context.err(
            f"pipeledger: warning: sink {url} did not take the recorded verdicts:"
            f" {failure.describe()} They stay in the ledger; `pipeledger flush` delivers them."
        )
    for note in notes:
        context.err(f"pipeledger: warning: {note}")
    if not args.allow_empty:
        refuse_empty(loaded, evaluation, since, until)
    report = Report.of(
        "audit",
        loaded.policy,
        evaluation,
        fail_on,
        datetime.now(UTC),
        since=since,
        until=until,
        notes=(*notes, *alerts),
    )
    emit(report, targets, context)
    return int(ExitCode.VIOLATIONS if report.decision == "fail" else ExitCode.OK)


def refuse_empty(
    loaded: LoadedPolicy, evaluation: Evaluation, since: datetime | None, until: datetime | None
) -> None:
    """A gate that passes on zero data is a hole: a policy that judges deployments over a
    period with none is exit 2 unless --allow-empty. (Rules on single events are left alone:
    no access change in a period is the good answer, not a missing one.)"""
    if evaluation.deployments or not any(rule.judges_deployments for rule in loaded.rules):
        return
    raise UsageError(
        f"audit found no deployment {_period(since, until)} in the ledger, so there is"
        " nothing to pass or fail.",
        "Check --since/--until and that `pipeledger collect` covered these repositories;"
        " pass --allow-empty (PIPELEDGER_ALLOW_EMPTY=1) if an empty period is expected.",
    )


def _period(since: datetime | None, until: datetime | None) -> str:
    if since and until:
        return f"between {format_time(since)} and {format_time(until)}"
    if since:
        return f"since {format_time(since)}"
    if until:
        return f"before {format_time(until)}"
    return "at all"


def _unresolved_teams(loaded: LoadedPolicy) -> list[str]:
    missing = [t for t in loaded.policy.team_names() if t not in loaded.policy.teams]
    if not missing:
        return []
    return [
        f"the policy names team(s) {', '.join(missing)} without listing their members under"
        " teams:, so audit treats them as empty (check asks the platform instead)."
    ]
