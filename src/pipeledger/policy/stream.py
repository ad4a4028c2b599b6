"""``audit`` over a ledger of any size: the events are read in time order, deployments are
assembled as their events arrive and judged once nothing more can join them, and what no
deployment still waiting can need is let go.

Memory is bounded by the deployments and context events of one window (``look_back`` +
``look_ahead`` of history), not by the ledger: a deployment first seen at ``t`` is joined
with exactly the runs, approvals and reviews from ``t - look_back`` to ``t + look_ahead`` and
with its status events up to ``t + look_ahead``. The in-memory audit joins whatever the
ledger holds, however far away; inside the window both give the same verdict, which is why
the default reaches three months back and a month ahead.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pipeledger.events import AuditEvent, EventKind
from pipeledger.policy.deployment_context import (
    DeploymentContext,
    EventIndex,
    Key,
    Table,
    deployment_context,
)

DEFAULT_LOOK_BACK = timedelta(days=90)
DEFAULT_LOOK_AHEAD = timedelta(days=30)


@dataclass(frozen=True)
class Window:
    """How far from a deployment its context is looked for (see the module's docstring)."""

    look_back: timedelta = DEFAULT_LOOK_BACK
    look_ahead: timedelta = DEFAULT_LOOK_AHEAD

    @property
    def reach(self) -> timedelta:
        return self.look_back + self.look_ahead


@dataclass
class _Group:
    """A deployment's status events so far, in chain order."""

    key: str
    first_seen: datetime
    first_seq: int
    due: datetime  # first_seen + look_ahead: judged once the stream passes it
    events: list[AuditEvent] = field(default_factory=list)


OnDeployment = Callable[[DeploymentContext, int], None]


class DeploymentStream:
    """Feed it context events (``CONTEXT_KINDS``) in time order with their seq; it calls
    ``on_deployment(ctx, first_seq)`` for each deployment once its window has passed, or at
    :meth:`close`. Within one key every list stays in chain order, so a deployment is joined
    exactly as :func:`pipeledger.policy.deployment_context.assemble` joins it from the whole
    ledger."""

    def __init__(self, window: Window, on_deployment: OnDeployment) -> None:
        self._window = window
        self._reach = window.reach  # read for every event: a property adds two timedeltas
        self._on_deployment = on_deployment
        self._index = EventIndex()
        self._seqs: dict[str, int] = {}  # id -> seq of every event held
        # Context events in arrival (time) order, with where each is filed in the index.
        self._held: deque[tuple[AuditEvent, list[tuple[Table, Key]]]] = deque()
        self._groups: dict[str, _Group] = {}
        self._opened: deque[_Group] = deque()
        # Keys of deployments already judged: a status arriving later than ``look_ahead``
        # must not come back as a deployment of its own. One short string per deployment.
        self._judged: set[str] = set()

    def seq_of(self, event: AuditEvent) -> int:
        return self._seqs[event.id]

    def add(self, event: AuditEvent, seq: int) -> None:
        now = event.occurred_at
        opened, held = self._opened, self._held
        if opened and opened[0].due < now:
            self._judge_until(now)
        if held and held[0][0].occurred_at < now - self._reach:
            self._release_until(now - self._reach)
        self._seqs[event.id] = seq
        if event.kind is EventKind.DEPLOYMENT:
            self._add_status(event, seq)
            return
        places = self._index.places(event)
        for table, key in places:
            self._file(table[key], event, seq)
        held.append((event, places))

    def _file(self, events: list[AuditEvent], event: AuditEvent, seq: int) -> None:
        """Keep ``events`` in chain order; they nearly always arrive in it."""
        if not events or self._seqs[events[-1].id] < seq:
            events.append(event)
        else:
            bisect.insort(events, event, key=self.seq_of)

    def close(self) -> None:
        """Judge every deployment still open: the ledger has nothing more. The window's
        events are let go here, so the verdict is put in order in the memory they held."""
        while self._opened:
            self._judge(self._opened.popleft())
        self._held.clear()
        self._index = EventIndex()
        self._seqs.clear()
        self._judged.clear()

    def _add_status(self, event: AuditEvent, seq: int) -> None:
        key = "\x1f".join(
            (
                event.scope.owner,
                event.scope.repository or "",
                event.correlation.get("deployment_id") or event.id,
            )
        )
        if key in self._judged:
            del self._seqs[event.id]
            return
        group = self._groups.get(key)
        if group is None:
            due = event.occurred_at + self._window.look_ahead
            group = self._groups[key] = _Group(key, event.occurred_at, seq, due)
            self._opened.append(group)
        group.first_seq = min(group.first_seq, seq)
        self._file(group.events, event, seq)

    def _judge_until(self, now: datetime) -> None:
        while self._opened and self._opened[0].due < now:
            self._judge(self._opened.popleft())

    def _judge(self, group: _Group) -> None:
        since = group.first_seen - self._window.look_back
        # Filter lookups by time only while the index holds something older than that.
        oldest = self._held[0][0].occurred_at if self._held else None
        self._index.since = since if oldest is not None and oldest < since else None
        ctx = deployment_context(group.events, self._index)
        self._on_deployment(ctx, group.first_seq)
        del self._groups[group.key]
        self._judged.add(group.key)
        for event in group.events:
            del self._seqs[event.id]

    def _release_until(self, cutoff: datetime) -> None:
        held = self._held
        while held and held[0][0].occurred_at < cutoff:
            event, places = held.popleft()
            for table, key in places:
                events = table[key]
                if events[0] is event:  # the oldest is usually first
                    del events[0]
                else:
                    events[:] = [each for each in events if each is not event]
                if not events:
                    del table[key]
            del self._seqs[event.id]


class SeqSet:
    """Which seqs were counted, one bit each: the number of distinct events a verdict rests
    on, without holding their ids."""

    def __init__(self) -> None:
        self._bits = bytearray()
        self.count = 0

    def add(self, seq: int) -> None:
        index, mask = seq >> 3, 1 << (seq & 7)
        if index >= len(self._bits):
            self._bits.extend(bytes(index - len(self._bits) + 4096))
        if not self._bits[index] & mask:
            self._bits[index] |= mask
            self.count += 1
