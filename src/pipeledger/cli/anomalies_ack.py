"""``pipeledger anomalies ack ID --reason TEXT``: records that someone looked at an alert and
why it is fine; an acknowledged alert is not raised again."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from pipeledger.anomalies.engine import Selection, detect_in_ledger
from pipeledger.anomalies.history import RAISED
from pipeledger.anomalies.record import ack_event, alert_event
from pipeledger.anomalies.settings import AnomalySettings
from pipeledger.cli.command_context import SINK, Context
from pipeledger.cli.options import Declared, with_suffix
from pipeledger.errors import ExitCode, UsageError
from pipeledger.events import AuditEvent, EventKind
from pipeledger.json_codec import loads
from pipeledger.sinks.contract import EventFilter, Ledger

# Who acknowledges, when --by is not given: the CI's user, then the local one.
ACTOR_VARIABLES = ("PIPELEDGER_BY", "GITHUB_ACTOR", "GITLAB_USER_LOGIN", "USER", "USERNAME")


def add_ack_parser(actions: Any) -> None:
    ack: argparse.ArgumentParser = actions.add_parser(
        "ack", help="acknowledge an alert with a reason, so it is not raised again"
    )
    ack.add_argument("alert_id", metavar="ID", help="the alert's id, as anomalies prints it")
    ack.add_argument("--reason", required=True, help="why the alert is expected (recorded)")
    # Not an option with a config key: PIPELEDGER_BY is the first of the actor variables.
    ci_user = ", ".join(f"${name}" for name in ACTOR_VARIABLES[1:])
    ack.add_argument(
        "--by",
        metavar="LOGIN",
        help=with_suffix("who acknowledges", "by", Declared(None, f"the first of {ci_user}")),
    )
    # Also after the id, as the usage line shows; absent, it leaves `anomalies --sink` alone.
    ack.add_argument(
        "--sink",
        action="append",
        metavar="URL",
        default=argparse.SUPPRESS,
        help=with_suffix("the ledger, as for anomalies", "sink", SINK),
    )


def run_ack(args: argparse.Namespace, context: Context, settings: AnomalySettings) -> int:
    reason = str(args.reason).strip()
    if not reason:
        raise UsageError("--reason is empty.", "Say why the alert is expected.")
    by = args.by or next(
        (context.environ[v] for v in ACTOR_VARIABLES if context.environ.get(v)), None
    )
    if not by:
        raise UsageError("Nobody to record as acknowledging the alert.", "Pass --by LOGIN.")
    now = datetime.now(UTC)
    sinks = context.open_sinks(args, reading=True)
    try:
        alert = _recorded_alert(sinks.ledger, args.alert_id)
        if alert is None:
            alert = _detected_alert(sinks.ledger, args.alert_id, settings, now)
            sinks.append([alert], {})
        added = sinks.append([ack_event(alert, by, reason, now)], {})
    finally:
        sinks.close()
    if added:
        context.out(f"Acknowledged {args.alert_id} ({alert.attributes.get('detector')}) by {by}.")
    else:
        context.out(f"{args.alert_id} was already acknowledged; the first acknowledgement stands.")
    return int(ExitCode.OK)


def _recorded_alert(ledger: Ledger, alert_id: str) -> AuditEvent | None:
    for _kind, body in ledger.event_bodies(EventFilter(kinds=(EventKind.ANOMALY,))):
        data = loads(body)
        if data["action"] == RAISED and (data.get("attributes") or {}).get("alert_id") == alert_id:
            return AuditEvent.from_dict(data)
    return None


def _detected_alert(
    ledger: Ledger, alert_id: str, settings: AnomalySettings, now: datetime
) -> AuditEvent:
    detection = detect_in_ledger(ledger, settings, Selection())
    for alert in [*detection.alerts, *detection.acknowledged]:
        if alert.id == alert_id:
            return alert_event(alert, now)
    raise UsageError(
        f"No anomaly alert has the id {alert_id!r} in this ledger.",
        "Run `pipeledger anomalies` (same --sink) and copy the id it prints.",
    )
