"""How ``pipeledger events`` shows an event to a person: one row of short columns — time,
kind, action, actor, subject (what or whom it affects, with a change as ``read → admin``),
repository, environment, ref, outcome — laid out as an aligned table, in colour on a
terminal."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from rich.console import Console
from rich.text import Text

from pipeledger.events import AuditEvent, format_time
from pipeledger.printable import one_line

COLUMNS = (
    "time",
    "kind",
    "action",
    "actor",
    "subject",
    "repository",
    "environment",
    "ref",
    "outcome",
)
# Longest cell the table shows; JSON, JSONL and CSV carry every value whole.
CELL_LIMIT = 48
ARROW = "→"
STYLES = {
    "time": "pl.dim",
    "kind": "pl.kind",
    "actor": "pl.actor",
}
OUTCOME_STYLES = {
    "success": "pl.pass",
    "pass": "pl.pass",
    "approved": "pl.pass",
    "failure": "pl.fail",
    "fail": "pl.fail",
    "error": "pl.fail",
    "rejected": "pl.fail",
}


def repository(event: AuditEvent) -> str:
    return event.scope.full_name or event.scope.owner


def actor(event: AuditEvent) -> str:
    return event.actor.login or f"({event.actor.type.value})"


def short_ref(ref: str | None) -> str:
    if not ref:
        return ""
    for prefix in ("refs/heads/", "refs/tags/"):
        if ref.startswith(prefix):
            return ref[len(prefix) :]
    return ref


def value_text(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def change_text(event: AuditEvent) -> str:
    """``read → admin``; empty when the event records no change."""
    change = event.change
    if not change:
        return ""
    return f"{value_text(change.get('from'))} {ARROW} {value_text(change.get('to'))}"


def subject(event: AuditEvent) -> str:
    """What or whom the event affects, as a person would name it."""
    target = event.target or {}
    kind = str(target.get("type") or "")
    if kind in ("pull_request", "merge_request") and target.get("number") is not None:
        mark = "PR #" if kind == "pull_request" else "MR !"
        author = f" by {target['author']}" if target.get("author") else ""
        return f"{mark}{target['number']}{author}"
    if target.get("login"):
        via = f" via {target['via']}" if target.get("via") else ""
        return f"{target['login']}{via}"
    if target.get("name"):
        setting = f" {target['setting']}" if target.get("setting") else ""
        return f"{kind + ' ' if kind else ''}{target['name']}{setting}"
    if kind == "workflow_run" and target.get("run_id"):
        return f"run {target['run_id']}"
    workflow = event.attributes.get("workflow")
    if event.kind.value == "pipeline.run" and workflow:
        return f"workflow {workflow}"
    return ""


def subject_with_change(event: AuditEvent) -> str:
    what, change = subject(event), change_text(event)
    if what and change:
        return f"{what}: {change}"
    return what or change


def display_row(event: AuditEvent) -> dict[str, str]:
    """The table's cells: short and readable."""
    return {
        "time": format_time(event.occurred_at),
        "kind": event.kind.value,
        "action": event.action,
        "actor": actor(event),
        "subject": subject_with_change(event),
        "repository": repository(event),
        "environment": event.scope.environment or "",
        "ref": short_ref(event.ref),
        "outcome": event.outcome or "",
    }


def data_row(event: AuditEvent) -> dict[str, str]:
    """CSV's cells: every value whole, the change in its own column, and the event id."""
    return {
        "time": format_time(event.occurred_at),
        "kind": event.kind.value,
        "action": event.action,
        "actor": actor(event),
        "subject": subject(event),
        "change": change_text(event),
        "repository": repository(event),
        "environment": event.scope.environment or "",
        "ref": event.ref or "",
        "outcome": event.outcome or "",
        "sha": event.sha or "",
        "id": event.id,
    }


def clip(text: str, limit: int = CELL_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class Table:
    rows: Sequence[Mapping[str, str]]

    @classmethod
    def of(cls, events: Sequence[AuditEvent], clean: Callable[[str], str] = one_line) -> Table:
        """``clean`` makes each cell safe to print (API data can hold escape sequences)."""
        return cls([{c: clip(clean(v)) for c, v in display_row(e).items()} for e in events])

    def widths(self) -> dict[str, int]:
        return {c: max([len(c), *(len(r[c]) for r in self.rows)]) for c in COLUMNS}

    def lines(self) -> list[str]:
        """Plain text: a header, then one aligned line per event, no trailing spaces."""
        widths = self.widths()
        header = "  ".join(c.upper().ljust(widths[c]) for c in COLUMNS).rstrip()
        body = ["  ".join(r[c].ljust(widths[c]) for c in COLUMNS).rstrip() for r in self.rows]
        return [header, *body]

    def write(self, out: TextIO) -> None:
        for line in self.lines():
            out.write(line + "\n")

    def print(self, console: Console) -> None:
        """The same layout, with styles: the header bold, kinds and outcomes coloured."""
        widths = self.widths()
        header = Text("  ".join(c.upper().ljust(widths[c]) for c in COLUMNS).rstrip())
        header.stylize("pl.header")
        console.print(header)
        for row in self.rows:
            line = Text()
            for index, column in enumerate(COLUMNS):
                if index:
                    line.append("  ")
                style = STYLES.get(column) or (
                    OUTCOME_STYLES.get(row[column], "") if column in ("outcome", "action") else ""
                )
                line.append(row[column].ljust(widths[column]), style=style)
            line.rstrip()
            console.print(line)
