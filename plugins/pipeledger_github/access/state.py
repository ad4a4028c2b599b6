"""What a scope's snapshot remembers between collections besides the state itself: per
resource (collaborators, environments, …) when it was last read and the ETags of its pages.

A resource's last reading time opens the window of the changes found in it next, so a
resource that could not be read for a while never narrows a window it did not observe.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pipeledger.plugin import format_time, parse_time
from pipeledger_github.listing import PageTag

Pages = dict[str, tuple[PageTag, ...]]


@dataclass(frozen=True)
class ResourceState:
    read_at: datetime
    pages: Pages = field(default_factory=dict)
    memo: Any = None  # what dependent requests need when the pages answer 304

    def to_json(self) -> dict[str, Any]:
        return {
            "read_at": format_time(self.read_at),
            "pages": {name: [t.to_json() for t in tags] for name, tags in self.pages.items()},
            "memo": self.memo,
        }

    @classmethod
    def from_json(cls, data: Any) -> ResourceState | None:
        if not isinstance(data, dict) or not isinstance(data.get("read_at"), str):
            return None
        pages: Pages = {}
        for name, raw in (data.get("pages") or {}).items():
            tags = [tag for item in raw or [] if (tag := PageTag.from_json(item))]
            pages[str(name)] = tuple(tags)
        return cls(parse_time(data["read_at"]), pages, data.get("memo"))


@dataclass(frozen=True)
class FetchState:
    """``present`` is False when nothing was stored (a first snapshot, or an older
    pipeledger's): then every resource of a stored snapshot counts as read at its time."""

    resources: dict[str, ResourceState] = field(default_factory=dict)
    present: bool = False

    def dumps(self) -> str:
        data = {name: state.to_json() for name, state in sorted(self.resources.items())}
        return json.dumps({"version": 1, "resources": data}, sort_keys=True, separators=(",", ":"))

    @classmethod
    def loads(cls, text: str | None) -> FetchState:
        if not text:
            return cls()
        try:
            raw = json.loads(text).get("resources") or {}
            resources = {
                str(name): state
                for name, value in raw.items()
                if (state := ResourceState.from_json(value)) is not None
            }
        except (ValueError, TypeError, AttributeError):
            return cls()
        return cls(resources, present=True)


def fetch_key(instance: str, scope_key: str) -> str:
    return f"github:{instance}:{scope_key}:snapshot-fetch"
