"""Resumable walks over GitLab lists: the stored cursor of a stream and the walk that
uses the newest time seen as its cursor, so a run stopped anywhere resumes exactly."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pipeledger.plugin import EARLIEST, LATEST, format_time, parse_time
from pipeledger_gitlab.client import PER_PAGE

Json = Mapping[str, Any]


@dataclass(frozen=True)
class Mark:
    """How far a stream got: every item up to ``through`` is stored; ``ids`` are the items
    stored at exactly that time (GitLab's time filters include the boundary). ``since`` is
    the lower bound the stream started from, so a later, wider ``--since`` is not skipped."""

    since: datetime | None
    through: datetime
    ids: frozenset[str] = frozenset()

    def encode(self) -> str:
        return json.dumps(
            {
                "since": format_time(self.since) if self.since else None,
                "through": format_time(self.through),
                "ids": sorted(self.ids),
            },
            sort_keys=True,
        )

    @classmethod
    def decode(cls, text: str | None) -> Mark | None:
        """None for a missing or unreadable cursor: the stream then starts over and the
        ledger skips what it already holds."""
        if not text:
            return None
        try:
            data = json.loads(text)
            since = parse_time(str(data["since"])) if data.get("since") else None
            through = parse_time(str(data["through"]))
            return cls(since, through, frozenset(map(str, data["ids"])))
        except (ValueError, KeyError, TypeError, AttributeError):
            return None

    def covers(self, since: datetime | None) -> bool:
        return self.since is None or (since is not None and self.since <= since)


@dataclass(frozen=True)
class Start:
    """Where a stream begins: ``after`` (inclusive), the ids already stored at that time, and
    the lower bound the stored history reaches back to (kept in the next cursor)."""

    after: datetime | None
    seen: frozenset[str] = frozenset()
    covered_since: datetime | None = None

    @property
    def resumed(self) -> bool:
        return bool(self.seen)

    def mark(self, through: datetime, ids: frozenset[str]) -> Mark:
        return Mark(self.covered_since, through, ids)


def start_from(mark: Mark | None, since: datetime | None) -> Start:
    """Resume after the cursor when it covers the requested window, else from --since."""
    if mark is None or not mark.covers(since) or (since is not None and since > mark.through):
        return Start(since, covered_since=since)
    return Start(mark.through, mark.ids, mark.since)


@dataclass(frozen=True)
class Step:
    """One page of a walk: the items not seen before and the mark once they are stored, and
    the items whose time or id cannot be read, with the reason (they are quarantined; the
    walk goes on without them)."""

    fresh: list[Json]
    through: datetime | None
    ids: frozenset[str]
    refused: list[tuple[Json, str]] = field(default_factory=list)


Fetch = Callable[[datetime | None, int], Sequence[Json]]


def walk_by_time(
    fetch: Fetch, start: Start, stamp: str = "updated_at", latest: datetime | None = None
) -> Iterator[Step]:
    """Walk a list sorted ascending by ``stamp``, asking each time for items at or after the
    newest time seen, and for the next offset page only while a page holds a single time.

    Unlike plain offset pages this neither skips nor repeats items when GitLab moves an
    updated item to the end of the list while the walk is under way.

    An item whose ``stamp`` is no time between 2000 and ``latest`` (the end of the window the
    list was asked for) or whose id is not a number is refused: it must neither stop the walk
    nor move its cursor (a time in 2099 would make every later run ask for nothing)."""
    mark, at_mark, page = start.after, set(start.seen), 1
    while True:
        items = fetch(mark, page)
        fresh: list[Json] = []
        refused: list[tuple[Json, str]] = []
        advanced = False
        for item in items:
            read = time_and_id(item, stamp, latest)
            if isinstance(read, str):
                refused.append((item, read))
                continue
            moment, ident = read
            if moment == mark and ident in at_mark:
                continue
            fresh.append(item)
            if mark is None or moment > mark:
                mark, at_mark, advanced = moment, {ident}, True
            elif moment == mark:
                at_mark.add(ident)
        yield Step(fresh, mark, frozenset(at_mark), refused)
        if len(items) < PER_PAGE:
            return
        page = 1 if advanced else page + 1


def time_and_id(item: Json, stamp: str, latest: datetime | None) -> tuple[datetime, str] | str:
    """The item's time and id, or why they cannot be used."""
    ident = item.get("id") if isinstance(item, Mapping) else None
    if isinstance(ident, bool) or not isinstance(ident, int | str) or not str(ident).isdigit():
        return f"its id {ident!r} is not a number"
    try:
        moment = parse_time(str(item[stamp]))
    except (KeyError, ValueError) as error:
        return f"its {stamp} cannot be read ({error})"
    # The list was asked for items updated before ``latest`` (sent to the second, inclusive).
    end = LATEST if latest is None else latest + timedelta(seconds=1)
    if not EARLIEST <= moment <= end:
        return f"its {stamp} {moment.isoformat()} is outside {EARLIEST.year} to the window's end"
    return moment, str(ident)
