"""The sink contract: where events go. A :class:`Ledger` is a sink that also keeps the hash
chain, its checkpoints and the cursors, and can be read back (SQLite, PostgreSQL).

One word for one thing: a *checkpoint* is a chain head, signed when a key is set
(:class:`ChainCheckpoint`, :meth:`Sink.write_checkpoint`); a *cursor* is a key and a value
saying where a collection or a delivery resumes (:meth:`Ledger.cursor`), stored in the same
transaction as the events it follows; a *snapshot* is the stored state of a scope's grants
and protections, which the ledger keeps under cursor keys of its own (``snapshot:...``).
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, NamedTuple

from pipeledger.events import AuditEvent, EventKind, canonical_json
from pipeledger.ledger.quarantine import QuarantinedRecord


@dataclass(frozen=True)
class SinkSettings:
    """What the core hands a sink plugin: the environment it may read for its secrets."""

    environ: Mapping[str, str]
    timeout: float = 30.0
    # False when a command only reads the ledger: a ledger that does not exist yet raises
    # LedgerNotFound instead of being created empty.
    create_ledger: bool = True


@dataclass(frozen=True)
class LedgerRecord:
    """An event as the ledger stored it: its place in the chain and the chain's hash."""

    seq: int
    prev_hash: str
    hash: str
    event: AuditEvent
    # The event's canonical JSON as stored, when the ledger has it: sinks reuse it instead of
    # serializing the event again.
    body: str | None = field(default=None, compare=False, repr=False)

    def to_json(self) -> str:
        """Canonical JSON of :meth:`to_dict` (keys sorted, no spaces), cheap when ``body`` is
        known: the record's other keys sort around the event's exactly like this."""
        if self.body is None:
            return canonical_json(self.to_dict())
        return (
            f'{{"event":{self.body},"hash":"{self.hash}","prev_hash":"{self.prev_hash}",'
            f'"seq":{self.seq}}}'
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
            "event": self.event.to_dict(),
        }


@dataclass(frozen=True)
class EventFilter:
    kinds: tuple[EventKind, ...] = ()
    actor: str | None = None
    repository: str | None = None
    environment: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    after_seq: int = 0
    # Order by when the events happened (then by seq) instead of chain order: what a reader
    # that streams history through a time window needs (``audit``). Ledgers serve it from an
    # index, in batches, so the reader holds only what its window needs.
    by_time: bool = False

    def matches(self, event: AuditEvent) -> bool:
        """The same rules the ledgers apply in SQL, for sinks that filter in Python."""
        return (
            (not self.kinds or event.kind in self.kinds)
            and (self.actor is None or event.actor.login == self.actor)
            and (self.repository is None or _repository_name(event) == self.repository)
            and (self.environment is None or event.scope.environment == self.environment)
            and (self.since is None or event.occurred_at >= self.since)
            and (self.until is None or event.occurred_at < self.until)
        )


def _repository_name(event: AuditEvent) -> str | None:
    return event.scope.full_name


class StoredRow(NamedTuple):
    """A ledger row exactly as stored, for verification: nothing is trusted or parsed yet.
    A named tuple, as ``StoredBody``: ``verify`` makes one per record, at half the cost of a
    frozen dataclass."""

    seq: int
    event_id: str
    body: str
    prev_hash: str
    hash: str
    indexed: Mapping[str, str | None]


class StoredBody(NamedTuple):
    """A record's place in the chain, kind and canonical JSON, not parsed yet."""

    seq: int
    kind: str
    body: str


# What checkpoint 1 names as its ``previous``.
GENESIS_CHECKPOINT = "0" * 64


