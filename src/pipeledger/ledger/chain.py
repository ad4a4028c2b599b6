"""The ledger's hash chain, as a ledger store writes and reads it: SHA-256 over each record's
canonical JSON and its predecessor, the indexed columns stored beside the body, and stored
rows back as records. Checking a chain is :mod:`pipeledger.ledger.chain_check`'s.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from pipeledger.errors import SinkError
from pipeledger.events import AuditEvent, format_time
from pipeledger.json_codec import loads
from pipeledger.sinks.contract import ChainCheckpoint, LedgerRecord

GENESIS_HASH = "0" * 64
# The query columns every ledger stores next to the body, in this order.
INDEXED_COLUMNS = ("kind", "occurred_at", "actor", "repository", "environment")


def link_hash(prev_hash: str, seq: int, body: str) -> str:
    material = f"{prev_hash}\n{seq}\n{body}".encode()
    return hashlib.sha256(material).hexdigest()


def chain_events(
    events: Sequence[AuditEvent], last_seq: int, last_hash: str
) -> Iterator[tuple[LedgerRecord, str]]:
    """Records that extend a chain ending at (last_seq, last_hash), with each body."""
    prev = last_hash
    for offset, event in enumerate(events, start=1):
        body = event.canonical_json()
        digest = link_hash(prev, last_seq + offset, body)
        record = LedgerRecord(
            seq=last_seq + offset, prev_hash=prev, hash=digest, event=event, body=body
        )
        yield record, body
        prev = digest


@dataclass(frozen=True)
class NewRow:
    """A record about to be stored: its chain link, exact body and query columns."""

    record: LedgerRecord
    body: str
    indexed: dict[str, str | None]

    def values(self) -> tuple[Any, ...]:
        """seq, id, the indexed columns, body, prev_hash, hash: a ledger table's row."""
        record = self.record
        columns = (self.indexed[name] for name in INDEXED_COLUMNS)
        return (record.seq, record.event.id, *columns, self.body, record.prev_hash, record.hash)


def unique_by_id(events: Iterable[AuditEvent]) -> list[AuditEvent]:
    """One event per id, in first-seen order; a later copy of an id replaces the earlier."""
    return list({event.id: event for event in events}.values())


def new_rows(events: Sequence[AuditEvent], last_seq: int, last_hash: str) -> list[NewRow]:
    """The rows that extend a chain ending at (last_seq, last_hash) with ``events``."""
    return [
        NewRow(record=record, body=body, indexed=indexed_columns(record.event))
        for record, body in chain_events(events, last_seq, last_hash)
    ]


def indexed_columns(event: AuditEvent) -> dict[str, str | None]:
    """The query columns a ledger stores next to the body; verify checks they agree."""
    repository = event.scope.full_name
    return {
        "kind": event.kind.value,
        "occurred_at": format_time(event.occurred_at),  # exactly as the body writes it
        "actor": event.actor.login,
        "repository": repository,
        "environment": event.scope.environment,
    }


CHECKPOINT_FIELDS = (
    "chain_id",
    "seq",
    "head_hash",
    "created_at",
    "key_id",
    "signature",
    "counter",
    "previous",
)


def record_from_row(seq: int, prev_hash: str, digest: str, body: str) -> LedgerRecord:
    """A stored row back as a record; a body that is not an event object is a SinkError."""
    event = event_from_body(seq, body)
    return LedgerRecord(seq=seq, prev_hash=prev_hash, hash=digest, event=event, body=body)


def event_from_body(seq: int, body: str) -> AuditEvent:
    """The event a stored body holds (orjson when installed, see :mod:`pipeledger.json_codec`);
    a body that is not an event object is a SinkError naming the record."""
    try:
        value = loads(body)
    except ValueError:
        value = None
    return event_from_data(seq, value)


def event_from_data(seq: int, value: object) -> AuditEvent:
    """The event of a parsed stored body; anything else is a SinkError naming the record."""
    try:
        if isinstance(value, dict):
            return AuditEvent.from_dict(value)
    except (ValueError, KeyError, TypeError):
        pass
    raise SinkError(f"Ledger record seq {seq} is not a pipeledger event.", "Run pipeledger verify.")


def checkpoint_from_row(row: Sequence[object], store: str) -> ChainCheckpoint:
    """A stored chain checkpoint (columns in ``CHECKPOINT_FIELDS`` order)."""
    try:
        return ChainCheckpoint.from_dict(dict(zip(CHECKPOINT_FIELDS, row, strict=True)))
    except (ValueError, KeyError, TypeError):
        raise SinkError(
            f"A chain checkpoint in the {store} ledger is malformed.", "Run pipeledger verify."
        ) from None
