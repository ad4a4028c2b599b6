"""``pipeledger events``: query the ledger, oldest first, as a table for people or JSON,
JSONL or CSV for tools."""

from __future__ import annotations

import argparse
import csv
import heapq
import io
from collections.abc import Iterable
from dataclasses import replace
from typing import Any, TextIO

from pipeledger.cli.command_context import Context, add_sink_option
from pipeledger.cli.event_rows import Table, data_row
from pipeledger.cli.options import add_flag, add_option
from pipeledger.errors import ExitCode, UsageError
from pipeledger.events import AuditEvent, EventKind
from pipeledger.facts import current_records, ledger_superseded_ids
from pipeledger.json_codec import loads
from pipeledger.printable import defuse_commands, one_line, terminal_safe
from pipeledger.provenance import build as build_provenance
from pipeledger.sinks.contract import EventFilter, Ledger
from pipeledger.timeutil import parse_when

FORMATS = ("table", "json", "jsonl", "csv")


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser("events", help="query the ledger")
    filters = parser.add_argument_group("filters (combined with AND)")
    add_option(
        filters,
        "--kind",
        default=[],
        action="append",
        metavar="KIND",
        help="event kind, e.g. deployment; repeatable",
    )
    add_option(filters, "--actor", metavar="LOGIN", help="who did it: the platform username")
    add_option(filters, "--repository", metavar="OWNER/NAME", help="where it happened")
    add_option(filters, "--environment", metavar="NAME", help="deployment environment")
    add_option(
        filters,
        "--deployment",
        metavar="DEPLOYMENT",
        help="the events of one deployment (its run, approvals, reviews, statuses, gate"
        " verdicts): platform id, OWNER/REPO#ID, OWNER/REPO@SHA or the run/pipeline URL",
    )
    add_flag(
        filters,
        "--all",
        help="also show events a later event superseded: one change seen by two sources",
    )
    add_option(filters, "--since", metavar="WHEN", help="RFC 3339 time, date, or e.g. 7d")
    add_option(filters, "--until", metavar="WHEN", help="RFC 3339 time, date, or duration")
    output = parser.add_argument_group("output")
    add_option(
        output,
        "--format",
        default="table",
        choices=FORMATS,
        help="table, json, jsonl (one per line) or csv",
    )
    add_option(output, "--limit", type=int, metavar="N", help="at most N events")
    add_flag(output, "--reverse", help="newest first; with --limit, the N newest")
    add_sink_option(parser)
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
    if args.format not in FORMATS:
        raise UsageError(f"--format {args.format!r} is unknown.", f"Use {', '.join(FORMATS)}.")
    limit = _limit(args.limit)
    selection = build_filter(args)
    sinks = context.open_sinks(args, reading=True)
    every = bool(args.all)
    found: list[AuditEvent] = []
    found_documents: list[str] | None = None
    try:
        if args.deployment:
            records = current_records(sinks.ledger, EventFilter(), include_superseded=every)
            everything = [record.event for record in records]
            found = [e for e in of_deployment(everything, args.deployment) if selection.matches(e)]
        elif args.format in ("json", "jsonl"):
            found_documents = stored_documents(sinks.ledger, selection, include_superseded=every)
        else:
            records = current_records(sinks.ledger, selection, include_superseded=every)
            found = [record.event for record in records]
    finally:
        sinks.close()
    if found_documents is not None:  # already in time order
        shown = found_documents[::-1] if args.reverse else found_documents
        shown = shown[:limit] if limit is not None else shown
        _write_documents(args.format, shown, context)
        _say_what_was_left_out(context, shown=len(shown), total=len(found_documents))
        return int(ExitCode.OK)
    events = ordered(found, limit=limit, newest_first=bool(args.reverse))
    if args.format in ("json", "jsonl"):
        _write_documents(args.format, [event.canonical_json() for event in events], context)
    else:
        _write(args.format, events, context)
    _say_what_was_left_out(context, shown=len(events), total=len(found))
    return int(ExitCode.OK)


