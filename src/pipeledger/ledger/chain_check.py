"""Checking a ledger's hash chain: any update, delete, reorder or insertion behind the
ledger's back breaks a link, and :func:`verify_rows` names the first record where that
happens; anchors (signed checkpoints, copies) catch a chain rewritten from the start."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pipeledger.json_codec import loads
from pipeledger.ledger.chain import GENESIS_HASH, link_hash
from pipeledger.sinks.contract import StoredRow


@dataclass(frozen=True)
class Anchor:
    """A hash the chain must have at ``seq``, as a checkpoint or a copy recorded it."""

    seq: int
    hash: str
    origin: str


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


# Called with each verified record's seq and parsed body, for a reader that needs the events
# too (the evidence pack): the ledger is then read and parsed once, not twice.
BodySeen = Callable[[int, dict[str, Any]], None]


def verify_rows(
    rows: Iterable[StoredRow], anchors: Iterable[Anchor] = (), each_body: BodySeen | None = None
) -> VerifyReport:
    """Recompute the chain; each anchor's hash must be the chain's at its seq. An anchor past
    the last record means records were cut from the end (its ``Break`` has no event id)."""
    pending = sorted(anchors, key=lambda anchor: anchor.seq, reverse=True)
    prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    agreed = 0
    for row in rows:
        problem = _row_problem(row, expected_seq, prev, each_body)
        while not problem and pending and pending[-1].seq <= row.seq:
            anchor = pending.pop()
            problem = _anchor_problem(anchor, row.seq, row.hash, agreed)
            agreed = max(agreed, anchor.seq)
        if problem:
            return VerifyReport(checked, prev, Break(row.seq, row.event_id, problem))
        prev = row.hash
        expected_seq += 1
        checked += 1
    return _after_last_row(checked, prev, pending, agreed)


def _anchor_problem(anchor: Anchor, seq: int, chain_hash: str, agreed: int) -> str | None:
    expected = GENESIS_HASH if anchor.seq == 0 else chain_hash
    if anchor.seq not in (0, seq) or anchor.hash == expected:
        return None
    since = f"after seq {agreed}, where they last agree" if agreed else "from the start"
    return (
        f"{anchor.origin} records the chain head at seq {anchor.seq} as"
        f" {anchor.hash[:16]}…, the ledger has {expected[:16]}… (the ledger was rewritten"
        f" at or before this record, {since})"
    )


def _after_last_row(checked: int, prev: str, pending: list[Anchor], agreed: int) -> VerifyReport:
    for anchor in reversed(pending):
        if anchor.seq == 0:
            problem = _anchor_problem(anchor, 0, GENESIS_HASH, agreed)
            if problem:
                return VerifyReport(checked, prev, Break(0, "", problem))
            continue
        problem = (
            f"the ledger ends at seq {checked} but {anchor.origin} records seq {anchor.seq}"
            " (records were removed from the end)"
        )
        return VerifyReport(checked, prev, Break(checked + 1, "", problem))
    return VerifyReport(checked, prev, None)


def _row_problem(
    row: StoredRow, expected_seq: int, prev: str, each_body: BodySeen | None = None
) -> str | None:
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
    return _index_problem(row, each_body)


def _index_problem(row: StoredRow, each_body: BodySeen | None = None) -> str | None:
    try:
        body = loads(row.body)
    except ValueError:
        return "the record's body is not valid JSON"
    if not isinstance(body, dict):
        return "the record's body is not an event object"
    if body.get("id") != row.event_id:
        return "the indexed event id differs from the record's content"
    values = _indexed_values(body)  # once per record, not once per column
    for column, value in row.indexed.items():
        if values.get(column) != value:
            return f"the indexed column {column!r} differs from the record's content"
    if each_body is not None:
        each_body(row.seq, body)
    return None


def _indexed_values(body: dict[str, object]) -> dict[str, str | None]:
    actor = body.get("actor")
    scope = body.get("scope")
    return {
        "kind": _text(body.get("kind")),
        "occurred_at": _text(body.get("occurred_at")),
        "actor": _text(actor.get("login")) if isinstance(actor, dict) else None,
        "repository": _scope_repository(scope),
        "environment": _text(scope.get("environment")) if isinstance(scope, dict) else None,
    }


def _text(value: object) -> str | None:
    """A column's value as the store keeps it: text, or NULL."""
    return value if type(value) is str or value is None else str(value)


def _scope_repository(scope: object) -> str | None:
    if not isinstance(scope, dict) or scope.get("repository") is None:
        return None
    return f"{scope.get('owner')}/{scope.get('repository')}"
