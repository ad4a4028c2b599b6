"""``pipeledger metrics``: DORA's four keys from the ledger, as text, JSON or CSV."""

from __future__ import annotations

import argparse
import csv
import json
from datetime import timedelta
from typing import Any

from pipeledger.cli.command_context import Context, add_sink_option
from pipeledger.cli.options import add_option
from pipeledger.dora import DoraSettings, compute_metrics
from pipeledger.dora.deploys import DEFAULT_FAILURE_WINDOW, DEFAULT_HOTFIX_REFS, DEFAULT_PRODUCTION
from pipeledger.dora.table import CSV_COLUMNS, as_text, rows
from pipeledger.errors import ExitCode, UsageError
from pipeledger.events import AuditEvent
from pipeledger.ledger.facts import ledger_facts
from pipeledger.period import Period, parse_period, whole_span
from pipeledger.policy.deployment_context import deployment_contexts


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "metrics", help="DORA metrics (deploy frequency, lead time, failure rate, restore time)"
    )
    add_dora_options(parser)
    add_option(
        parser,
        "--period",
        shown_default="all",
        help="2024-Q1, 2024-03, 2024, 2024-01-01..2024-03-31 or 30d",
    )
    add_option(parser, "--format", default="text", choices=("text", "json", "csv"), help="output")
    add_sink_option(parser)
    return parser


def add_dora_options(parser: argparse.ArgumentParser) -> None:
    add_option(
        parser,
        "--production",
        default=list(DEFAULT_PRODUCTION),
        action="append",
        metavar="GLOB",
        help="environment names that are production; repeatable",
    )
    add_option(
        parser,
        "--hotfix-ref",
        default=list(DEFAULT_HOTFIX_REFS),
        action="append",
        metavar="GLOB",
        help="branches whose deploy fixes the one before it; repeatable",
    )
    add_option(
        parser,
        "--failure-window",
        default=DEFAULT_FAILURE_WINDOW.total_seconds() / 3600,
        type=float,
        metavar="HOURS",
        help="how long after a deploy a rollback or hotfix counts it as failed",
    )


def dora_settings(args: argparse.Namespace) -> DoraSettings:
    try:
        hours = float(args.failure_window)
    except (TypeError, ValueError):
        hours = -1.0
    if hours <= 0:
        raise UsageError(
            f"--failure-window {args.failure_window!r} is not a positive number of hours.",
            "Use e.g. 24.",
        )
    return DoraSettings(
        production=tuple(args.production) or DEFAULT_PRODUCTION,
        hotfix_refs=tuple(args.hotfix_ref) or DEFAULT_HOTFIX_REFS,
        failure_window=timedelta(hours=hours),
    )


def run(args: argparse.Namespace, context: Context) -> int:
    settings = dora_settings(args)
    requested = parse_period(args.period) if args.period else None
    sinks = context.open_sinks(args, reading=True)
    try:
        events = ledger_facts(sinks.ledger)
    finally:
        sinks.close()
    period = _period(requested, events)
    if not any(period.contains(event.occurred_at) for event in events):
        context.err(
            f"pipeledger: warning: the ledger holds no events in {period.label}, so every"
            " figure is zero; check --period and --sink, or collect that period first."
        )
    metrics = compute_metrics(deployment_contexts(events), period, settings)
    if args.format == "json":
        context.out(json.dumps(metrics.to_dict(), indent=2, sort_keys=True))
    elif args.format == "csv":
        writer = csv.DictWriter(context.stdout, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows(metrics))
    else:
        context.out(as_text(metrics))
    return int(ExitCode.OK)


def _period(requested: Period | None, events: list[AuditEvent]) -> Period:
    if requested is not None:
        return requested
    if not events:
        raise UsageError(
            "The ledger holds no events, so there is nothing to measure.",
            "Collect history first (pipeledger collect) or name another --sink.",
        )
    times = [event.occurred_at for event in events]
    return whole_span(min(times), max(times))
