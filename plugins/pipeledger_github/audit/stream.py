"""Reads an organization's audit log (GitHub Enterprise Cloud) incrementally: the entries
created since the day of the last one read (``phrase=created:>=DAY``, oldest first), with
the pages of an unchanged listing costing 304s. Entries already stored come back with the
same event id and are not stored twice. A refusal (no Enterprise Cloud, or no scope) is
remembered with its time and the audit log is asked again only after :data:`REPROBE`.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import quote

from pipeledger.plugin import (
    ApiResponse,
    AuditEvent,
    CursorReader,
    PermissionDenied,
    format_time,
    parse_time,
)
from pipeledger_github.audit.events import audit_action, audit_event
from pipeledger_github.client import PER_PAGE, Item
from pipeledger_github.listing import ListingReader, PageTag, list_items
from pipeledger_github.normalize.fields import text

# An organization refused (404 without Enterprise Cloud, 403 without the scope) is asked
# again after this long: a refusal every run would be a counted request every run, while an
# organization that gains the audit log (or a token that gains the scope) is rare.
REPROBE = timedelta(hours=24)


@dataclass(frozen=True)
class AuditCursor:
    day: date | None = None
    pages: tuple[PageTag, ...] = ()
    last_full: bool = False  # a full last page may be followed by new pages: re-read
    refused_at: datetime | None = None  # when GitHub last refused it
    refusal: str = ""  # what GitHub said then

    def dumps(self) -> str:
        data: dict[str, object] = {
            "day": self.day.isoformat() if self.day else None,
            "pages": [tag.to_json() for tag in self.pages],
            "last_full": self.last_full,
        }
        if self.refused_at is not None:
            data.update(refused_at=format_time(self.refused_at), refusal=self.refusal)
        return json.dumps(data, sort_keys=True)

    @classmethod
    def loads(cls, text_value: str | None) -> AuditCursor:
        try:
            data = json.loads(text_value or "{}")
            day = date.fromisoformat(data["day"]) if data.get("day") else None
            pages = tuple(tag for raw in data.get("pages") or [] if (tag := PageTag.from_json(raw)))
            refused = parse_time(data["refused_at"]) if data.get("refused_at") else None
            refusal = str(data.get("refusal") or "")
            return cls(day, pages, data.get("last_full") is True, refused, refusal)
        except (ValueError, TypeError, AttributeError, KeyError):
            return cls()

    def probe_due(self, now: datetime) -> datetime | None:
        """When the audit log may be asked again; None when it may be now."""
        if self.refused_at is None or now >= self.refused_at + REPROBE:
            return None
        return self.refused_at + REPROBE


@dataclass
class AuditRead:
    events: list[AuditEvent]
    cursors: dict[str, str]
    skipped: Counter[str] = field(default_factory=Counter)


def audit_key(instance: str, org: str) -> str:
    return f"github:{instance}:{org}:audit-log"


class _Pages:
    """Keeps only the entries worth mapping, counts the others, follows time and page size."""

    def __init__(self) -> None:
        self.skipped: Counter[str] = Counter()
        self.last_size = 0
        self._items = list_items()

    def __call__(self, response: ApiResponse) -> list[Item]:
        entries = self._items(response)
        self.last_size = len(entries)
        kept = []
        for entry in entries:
            action = text(entry, "action") or "?"
            if audit_action(action) is None:
                self.skipped[action] += 1
            else:
                kept.append(entry)
        return kept


def read_audit_log(
    reader: ListingReader,
    instance: str,
    org: str,
    start: datetime | None,
    cursors: CursorReader,
    *,
    conditional: bool = True,
) -> AuditRead:
    """Raises PermissionDenied (403, or 404 for an organization without the audit log API).
    ``conditional`` False reads the entries even when the listing has not changed."""
    key = audit_key(instance, org)
    cursor = AuditCursor.loads(cursors.cursor(key))
    day = _first_day(cursor.day, start)
    params = {"order": "asc"}
    if day is not None:
        params["phrase"] = f"created:>={day.isoformat()}"
    reusable = cursor.pages if conditional and day == cursor.day and not cursor.last_full else ()
    pages = _Pages()
    path = f"/orgs/{quote(org, safe='')}/audit-log"
    listing = reader.read(path, params, reusable, pages, probe=False)
    if listing.unchanged:
        return AuditRead([], {})
    events = [
        event for entry in listing.items or [] if (event := audit_event(entry, org, instance))
    ]
    latest = max((event.occurred_at.date() for event in events), default=None)
    if latest is not None and (day is None or latest > day):
        stored = AuditCursor(latest, (), False)  # start from that day next time
    else:
        stored = AuditCursor(day, listing.pages, pages.last_size >= int(PER_PAGE))
    return AuditRead(events, {key: stored.dumps()}, pages.skipped)


def refused_cursor(
    instance: str, org: str, cursors: CursorReader, now: datetime, error: PermissionDenied
) -> dict[str, str]:
    """The cursor remembering a refusal; the next probe reads afresh (no stored pages:
    a 304 would say nothing about whether the refusal is over)."""
    key = audit_key(instance, org)
    cursor = AuditCursor.loads(cursors.cursor(key))
    return {key: AuditCursor(cursor.day, (), False, now, error.message).dumps()}


def stored_refusal(instance: str, org: str, cursors: CursorReader, now: datetime) -> str | None:
    """The notice for an audit log refused less than :data:`REPROBE` ago (not asked again
    yet); None when it is to be read (or probed) now."""
    cursor = AuditCursor.loads(cursors.cursor(audit_key(instance, org)))
    due = cursor.probe_due(now)
    if due is None or cursor.refused_at is None:
        return None
    return unavailable(
        org,
        f"GitHub refused it at {format_time(cursor.refused_at)} ({cursor.refusal})",
        f" It is asked again after {format_time(due)}.",
    )


def _first_day(stored: date | None, start: datetime | None) -> date | None:
    candidates = [d for d in (stored, start.date() if start else None) if d is not None]
    return min(candidates) if candidates else None


def unavailable(org: str, reason: str, when: str = "") -> str:
    return (
        f"{org}: the audit log cannot be read: {reason.rstrip('.')}. It exists on GitHub"
        " Enterprise Cloud only and needs a token with `read:audit_log` (classic) or"
        " organization `administration: read`. Permission and protection changes now come"
        " from snapshots alone: their actor is recorded as unknown (actor.type: unknown), with"
        f" the window in which each change happened.{when}"
    )


def skipped_notice(org: str, skipped: Mapping[str, int]) -> str | None:
    total = sum(skipped.values())
    if not total:
        return None
    common = ", ".join(action for action, _ in Counter(skipped).most_common(3))
    return (
        f"{org}: {total} audit-log entries are not permission or protection changes and were"
        f" skipped (most often: {common})."
    )
