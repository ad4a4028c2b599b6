"""``collect --concurrency N``: scopes (repositories, projects) collected by N worker threads,
stored by one writer — the thread that iterates :meth:`ScopeRunner.batches`.

- Workers only fetch and normalize. Each scope's batches go to its own channel; the writer
  takes them scope by scope, in scope order, and stores each batch with its cursors in
  one transaction, exactly as a serial run would: same events, same ids, same ledger order,
  so the same hash chain.
- A worker reads cursors from the ledger as it stood when the scopes began (read once by
  the writer: a ledger connection belongs to its thread), overlaid with the cursors of
  its own batches, stored or still on their way. No scope reads another's cursors.
- Workers run at most ``lookahead`` scopes past the first one not yet stored, so what waits
  in memory for the writer stays bounded.
- A worker's error stops the others at their next batch; every batch already made is still
  stored (a scope's batches are a prefix of its history, each with its own cursor), and
  the first error, in scope order, is raised. A process killed at any point keeps what the
  writer committed; the next run resumes each scope from its cursors.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from pipeledger.collect.adapter import Batch, CollectScope

POLL_SECONDS = 0.2  # how often a waiting writer looks up (Ctrl-C is handled in between)


@dataclass(frozen=True)
class _Done:
    pass


@dataclass(frozen=True)
class _Failed:
    error: BaseException


_Item = Batch | _Done | _Failed


class ScopeCursors:
    """What one scope's worker reads: its own batches' cursors over the ledger's."""

    def __init__(self, stored: Mapping[str, str]) -> None:
        self._stored = stored
        self._own: dict[str, str] = {}

    def cursor(self, key: str) -> str | None:
        return self._own.get(key, self._stored.get(key))

    def made(self, batch: Batch) -> None:
        self._own.update(batch.cursors)


class ScopeRunner:
    def __init__(
        self,
        scopes: Sequence[CollectScope],
        stored: Mapping[str, str],
        workers: int,
        *,
        lookahead: int | None = None,
        on_stored: Callable[[int], None] = lambda done: None,
    ) -> None:
        self._scopes = scopes
        self._stored = stored
        self._workers = max(1, min(workers, len(scopes)))
        self._lookahead = max(lookahead or 2 * workers, 1)
        self._on_stored = on_stored
        self._channels: list[queue.Queue[_Item]] = [queue.Queue() for _ in scopes]
        self._turn = threading.Condition()
        self._next = 0  # the next scope a worker takes
        self._head = 0  # the first scope not yet wholly stored
        self._stop = threading.Event()

    def batches(self) -> Iterator[Batch]:
        """Every scope's batches, scope by scope; the caller stores each before asking for
        the next. Raises the first scope's error, after storing what the others made."""
        threads = [
            threading.Thread(target=self._work, name=f"pipeledger-collect-{n}", daemon=True)
            for n in range(self._workers)
        ]
        for thread in threads:
            thread.start()
        failures: list[BaseException] = []
        try:
            for index, channel in enumerate(self._channels):
                if not self._begun(index):
                    break  # stopped before this scope began
                while not isinstance(item := self._take(channel), _Done | _Failed):
                    yield item
                if isinstance(item, _Failed):
                    failures.append(item.error)
                self._advance(index + 1)
                self._on_stored(index + 1)
        finally:
            self._halt()
        if failures:
            raise failures[0]

    def _begun(self, index: int) -> bool:
        with self._turn:
            return not self._stop.is_set() or index < self._next

    def _take(self, channel: queue.Queue[_Item]) -> _Item:
        while True:
            try:
                return channel.get(timeout=POLL_SECONDS)
            except queue.Empty:
                continue

    def _advance(self, head: int) -> None:
        with self._turn:
            self._head = head
            self._turn.notify_all()

    def _halt(self) -> None:
        self._stop.set()
        with self._turn:
            self._turn.notify_all()

    def _work(self) -> None:
        while (index := self._claim()) is not None:
            self._run(index)

    def _claim(self) -> int | None:
        with self._turn:
            while (
                not self._stop.is_set()
                and self._next < len(self._scopes)
                and self._next >= self._head + self._lookahead
            ):
                self._turn.wait()
            if self._stop.is_set() or self._next >= len(self._scopes):
                return None
            self._next += 1
            return self._next - 1

    def _run(self, index: int) -> None:
        channel = self._channels[index]
        cursors = ScopeCursors(self._stored)
        batches = self._scopes[index].batches(cursors)
        try:
            for batch in batches:
                cursors.made(batch)
                channel.put(batch)
                if self._stop.is_set():
                    break
        except BaseException as error:  # the writer raises it; the others stop
            self._halt()
            channel.put(_Failed(error))
            return
        finally:
            close = getattr(batches, "close", None)
            if close is not None:
                close()
        channel.put(_Done())
