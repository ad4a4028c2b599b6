"""``pipeledger events``: query the ledger as a table, JSON or CSV."""

from __future__ import annotations

import argparse
import csv
import json
from collections.abc import Iterable
from typing import Any, TextIO

from pipeledger.cli.context import SINK_DEFAULTS, Context, add_sink_option
from pipeledger.errors import ExitCode, UsageError
from pipeledger.events import AuditEvent, EventKind, format_time
from pipeledger.facts import current_records
from pipeledger.sink import EventFilter
from pipeledger.timeutil import parse_when

DEFAULTS: dict[str, Any] = {
    **SINK_DEFAULTS,
    "kind": [],
    "actor": None,
    "repository": None,
    "environment": None,
    "since": None,
    "until": None,
    "format": "table",
    "all": False,
}
COLUMNS = ("occurred_at", "kind", "action", "actor", "repository", "environment", "ref", "outcome")


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser("events", help="query the ledger")
    add_sink_option(parser)
    parser.add_argument("--kind", action="append", help="event kind; repeatable")
    parser.add_argument("--actor", help="actor login")
    parser.add_argument("--repository", help="OWNER/NAME")
    parser.add_argument("--environment", help="deployment environment")
    parser.add_argument("--since", help="RFC 3339 time, date, or duration such as 7d")
    parser.add_argument("--until", help="RFC 3339 time, date, or duration")
    parser.add_argument("--format", choices=("table", "json", "csv"))
    parser.add_argument(
        "--all",
        action="store_const",
        const=True,
        help="also show events a later event superseded (one change seen by two sources)",
    )
    return parser


def build_filter(args: argparse.Namespace) -> EventFilter:
    kinds: list[EventKind] = []
    for kind in args.kind:
        try:
            kinds.append(EventKind(kind))
        except ValueError:
            raise UsageError(
                f"--kind {kind!r} is not an event kind.",
                f"Use one of: {', '.join(k.value for k in EventKind)}.",
            ) from None
    return EventFilter(
        kinds=tuple(kinds),
        actor=args.actor,
        repository=args.repository,
        environment=args.environment,
        since=parse_when(args.since, option="--since") if args.since else None,
        until=parse_when(args.until, option="--until") if args.until else None,
    )


def run(args: argparse.Namespace, context: Context) -> int:
    if args.format not in ("table", "json", "csv"):
        raise UsageError(f"--format {args.format!r} is unknown.", "Use table, json or csv.")
    selection = build_filter(args)
    sinks = context.open_sinks(args)
    try:
        records = current_records(sinks.ledger, selection, include_superseded=bool(args.all))
        events = (record.event for record in records)
        {"table": _table, "json": _json, "csv": _csv}[args.format](events, context.stdout)
    finally:
        sinks.close()
    return int(ExitCode.OK)


def row(event: AuditEvent) -> dict[str, str]:
    repository = f"{event.scope.owner}/{event.scope.repository}" if event.scope.repository else ""
    return {
        "occurred_at": format_time(event.occurred_at),
        "kind": event.kind.value,
        "action": event.action,
        "actor": event.actor.login or f"({event.actor.type.value})",
        "repository": repository,
        "environment": event.scope.environment or "",
        "ref": event.ref or "",
        "outcome": event.outcome or "",
    }


def _table(events: Iterable[AuditEvent], out: TextIO) -> None:
    rows = [row(event) for event in events]
    widths = {c: max([len(c), *(len(r[c]) for r in rows)]) for c in COLUMNS}
    out.write("  ".join(c.upper().ljust(widths[c]) for c in COLUMNS).rstrip() + "\n")
    for each in rows:
        out.write("  ".join(each[c].ljust(widths[c]) for c in COLUMNS).rstrip() + "\n")


def _json(events: Iterable[AuditEvent], out: TextIO) -> None:
    out.write("[")
    for index, event in enumerate(events):
        out.write(("," if index else "") + "\n" + json.dumps(event.to_dict(), sort_keys=True))
    out.write("\n]\n")


def _csv(events: Iterable[AuditEvent], out: TextIO) -> None:
    writer = csv.DictWriter(out, fieldnames=[*COLUMNS, "id"], lineterminator="\n")
    writer.writeheader()
    for event in events:
        writer.writerow({**row(event), "id": event.id})
