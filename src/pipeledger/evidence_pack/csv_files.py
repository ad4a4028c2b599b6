"""The pack's tables as CSV for spreadsheets, from data.json's content."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pipeledger.dora.table import CSV_COLUMNS as DORA_COLUMNS

DEPLOYMENT_COLUMNS = (
    "key", "repository", "environment", "at", "ref", "sha", "deployer", "approvers",
    "reviewers", "outcome", "findings", "sampled", "link",
)  # fmt: skip
FINDING_COLUMNS = ("severity", "rule_id", "subject_kind", "repository", "environment", "subject",
                   "message", "link")  # fmt: skip
CHANGE_COLUMNS = ("occurred_at", "kind", "action", "actor", "owner", "repository", "target",
                  "from", "to", "id")  # fmt: skip
COVERAGE_COLUMNS = ("platform", "instance", "scope", "first_event", "last_event",
                    "events_in_period", "gaps")  # fmt: skip


def csv_files(data: Mapping[str, Any], dora_rows: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    return {
        "deployments.csv": _table(DEPLOYMENT_COLUMNS, map(_deployment, data["deployments"])),
        "findings.csv": _table(FINDING_COLUMNS, map(_finding, data["findings"])),
        "changes.csv": _table(
            CHANGE_COLUMNS, (_change(data["events"][event_id]) for event_id in data["changes"])
        ),
        "dora.csv": _table(DORA_COLUMNS, dora_rows),
        "coverage.csv": _table(COVERAGE_COLUMNS, map(_coverage, data["coverage"])),
    }


def _table(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: _cell(row.get(key)) for key in columns})
    return out.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        return " ".join(str(item) for item in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = "" if value is None else value
    # A cell a spreadsheet would run as a formula is quoted as text (CSV injection).
    if isinstance(text, str) and text[:1] in ("=", "+", "-", "@"):
        return "'" + text
    return text


def _deployment(row: Mapping[str, Any]) -> Mapping[str, Any]:
    return row


def _finding(finding: Mapping[str, Any]) -> dict[str, Any]:
    subject = finding["subject"]
    return {
        "severity": finding["severity"],
        "rule_id": finding["rule_id"],
        "subject_kind": subject.get("kind"),
        "repository": subject.get("repository"),
        "environment": subject.get("environment"),
        "subject": subject.get("key"),
        "message": finding["message"],
        "link": subject.get("url"),
    }


def _change(event: Mapping[str, Any]) -> dict[str, Any]:
    target = event.get("target") or {}
    change = event.get("change") or {}
    return {
        "occurred_at": event["occurred_at"],
        "kind": event["kind"],
        "action": event["action"],
        "actor": event["actor"].get("login"),
        "owner": event["scope"]["owner"],
        "repository": event["scope"].get("repository"),
        "target": target.get("login") or target.get("name"),
        "from": _plain(change.get("from")),
        "to": _plain(change.get("to")),
        "id": event["id"],
    }


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return "; ".join(f"{k}={v}" for k, v in sorted(value.items()))
    return value


def _coverage(scope: Mapping[str, Any]) -> dict[str, Any]:
    gaps = "; ".join(f"{g['from']}..{g['to']}" for g in scope["gaps"])
    return {**scope, "gaps": gaps}
