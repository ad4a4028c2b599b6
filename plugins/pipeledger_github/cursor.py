"""What the ledger remembers per (repository, source) between collections, as JSON.

``low``..``high`` is the span of creation times already stored in full; ``pending`` holds records
that were not final yet (re-checked conditionally); ``etag`` is that of the newest-first list's
first page, so a collection with nothing new costs one 304, and ``floor`` the oldest creation
time on that page (what a 304 vouches for).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pipeledger.plugin import format_time, parse_time


@dataclass(frozen=True)
class Span:
    """Creation times ``low``..``high`` (inclusive) whose records are all stored; ``low`` None
    means from the very first one."""

    low: datetime | None
    high: datetime

    def to_json(self) -> dict[str, Any]:
        return {"low": format_time(self.low) if self.low else None, "high": format_time(self.high)}

    @classmethod
    def from_json(cls, data: Any) -> Span | None:
        if not isinstance(data, dict) or not isinstance(data.get("high"), str):
            return None
        low = data.get("low")
        return cls(
            low=parse_time(low) if isinstance(low, str) else None, high=parse_time(data["high"])
        )


@dataclass(frozen=True)
class Pending:
    """A record seen before it was final: its creation time, the ETag of its last fetch, and
    (deployments) the fields needed to record its later statuses."""

    created_at: datetime
    etag: str | None = None
    record: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"created_at": format_time(self.created_at), "etag": self.etag}
        if self.record is not None:
            data["record"] = self.record
        return data

    @classmethod
    def from_json(cls, data: Any) -> Pending | None:
        if not isinstance(data, dict) or not isinstance(data.get("created_at"), str):
            return None
        record = data.get("record")
        etag = data.get("etag")
        return cls(
            created_at=parse_time(data["created_at"]),
            etag=etag if isinstance(etag, str) else None,
            record=record if isinstance(record, dict) else None,
        )


@dataclass(frozen=True)
class SourceCursor:
    span: Span | None = None
    etag: str | None = None
    floor: datetime | None = None
    pending: dict[str, Pending] = field(default_factory=dict)

    def dumps(self) -> str:
        return json.dumps(
            {
                "version": 1,
                "span": self.span.to_json() if self.span else None,
                "etag": self.etag,
                "floor": format_time(self.floor) if self.floor else None,
                "pending": {key: value.to_json() for key, value in sorted(self.pending.items())},
            },
            sort_keys=True,
            separators=(",", ":"),
        )

    @classmethod
    def loads(cls, text: str | None) -> SourceCursor:
        """A stored cursor; an unreadable one counts as none (everything is re-listed and
        the ledger drops what it already has)."""
        if not text:
            return cls()
        try:
            data = json.loads(text)
            pending = {
                str(key): parsed
                for key, value in (data.get("pending") or {}).items()
                if (parsed := Pending.from_json(value)) is not None
            }
            etag, floor = data.get("etag"), data.get("floor")
            return cls(
                span=Span.from_json(data.get("span")),
                etag=etag if isinstance(etag, str) else None,
                floor=parse_time(floor) if isinstance(floor, str) else None,
                pending=pending,
            )
        except (ValueError, TypeError, AttributeError):
            return cls()


def cursor_key(instance: str, repository: str, source: str) -> str:
    return f"github:{instance}:{repository}:{source}"


@dataclass(frozen=True)
class RepositoryList:
    """An owner's repositories as last listed, kept only when the list fit in one page: the
    page's ETag, the names, their default branches, how many are archived, and whether the
    owner is a user rather than an organization. A 304 then vouches for all of it."""

    etag: str | None = None
    names: tuple[str, ...] = ()
    archived: int = 0
    default_branches: tuple[tuple[str, str | None], ...] = ()
    user_account: bool = False

    def dumps(self) -> str:
        kept = bool(self.etag)  # without an ETag the list is never reused
        data = {
            "version": 2,
            "etag": self.etag,
            "names": list(self.names) if kept else [],
            "archived": self.archived,
            "default_branches": dict(self.default_branches) if kept else {},
            "user_account": self.user_account,
        }
        return json.dumps(data, sort_keys=True, separators=(",", ":"))

    @classmethod
    def loads(cls, text: str | None) -> RepositoryList:
        """A stored list; an unreadable one counts as none (the owner is listed again)."""
        try:
            data = json.loads(text or "{}")
            etag, names, archived = data.get("etag"), data.get("names"), data.get("archived")
            branches = data.get("default_branches") or {}
        except (ValueError, AttributeError):
            return cls()
        if (
            not isinstance(etag, str)
            or not isinstance(names, list)
            or not isinstance(branches, dict)
        ):
            return cls()
        return cls(
            etag=etag,
            names=tuple(name for name in names if isinstance(name, str)),
            archived=archived if isinstance(archived, int) else 0,
            default_branches=tuple(
                (str(name), branch if isinstance(branch, str) else None)
                for name, branch in branches.items()
            ),
            user_account=data.get("user_account") is True,
        )
