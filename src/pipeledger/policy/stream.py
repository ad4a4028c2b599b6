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
from pipeledger.policy.context import DeploymentContext, EventIndex, deployment_context

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
    events: list[AuditEvent] = field(default_factory=list)


OnDeployment = Callable[[DeploymentContext, int], None]


class DeploymentStream:
    """Feed it context events (``CONTEXT_KINDS``) in time order with their seq; it calls
    ``on_deployment(ctx, first_seq)`` for each deployment once its window has passed, or at
    :meth:`close`. Within one key every list stays in chain order, so a deployment is joined
    exactly as :func:`pipeledger.policy.context.assemble` joins it from the whole ledger."""

    def __init__(self, window: Window, on_deployment: OnDeployment) -> None:
        self._window = window
        self._on_deployment = on_deployment
        self._index = EventIndex()
        self._seqs: dict[str, int] = {}  # id -> seq of every event held
        self._held: deque[AuditEvent] = deque()  # context events, in arrival (time) order
        self._groups: dict[str, _Group] = {}
        self._opened: deque[_Group] = deque()
        # Keys of deployments already judged: a status arriving later than ``look_ahead``
        # must not come back as a deployment of its own. One short string per deployment.
        self._judged: set[str] = set()

    def seq_of(self, event: AuditEvent) -> int:
        return self._seqs[event.id]

    def add(self, event: AuditEvent, seq: int) -> None:
        now = event.occurred_at
        self._judge_until(now - self._window.look_ahead)
        self._release_until(now - self._window.reach)
        self._seqs[event.id] = seq
        if event.kind is EventKind.DEPLOYMENT:
            self._add_status(event, seq)
            return
        for table, key in self._index.places(event):
            bisect.insort(table[key], event, key=self.seq_of)
        self._held.append(event)

    def close(self) -> None:
        """Judge every deployment still open: the ledger has nothing more."""
        while self._opened:
            self._judge(self._opened.popleft())

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
            group = self._groups[key] = _Group(key, event.occurred_at, seq)
            self._opened.append(group)
        group.first_seq = min(group.first_seq, seq)
        bisect.insort(group.events, event, key=self.seq_of)

    def _judge_until(self, cutoff: datetime) -> None:
        while self._opened and self._opened[0].first_seen < cutoff:
            self._judge(self._opened.popleft())

    def _judge(self, group: _Group) -> None:
        self._index.since = group.first_seen - self._window.look_back
        ctx = deployment_context(group.events, self._index)
        self._on_deployment(ctx, group.first_seq)
        del self._groups[group.key]
        self._judged.add(group.key)
        for event in group.events:
            del self._seqs[event.id]

    def _release_until(self, cutoff: datetime) -> None:
        held = self._held
        while held and held[0].occurred_at < cutoff:
            event = held.popleft()
            for table, key in self._index.places(event):
                kept = [each for each in table[key] if each is not event]
                if kept:
                    table[key] = kept
                else:
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
