"""Chained ledger records of every kind, for sink tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pipeledger.events import Actor, ActorType, AuditEvent, EventKind, Scope, Source, event_id
from pipeledger.ledger.chain import GENESIS_HASH, chain_events
from pipeledger.sinks.contract import LedgerRecord

START = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
KINDS = list(EventKind)


def make_event(number: int, kind: EventKind | None = None, **overrides: Any) -> AuditEvent:
    kind = kind or KINDS[number % len(KINDS)]
    native = f"{kind.value}-{number}"
    fields: dict[str, Any] = {
        "id": event_id("github", "github.com", f"/fake/{kind.value}", native),
        "kind": kind,
        "action": "created",
        "occurred_at": START + timedelta(minutes=number),
        "platform": "github",
        "instance": "github.com",
        "actor": Actor(login="octocat", id="1", type=ActorType.USER),
        "scope": Scope(owner="octo-org", repository="api", environment="production"),
        "source": Source(endpoint=f"/fake/{kind.value}", native_id=native),
        "outcome": "success",
    }
    fields.update(overrides)
    return AuditEvent(**fields)


def make_records(count: int, start_seq: int = 1) -> list[LedgerRecord]:
    events = [make_event(n) for n in range(start_seq, start_seq + count)]
    return chain(events, start_seq - 1)


def chain(events: list[AuditEvent], last_seq: int = 0) -> list[LedgerRecord]:
    return [record for record, _ in chain_events(events, last_seq, GENESIS_HASH)]
