"""The ledger's hash chain: SHA-256 over each record's canonical JSON and its predecessor.

Any update, delete, reorder or insertion behind the ledger's back breaks a link; ``verify``
names the first record where that happens.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from pipeledger.events import AuditEvent
from pipeledger.sink import LedgerRecord, StoredRow

GENESIS_HASH = "0" * 64


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
        yield LedgerRecord(seq=last_seq + offset, prev_hash=prev, hash=digest, event=event), body
        prev = digest


@dataclass(frozen=True)
class Break:
    seq: int
    event_id: str
    reason: str


@dataclass(frozen=True)
class VerifyReport:
    checked: int
    head_hash: str
    first_break: Break | None

    @property
    def ok(self) -> bool:
        return self.first_break is None


def verify_rows(rows: Iterable[StoredRow]) -> VerifyReport:
    prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    for row in rows:
        problem = _row_problem(row, expected_seq, prev)
        if problem:
            return VerifyReport(checked, prev, Break(row.seq, row.event_id, problem))
        prev = row.hash
        expected_seq += 1
        checked += 1
    return VerifyReport(checked, prev, None)


def _row_problem(row: StoredRow, expected_seq: int, prev: str) -> str | None:
    if row.seq != expected_seq:
        return (
            f"sequence jumps from {expected_seq - 1} to {row.seq}"
            " (a record was removed or inserted)"
        )
    if row.prev_hash != prev:
        return (
            "prev_hash does not match the previous record"
            " (records were removed, inserted or reordered)"
        )
    if link_hash(prev, row.seq, row.body) != row.hash:
        return "hash does not match the record's content (the record was altered)"
    return _index_problem(row)


def _index_problem(row: StoredRow) -> str | None:
    try:
        body = json.loads(row.body)
    except ValueError:
        return "the record's body is not valid JSON"
    if body.get("id") != row.event_id:
        return "the indexed event id differs from the record's content"
    for column, value in row.indexed.items():
        if _indexed_value(body, column) != value:
            return f"the indexed column {column!r} differs from the record's content"
    return None


def _indexed_value(body: dict[str, object], column: str) -> str | None:
    actor = body.get("actor")
    scope = body.get("scope")
    lookups = {
        "kind": body.get("kind"),
        "occurred_at": body.get("occurred_at"),
        "actor": actor.get("login") if isinstance(actor, dict) else None,
        "repository": _scope_repository(scope),
        "environment": scope.get("environment") if isinstance(scope, dict) else None,
    }
    value = lookups.get(column)
    return value if isinstance(value, str) or value is None else str(value)


def _scope_repository(scope: object) -> str | None:
    if not isinstance(scope, dict) or scope.get("repository") is None:
        return None
    return f"{scope.get('owner')}/{scope.get('repository')}"


def indexed_columns(event: AuditEvent) -> dict[str, str | None]:
    """The query columns a ledger stores next to the body; verify checks they agree."""
    repository = f"{event.scope.owner}/{event.scope.repository}" if event.scope.repository else None
    body = event.to_dict()
    return {
        "kind": event.kind.value,
        "occurred_at": body["occurred_at"],
        "actor": event.actor.login,
        "repository": repository,
        "environment": event.scope.environment,
    }
