"""``pipeledger anomalies``: alerts on what no policy foresaw, learned from the ledger's own
history; ``anomalies ack ID --reason ...`` acknowledges one so it is not raised again.
Alerts are not violations: the command exits 0 whether or not it finds any."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeledger.anomalies.engine import Detection, Selection, detect_in_ledger
from pipeledger.anomalies.model import AlertSeverity
from pipeledger.anomalies.render import as_report, render_json, render_text
from pipeledger.anomalies.settings import AnomalySettings
from pipeledger.cli.anomalies_ack import add_ack_parser, run_ack
from pipeledger.cli.anomalies_record import record_alerts, settings_from
from pipeledger.cli.command_context import Context, add_sink_option
from pipeledger.cli.findings_output import Target, emit, parse_targets
from pipeledger.cli.options import add_flag, add_option
from pipeledger.errors import ExitCode, SinkError, UsageError
from pipeledger.report.model import ReportFormat
from pipeledger.timeutil import parse_when

FORMATS = ("text", "json", "sarif", "github", "gitlab")


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "anomalies",
        help="alerts on unusual deploys, approvals and access changes, learned from history",
    )
    add_option(
        parser, "--since", help="judge from this time: RFC 3339, date or duration such as 7d"
    )
    add_option(parser, "--until", help="judge until this time: RFC 3339, date or duration")
    add_option(parser, "--repository", metavar="OWNER/NAME", help="only this repository")
    add_option(parser, "--environment", metavar="NAME", help="only this environment")
    add_option(
        parser, "--min-severity", default="low", help="lowest severity shown: low, medium, high"
    )
    add_option(parser, "--format", default="text", help=f"on stdout: {', '.join(FORMATS)}")
    add_option(
        parser,
        "--output",
        default=[],
        action="append",
        metavar="FORMAT=PATH",
        help="also write a format to a file, e.g. sarif=anomalies.sarif; repeatable",
    )
    add_option(
        parser,
        "--policy",
        metavar="FILE",
        help="policy file whose anomalies: section tunes detectors",
    )
    add_flag(
        parser,
        "--record",
        help="append each new alert once as an anomaly event, sent to every sink",
    )
    add_sink_option(parser)
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    add_ack_parser(actions)
    return parser


def run(args: argparse.Namespace, context: Context) -> int:
    if getattr(args, "action", None) == "ack":
        return run_ack(args, context, _settings(args))
    selection = selection_from(args)
    settings = _settings(args)
    targets = _targets(args)
    now = datetime.now(UTC)
    sinks = context.open_sinks(args, reading=True)
    try:
        detection = detect_in_ledger(sinks.ledger, settings, selection)
        if args.record:
            recorded = record_alerts(sinks, detection, now)
            context.err(f"pipeledger: recorded {recorded} new anomaly alert(s).")
    finally:
        sinks.close()
    for url, failure in sinks.failures.items():
        context.err(
            f"pipeledger: warning: sink {url} did not take the recorded alerts:"
            f" {failure.describe()} They stay in the ledger; `pipeledger flush` delivers them."
        )
    for target in targets:
        _emit(target, detection, selection, args, context, now)
    return int(ExitCode.OK)


def selection_from(args: argparse.Namespace) -> Selection:
    since = parse_when(args.since, option="--since") if args.since else None
    until = parse_when(args.until, option="--until") if args.until else None
    if since and until and since >= until:
        raise UsageError("--since must be earlier than --until.")
    try:
        floor = AlertSeverity(str(args.min_severity).lower())
    except ValueError:
        raise UsageError(
            f"--min-severity {args.min_severity!r} is not a severity.", "Use low, medium or high."
        ) from None
    return Selection(
        since=since,
        until=until,
        repository=args.repository,
        environment=args.environment,
        min_severity=floor,
    )


def _settings(args: argparse.Namespace) -> AnomalySettings:
    return settings_from(args.policy)


def _targets(args: argparse.Namespace) -> list[Target]:
    targets = parse_targets(args.format, args.output)
    for target in targets:
        if target.output_format.value not in FORMATS:
            raise UsageError(
                f"{target.output_format.value} is not an anomalies format.",
                f"Use one of: {', '.join(FORMATS)}.",
            )
    return targets


def _emit(
    target: Target,
    detection: Detection,
    selection: Selection,
    args: argparse.Namespace,
    context: Context,
    now: datetime,
) -> None:
    output = target.output_format
    if output in (ReportFormat.SARIF, ReportFormat.GITHUB, ReportFormat.GITLAB):
        emit(as_report(detection, args.policy, now), [target], context)
        return
    text = (
        render_json(detection, selection, now)
        if output is ReportFormat.JSON
        else render_text(detection)
    )
    if target.path is None:
        context.stdout.write(context.masker.mask(text))
    else:
        _write(target.path, context.masker.mask(text))


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise SinkError(
            f"Cannot write the anomalies file {path}: {error.strerror}.",
            "Check that its directory exists and is writable.",
        ) from None