def stored_documents(
    ledger: Ledger, selection: EventFilter, *, include_superseded: bool
) -> list[str]:
    """The selected events as stored, by time (ties in ledger order): what ``--format
    json``/``jsonl`` prints. A stored body is the event's canonical JSON — the very text its
    hash covers — so it is printed as it is, parsed only to leave out a superseded fact."""
    gone = frozenset() if include_superseded else ledger_superseded_ids(ledger)
    bodies = ledger.stored_bodies(replace(selection, by_time=True))
    if not gone:
        return [stored.body for stored in bodies]
    return [stored.body for stored in bodies if loads(stored.body).get("id") not in gone]


def _limit(value: Any) -> int | None:
    if value is None:
        return None
    try:
        number = int(str(value))
    except ValueError:
        number = -1
    if number < 1:
        raise UsageError(f"--limit {value!r} is not a positive whole number.", "Use e.g. 20.")
    return number


def of_deployment(events: list[AuditEvent], name: str) -> list[AuditEvent]:
    """The events that make up one deployment, as ``provenance`` joins them."""
    found = build_provenance(events, name)
    ctx = found.context
    members = [ctx.deployment, *ctx.statuses, *ctx.approvals, *ctx.reviews]
    members += [*found.gate_decisions, *found.bypasses]
    if ctx.run is not None:
        members.append(ctx.run)
    return list({event.id: event for event in members}.values())


def ordered(
    events: Iterable[AuditEvent], *, limit: int | None, newest_first: bool
) -> list[AuditEvent]:
    """By time (ties in ledger order); with a limit, the first N in that order."""
    numbered = list(enumerate(events))

    def key(item: tuple[int, AuditEvent]) -> tuple[Any, int]:
        return (item[1].occurred_at, item[0])

    if limit is not None:
        pick = heapq.nlargest if newest_first else heapq.nsmallest
        chosen = pick(limit, numbered, key=key)
    else:
        chosen = sorted(numbered, key=key, reverse=newest_first)
    return [event for _, event in chosen]


def _write_documents(output_format: str, documents: list[str], context: Context) -> None:
    """Each event's canonical JSON (sorted keys, compact, UTF-8): one array, or one a line."""
    if output_format == "json":
        text = "[\n" + ",\n".join(documents) + "\n]\n" if documents else "[\n]\n"
    else:
        text = "".join(document + "\n" for document in documents)
    # JSON escapes every control character itself; secrets are masked and workflow commands
    # defused, as in every other output.
    context.stdout.write(defuse_commands(context.masker.mask(text)))


def _write(output_format: str, events: list[AuditEvent], context: Context) -> None:
    if output_format == "table":
        if not events:
            return
        table = Table.of(events, clean=lambda text: one_line(context.masker.mask(text), 10_000))
        if context.colors(context.stdout):
            table.print(context.console())
        else:
            table.write(context.stdout)
        return
    buffer = io.StringIO()
    _csv(events, buffer)
    # JSON escapes every control character itself; CSV cells are made visible. Secrets are
    # masked and workflow commands defused in all of them, as in every other output.
    text = context.masker.mask(buffer.getvalue())
    safe = terminal_safe(text) if output_format == "csv" else defuse_commands(text)
    context.stdout.write(safe)


def _say_what_was_left_out(context: Context, *, shown: int, total: int) -> None:
    if total == 0:
        context.note("pipeledger: no events match.")
    elif shown < total:
        context.note(f"pipeledger: showing {shown} of {total} events (--limit).")


def _csv(events: Iterable[AuditEvent], out: TextIO) -> None:
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(data_row(event) for event in events)


CSV_FIELDS = [
    "time",
    "kind",
    "action",
    "actor",
    "subject",
    "change",
    "repository",
    "environment",
    "ref",
    "outcome",
    "sha",
    "id",
]
