"""``pipeledger provenance DEPLOYMENT``: one deployment joined to everything that made it
possible, as text for people or JSON for evidence files."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from pipeledger.cli.command_context import Context, add_sink_option
from pipeledger.cli.options import add_option
from pipeledger.errors import ExitCode, UsageError
from pipeledger.events import AuditEvent, format_time
from pipeledger.facts import without_superseded
from pipeledger.provenance import Provenance, build
from pipeledger.sinks.contract import EventFilter

PROVENANCE_SCHEMA = "pipeledger/provenance/v1"


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "provenance", help="join one deployment to its trigger, approvals, review and context"
    )
    parser.add_argument(
        "deployment",
        help="deployment id, OWNER/REPO#ID, OWNER/REPO@SHA, the run's or pipeline's URL, or"
        " an event id",
    )
    add_option(parser, "--format", default="text", choices=("text", "json"), help="output")
    add_option(
        parser, "--days", default=7.0, type=float, help="how far back to look for access changes"
    )
    add_sink_option(parser)
    return parser


def run(args: argparse.Namespace, context: Context) -> int:
    if float(args.days) < 0:
        raise UsageError("--days must not be negative.")
    sinks = context.open_sinks(args, reading=True)
    try:
        events = without_superseded(record.event for record in sinks.ledger.records(EventFilter()))
        provenance = build(events, args.deployment, sinks.ledger, timedelta(days=float(args.days)))
    finally:
        sinks.close()
    if args.format == "json":
        context.out(json.dumps(as_json(provenance), indent=2, sort_keys=True))
    else:
        context.out(as_text(provenance))
    return int(ExitCode.OK)


def as_json(provenance: Provenance) -> dict[str, Any]:
    ctx = provenance.context

    def dump(events: tuple[AuditEvent, ...] | list[AuditEvent]) -> list[dict[str, Any]]:
        return [event.to_dict() for event in events]

    return {
        "schema": PROVENANCE_SCHEMA,
        "deployment": {
            "id": ctx.deployment_key,
            "repository": ctx.repository,
            "environment": ctx.environment,
            "ref": ctx.ref,
            "sha": ctx.sha,
            "at": format_time(ctx.when),
            "statuses": dump(list(ctx.statuses)),
        },
        "run": ctx.run.to_dict() if ctx.run else None,
        "approvals": dump(ctx.approvals),
        "reviews": dump(provenance.reviews),
        "gate_decisions": dump(provenance.gate_decisions),
        "bypasses": dump(provenance.bypasses),
        "protections_in_force": {
            "observed_at": format_time(provenance.protections_observed_at)
            if provenance.protections_observed_at
            else None,
            "rules": [rule.to_dict() for rule in provenance.protections],
        },
        "access_changes": dump(provenance.access_changes),
        "people": {login: list(parts) for login, parts in provenance.people.items()},
        "concerns": list(provenance.concerns),
        "anomalies": [_alert_json(a, provenance) for a in provenance.anomalies],
    }


def _alert_json(alert: AuditEvent, provenance: Provenance) -> dict[str, Any]:
    ack = provenance.acknowledgements.get(str(alert.attributes.get("alert_id")))
    return {
        "id": alert.attributes.get("alert_id"),
        "detector": alert.attributes.get("detector"),
        "severity": alert.attributes.get("severity"),
        "message": alert.attributes.get("message"),
        "acknowledged": {"by": ack.actor.login, "reason": ack.attributes.get("reason")}
        if ack
        else None,
    }


def _alert_line(alert: AuditEvent, provenance: Provenance) -> str:
    ack = provenance.acknowledgements.get(str(alert.attributes.get("alert_id")))
    note = f" (acknowledged by {ack.actor.login}: {ack.attributes.get('reason')})" if ack else ""
    severity = str(alert.attributes.get("severity", "")).upper()
    return (
        f"  {severity} {alert.attributes.get('detector')}: {alert.attributes.get('message')}{note}"
    )


def as_text(provenance: Provenance) -> str:
    ctx = provenance.context
    lines = [
        f"Deployment {ctx.deployment_key} of {ctx.repository} to {ctx.environment}",
        f"  {ctx.ref or '?'} at {(ctx.sha or '?')[:12]}, {format_time(ctx.when)}",
        f"  statuses: {', '.join(s.action for s in ctx.statuses)}",
        "",
        "Trigger:",
    ]
    if ctx.run is None:
        lines.append("  (no run recorded)")
    else:
        rerun = (
            ""
            if ctx.initial_actor in (None, ctx.run.actor.login)
            else (f", re-running a run started by {ctx.initial_actor}")
        )
        lines.append(
            f"  {ctx.run.actor.login} ({ctx.run.actor.type.value}) ran"
            f" {ctx.run.attributes.get('workflow', 'the pipeline')} {ctx.run_id}{rerun}"
        )
    lines += ["", "Approvals:"] + (
        [_event_line(a, a.action) for a in ctx.approvals] or ["  (none recorded)"]
    )
    lines += ["", "Code review:"] + (
        [_review_line(r) for r in provenance.reviews] or ["  (none recorded)"]
    )
    lines += _protection_lines(provenance)
    changes = provenance.access_changes
    lines += ["", f"Access and protection changes in the {_span(provenance.lookback)} before:"]
    lines += [_change_line(c) for c in changes] or ["  (none)"]
    lines += ["", "Gate decisions:"] + (
        [_event_line(d, d.action) for d in provenance.gate_decisions] or ["  (none recorded)"]
    )
    if provenance.bypasses:
        lines += ["", "Bypasses:"] + [_event_line(b, "bypassed") for b in provenance.bypasses]
    if provenance.anomalies:
        lines += ["", "Anomaly alerts:"] + [
            _alert_line(a, provenance) for a in provenance.anomalies
        ]
    lines += ["", "People:"]
    lines += [f"  {login}: {', '.join(parts)}" for login, parts in provenance.people.items()]
    lines += ["", "Concerns:"] + ([f"  - {c}" for c in provenance.concerns] or ["  (none)"])
    return "\n".join(lines)


def _event_line(event: AuditEvent, what: str) -> str:
    return f"  {format_time(event.occurred_at)}  {event.actor.login or '(unknown)'} {what}"


def _review_line(review: AuditEvent) -> str:
    target = review.target or {}
    mark = "!" if target.get("type") == "merge_request" else "#"
    unmerged = ""
    if not (target.get("merged") or target.get("merged_at") or target.get("state") == "merged"):
        head = str(target.get("head") or "").removeprefix("refs/heads/")
        unmerged = f" (unmerged{', from ' + head if head else ''})"
    return (
        f"  {review.actor.login} {review.action} {mark}{target.get('number')}"
        f" by {target.get('author')}{unmerged} at {format_time(review.occurred_at)}"
    )


def _change_line(change: AuditEvent) -> str:
    target = change.target or {}
    subject = str(target.get("login") or target.get("name") or target.get("type") or "?")
    if target.get("setting"):
        subject += f" {target['setting']}"
    moved = describe_change(change.change)
    who = change.actor.login or "an unknown actor"
    window = ""
    if change.actor.login is None and change.attributes.get("window_start"):
        window = (
            f" (between {change.attributes['window_start']} and {change.attributes['window_end']})"
        )
    return (
        f"  {format_time(change.occurred_at)}  {change.kind.value} {change.action}: {subject}"
        f"{': ' + moved if moved else ''} by {who}{window}"
    )


def describe_change(change: Mapping[str, Any] | None) -> str:
    """``read → admin``, ``none → write`` for a grant, ``admin → none`` for a revocation;
    nothing when neither side is known."""
    before, after = (change or {}).get("from"), (change or {}).get("to")
    if before is None and after is None:
        return ""
    return f"{_value(before)} → {_value(after)}"


def _value(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, list):
        return "[" + ", ".join(str(item) for item in value) + "]"
    return str(value)


def _span(lookback: timedelta) -> str:
    days = lookback.total_seconds() / 86400
    if days >= 1 and days == int(days):
        return f"{int(days)} day{'s' if days != 1 else ''}"
    return f"{lookback.total_seconds() / 3600:g} hours"


def _protection_lines(provenance: Provenance) -> list[str]:
    if provenance.protections_observed_at is None:
        return ["", "Protection in force: (no snapshot recorded before the deployment)"]
    lines = [
        "",
        f"Protection in force (as observed {format_time(provenance.protections_observed_at)}):",
    ]
    for rule in provenance.protections:
        settings = ", ".join(f"{k}={v}" for k, v in sorted(rule.settings.items()))
        lines.append(f"  {rule.target}: {settings}")
    return lines
