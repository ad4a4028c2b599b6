"""The pack's tables as CSV for spreadsheets, from data.json's content."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
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


ROWS_PER_CHUNK = 500


def csv_tables(
    data: Mapping[str, Any], dora_rows: Sequence[Mapping[str, Any]]
) -> Iterator[tuple[str, Iterator[str]]]:
    """Each CSV file's name and its text in pieces of ROWS_PER_CHUNK rows (a pack written as
    it is made holds one piece at a time)."""
    yield "deployments.csv", _table(DEPLOYMENT_COLUMNS, map(_deployment, data["deployments"]))
    yield "findings.csv", _table(FINDING_COLUMNS, map(_finding, data["findings"]))
    yield (
        "changes.csv",
        _table(CHANGE_COLUMNS, (_change(data["events"][event_id]) for event_id in data["changes"])),
    )
    yield "dora.csv", _table(DORA_COLUMNS, dora_rows)
    yield "coverage.csv", _table(COVERAGE_COLUMNS, map(_coverage, data["coverage"]))


def _table(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for number, row in enumerate(rows, start=1):
        writer.writerow({key: _cell(row.get(key)) for key in columns})
        if number % ROWS_PER_CHUNK == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


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
