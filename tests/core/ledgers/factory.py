"""Valid events for store tests, without any platform plugin; some carry microseconds so
time columns must round-trip exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pipeledger.events import Actor, ActorType, AuditEvent, EventKind, Scope, Source, event_id

BASE_TIME = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
KINDS = (EventKind.PIPELINE_RUN, EventKind.DEPLOYMENT, EventKind.DEPLOYMENT_APPROVAL)


def make_event(number: int, **overrides: Any) -> AuditEvent:
    kind = KINDS[number % len(KINDS)]
    fields: dict[str, Any] = {
        "id": event_id("testforge", "forge.example", "/runs/{id}", str(number)),
        "kind": kind,
        "action": "completed",
        "occurred_at": BASE_TIME + timedelta(minutes=number, microseconds=number % 2 * 250),
        "platform": "testforge",
        "instance": "forge.example",
        "actor": Actor(login=f"user{number % 3}", id=str(100 + number % 3), type=ActorType.USER),
        "scope": Scope(
            owner="acme",
            repository=("web", "api")[number % 2],
            environment="production" if kind is EventKind.DEPLOYMENT else None,
        ),
        "source": Source(endpoint="/runs/{id}", native_id=str(number)),
        "ref": "refs/heads/main",
        "sha": f"{number:040x}",
        "outcome": "success",
        "correlation": {"run_id": str(number)},
        "attributes": {"note": f"événement {number}"},
    }
    fields.update(overrides)
    return AuditEvent(**fields)


def make_events(count: int, start: int = 1) -> list[AuditEvent]:
    return [make_event(n) for n in range(start, start + count)]
