"""Builds valid events for core tests without any platform plugin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pipeledger.events import Actor, ActorType, AuditEvent, EventKind, Scope, Source, event_id

BASE_TIME = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def make_event(number: int, **overrides: Any) -> AuditEvent:
    fields: dict[str, Any] = {
        "id": event_id("testforge", "forge.example", "/runs/{id}", str(number)),
        "kind": EventKind.PIPELINE_RUN,
        "action": "completed",
        "occurred_at": BASE_TIME + timedelta(minutes=number),
        "platform": "testforge",
        "instance": "forge.example",
        "actor": Actor(login=f"user{number % 3}", id=str(100 + number % 3), type=ActorType.USER),
        "scope": Scope(owner="acme", repository="web", environment=None),
        "source": Source(endpoint="/runs/{id}", native_id=str(number)),
        "ref": "refs/heads/main",
        "sha": "a" * 40,
        "outcome": "success",
        "correlation": {"run_id": str(number)},
    }
    fields.update(overrides)
    return AuditEvent(**fields)


def make_events(count: int, start: int = 1) -> list[AuditEvent]:
    return [make_event(n) for n in range(start, start + count)]
