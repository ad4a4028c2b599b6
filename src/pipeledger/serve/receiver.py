"""The webhook receiver contract: how a platform plugin authenticates deliveries and turns
them into audit events for ``pipeledger serve``. Receivers are found through the
``pipeledger.webhooks`` entry-point group, the project's own like anyone else's."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol

from pipeledger.events import AuditEvent

Json = Mapping[str, Any]


class DeliveryRejected(Exception):
    """A delivery the server refuses; ``status`` is the HTTP answer, ``reason`` a short
    label for the metrics and the log (never a secret, never the body)."""

    status: int = 400

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class Unauthorized(DeliveryRejected):
    """Unsigned, wrongly signed or wrong-token deliveries (401)."""

    status = 401


class MalformedDelivery(DeliveryRejected):
    """A body that is not a JSON object, or a delivery without the headers it needs (400)."""

    status = 400


def delivery_headers(
    headers: Mapping[str, str], id_header: str, event_header: str
) -> tuple[str, str]:
    """The delivery id and event name a webhook's headers carry (``headers`` keyed in lower
    case); a delivery without both is malformed (400)."""
    delivery_id = headers.get(id_header.lower(), "").strip()
    event = headers.get(event_header.lower(), "").strip()
    if not delivery_id or not event:
        raise MalformedDelivery("missing_headers", f"{id_header} and {event_header} are required")
    return delivery_id, event


@dataclass(frozen=True)
class Route:
    """One path a receiver answers and the channel it feeds (``webhook``, ``audit-stream``)."""

    path: str
    channel: str


@dataclass(frozen=True)
class Delivery:
    """One authenticated delivery, parsed: who sent it, its id, its event name and body."""

    receiver: str
    channel: str
    delivery_id: str
    event: str
    payload: Json
    received_at: datetime
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """Unique across receivers: what idempotency is keyed on."""
        return f"{self.receiver}/{self.channel}/{self.delivery_id}"


@dataclass(frozen=True)
class Handling:
    """What to store for a delivery. ``known`` is False for an event type the receiver does
    not map (answered 202, counted). ``cursors`` are stored in the same transaction as
    the events; ``after_commit`` runs on a worker once both are durable."""

    events: Sequence[AuditEvent] = ()
    known: bool = True
    cursors: Mapping[str, str] = field(default_factory=dict)
    after_commit: Callable[[], None] | None = None


class LedgerAccess(Protocol):
    """What a receiver's background work may do with the ledger: store atomically, read
    cursors. Calls block until the ledger answers; they raise SinkError when it cannot."""

    def commit(self, events: Sequence[AuditEvent], cursors: Mapping[str, str]) -> int: ...

    def cursor(self, key: str) -> str | None: ...

    def cursors_with_prefix(self, prefix: str) -> list[tuple[str, str]]: ...


@dataclass(frozen=True)
class ReceiverSettings:
    """What the core hands a receiver plugin: the environment it may read for its secrets,
    the API root and options of ``serve``, and the policy the gate evaluates."""

    environ: Mapping[str, str]
    api_url: str | None = None
    policy_path: str | None = None
    fail_open: bool = False
    decision_timeout: float = 60.0
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RedeliveryRequest:
    """``pipeledger webhooks redeliver``: whose hooks (``org``/``repo`` and its name, or the
    receiver's App), deliveries since when, and whether to only list them."""

    scope: str
    name: str | None
    since: datetime
    environ: Mapping[str, str]
    api_url: str | None = None
    dry_run: bool = False


@dataclass
class RedeliverySummary:
    """Deliveries seen, those that failed and were not delivered since, and those asked for
    again; ``failed_ids`` names them."""

    seen: int = 0
    failed_ids: list[str] = field(default_factory=list)
    asked: int = 0


class Receiver(ABC):
    name: ClassVar[str]
    routes: ClassVar[tuple[Route, ...]]

    @classmethod
    @abstractmethod
    def create(cls, settings: ReceiverSettings) -> Receiver:
        """Build the receiver; raise UsageError for a setting that is present but unusable."""

    @abstractmethod
    def enabled(self) -> list[str]:
        """The paths this receiver will accept deliveries on: those whose secret is set."""

    @abstractmethod
    def authenticate(self, route: Route, headers: Mapping[str, str], body: bytes) -> None:
        """Raise Unauthorized unless the delivery proves it comes from the platform.
        Called before the body is parsed; compares secrets in constant time."""

    @abstractmethod
    def delivery(
        self, route: Route, headers: Mapping[str, str], payload: Json, received_at: datetime
    ) -> Delivery:
        """The delivery's id and event name from its headers or body; raise
        MalformedDelivery when they are missing."""

    @abstractmethod
    def handle(self, delivery: Delivery) -> Handling:
        """The events a delivery means. Pure and quick: no network here."""

    def start(self, ledger: LedgerAccess) -> None:  # noqa: B027 - most receivers need nothing
        """Called once the ledger is open, before the first delivery: resume unfinished
        background work."""

    def stop(self) -> None:  # noqa: B027 - most receivers hold nothing
        """Called on shutdown, after the last delivery."""

    @classmethod
    def redeliver(cls, request: RedeliveryRequest) -> RedeliverySummary:
        """Ask the platform to deliver again what failed; platforms that retry by themselves
        keep this default."""
        from pipeledger.errors import UsageError

        raise UsageError(f"The {cls.name} receiver cannot ask for redeliveries.")