@dataclass(frozen=True)
class ChainCheckpoint:
    """The chain head at one moment, signed when a key is configured (Ed25519, base64).

    Written to every sink, so a remote copy exposes a local ledger that was rewritten whole.
    ``chain_id`` names the ledger whose chain it describes: a store fed by several ledgers
    keeps each one's checkpoints apart.

    Format 2 (``counter`` set) also chains the checkpoints themselves: each carries a counter
    one higher than the last and the :meth:`digest` of that last one, inside what is signed,
    so a checkpoint deleted from the middle, or a ledger rolled back to an earlier checkpoint
    and compared with an exported later one, shows. Format 1 checkpoints (older ledgers) have
    neither and are still read and verified.
    """

    seq: int
    head_hash: str
    created_at: datetime
    key_id: str | None = None
    signature: str | None = None
    chain_id: str | None = None
    counter: int | None = None
    previous: str | None = None

    @property
    def format(self) -> int:
        return 1 if self.counter is None else 2

    def signed_message(self) -> bytes:
        """The exact bytes that are signed, one field per line."""
        if self.counter is None:
            lines: tuple[str, ...] = (
                "pipeledger-checkpoint-v1",
                str(self.seq),
                self.head_hash,
                self.created_at.isoformat(),
            )
        else:
            lines = (
                "pipeledger-checkpoint-v2",
                self.chain_id or "",
                str(self.counter),
                self.previous or "",
                str(self.seq),
                self.head_hash,
                self.created_at.isoformat(),
            )
        return "\n".join(lines).encode()

    def digest(self) -> str:
        """SHA-256 of the signed message: what the next checkpoint names as ``previous``."""
        return hashlib.sha256(self.signed_message()).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "seq": self.seq,
            "head_hash": self.head_hash,
            "created_at": self.created_at.isoformat(),
            "key_id": self.key_id,
            "signature": self.signature,
            "chain_id": self.chain_id,
        }
        if self.counter is not None:  # format 1 keeps its exact old form (and fingerprint)
            data["counter"] = self.counter
            data["previous"] = self.previous
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ChainCheckpoint:
        """Raises ValueError, KeyError or TypeError on anything that is not a checkpoint."""
        created_at = datetime.fromisoformat(str(data["created_at"]))
        if created_at.tzinfo is None:
            raise ValueError("checkpoint time has no UTC offset")
        counter = data.get("counter")
        if counter is not None and (isinstance(counter, bool) or int(counter) < 1):
            raise ValueError("checkpoint counter is not a positive number")
        return cls(
            seq=int(data["seq"]),
            head_hash=str(data["head_hash"]),
            created_at=created_at,
            key_id=_optional_text(data.get("key_id")),
            signature=_optional_text(data.get("signature")),
            chain_id=_optional_text(data.get("chain_id")),
            counter=None if counter is None else int(counter),
            previous=_optional_text(data.get("previous")),
        )


def _optional_text(value: object) -> str | None:
    return None if value is None else str(value)


class Sink(ABC):
    """Receives records. Writes must be idempotent by event id where the store allows it."""

    # False for sinks that only see what happens from now on (stdout).
    replays_history: ClassVar[bool] = True

    @classmethod
    @abstractmethod
    def open(cls, url: str, settings: SinkSettings) -> Sink:
        """Open (and create if needed) the store; raise SinkError saying what to fix."""

    @property
    @abstractmethod
    def display_url(self) -> str:
        """The URL with any secret removed: the only form ever printed."""

    @abstractmethod
    def write(self, records: Sequence[LedgerRecord]) -> None:
        """Store records; a record already stored (same event id) is skipped."""

    def write_checkpoint(self, checkpoint: ChainCheckpoint) -> None:
        """Store a chain checkpoint next to the records. Sinks that can hold one override
        this; the default refuses, so a sink cannot silently drop checkpoints."""
        raise NotImplementedError(f"{type(self).__name__} does not store checkpoints")

    def stored_checkpoints(self) -> Iterator[ChainCheckpoint]:
        """Every chain checkpoint this sink holds, in the order stored, for
        ``verify --against``. Sinks that cannot be read back keep this default."""
        raise NotImplementedError(f"{type(self).__name__} cannot be read back")

    def check(self) -> None:  # noqa: B027 - a sink that opened fine may have nothing to add
        """Test connectivity and permissions without writing events; raise SinkError
        saying what to fix. The default opens nothing more than ``open`` did."""

    def close(self) -> None:  # noqa: B027 - most sinks hold nothing to release
        """Release connections and files."""


class Ledger(Sink):
    """A readable sink: it owns the hash chain, its checkpoints, and the cursors of
    collection and delivery."""

    @abstractmethod
    def append(
        self, events: Sequence[AuditEvent], cursors: Mapping[str, str]
    ) -> list[LedgerRecord]:
        """Chain and store the events not yet present, and the cursors, in one
        transaction; return the new records only."""

    def write(self, records: Sequence[LedgerRecord]) -> None:
        self.append([record.event for record in records], {})

    @abstractmethod
    def cursor(self, key: str) -> str | None: ...

    @abstractmethod
    def set_cursors(self, cursors: Mapping[str, str]) -> None: ...

    def cursors_with_prefix(self, prefix: str) -> list[tuple[str, str]]:
        """Every cursor whose key starts with ``prefix``, as (key, value) sorted by key
        (byte order), e.g. a scope's snapshot history. Ledgers override this; the default
        refuses rather than answer wrongly."""
        raise NotImplementedError(f"{type(self).__name__} cannot list cursors")

    def quarantine(self, records: Sequence[QuarantinedRecord]) -> list[QuarantinedRecord]:
        """Keep records that could not become valid events; return those not kept before
        (same fingerprint). Ledgers override this; the default refuses rather than drop."""
        raise NotImplementedError(f"{type(self).__name__} has no quarantine")

    def quarantined(self) -> Iterator[QuarantinedRecord]:
        """Every quarantined record, oldest first."""
        raise NotImplementedError(f"{type(self).__name__} has no quarantine")

    @abstractmethod
    def records(self, selection: EventFilter | None = None) -> Iterator[LedgerRecord]:
        """Records in chain order, optionally filtered."""

    def event_bodies(self, selection: EventFilter | None = None) -> Iterator[tuple[str, str]]:
        """``(kind, canonical JSON)`` of the records ``selection`` matches, in chain order,
        without building events: for readers that need a few fields of very many events
        (``anomalies``). Ledgers that store the body override this to skip parsing."""
        for record in self.records(selection):
            yield record.event.kind.value, record.body or record.event.canonical_json()

    def stored_bodies(self, selection: EventFilter | None = None) -> Iterator[StoredBody]:
        """The records ``selection`` matches as :class:`StoredBody` (seq, kind, exact body),
        in the order it asks for, without building events: a streaming reader parses only
        the ones it keeps (:func:`pipeledger.ledger.chain.event_from_body`). Ledgers override this
        to skip parsing; this default builds each event."""
        for record in self.records(selection):
            body = record.body or record.event.canonical_json()
            yield StoredBody(record.seq, record.event.kind.value, body)

    @abstractmethod
    def rows(self) -> Iterator[StoredRow]:
        """Raw rows in storage order for ``verify``; must not trust any stored value."""

    @abstractmethod
    def head_seq(self) -> int:
        """The seq of the last record, 0 when empty."""

    @property
    @abstractmethod
    def chain_id(self) -> str:
        """A random id fixed when the ledger was created; it labels its checkpoints."""

    @abstractmethod
    def stored_checkpoints(self) -> Iterator[ChainCheckpoint]:
        """Every chain checkpoint stored: this ledger's own and any received as a copy."""

    def own_checkpoints(self) -> list[ChainCheckpoint]:
        """Checkpoints of this ledger's own chain, in stored order (not those it keeps as a
        copy for another ledger)."""
        chain_id = self.chain_id
        return [c for c in self.stored_checkpoints() if c.chain_id in (chain_id, None)]

    def head(self) -> tuple[int, str]:
        """The last record's seq and hash ((0, genesis) when empty). Records never change,
        so the hash read for a seq stays right while other writers append."""
        seq = self.head_seq()
        for record in self.records(EventFilter(after_seq=seq - 1)):
            return record.seq, record.hash
        return 0, "0" * 64
