"""The one thread that writes the ledger for ``serve``: deliveries waiting at the same moment
are committed together in one transaction (group commit), and each is answered only once its
events are durable. A ledger that fails is closed and opened again for the next batch, so an
outage costs 503s while it lasts and nothing half-written."""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TypeVar

from pipeledger.errors import PipeledgerError, SinkError
from pipeledger.events import AuditEvent
from pipeledger.sinks.contract import Ledger
from pipeledger.sinks.fanout import SinkSet

T = TypeVar("T")
MAX_BATCH = 1000
DELIVER_EVERY = 1.0  # seconds between fan-outs to the other sinks
_STOP = object()


@dataclass
class _Commit:
    events: Sequence[AuditEvent]
    cursors: Mapping[str, str]
    done: Future[int] = field(default_factory=Future)


@dataclass
class _Call:
    call: Callable[[Ledger], object]
    done: Future[object] = field(default_factory=Future)


# Each sink other than the ledger, by its shown URL: None when its last delivery went
# through, else why it failed (its events wait in the ledger for the next delivery).
SinkStatus = Mapping[str, str | None]


class LedgerWriter:
    def __init__(
        self,
        open_sinks: Callable[[], SinkSet],
        *,
        max_batch: int = MAX_BATCH,
        on_batch: Callable[[int, int], None] | None = None,
        on_sinks: Callable[[SinkStatus], None] | None = None,
    ) -> None:
        self._open_sinks = open_sinks
        self._max_batch = max_batch
        self._on_batch = on_batch
        self._on_sinks = on_sinks
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._sinks: SinkSet | None = None
        self._thread: threading.Thread | None = None
        self._last_delivery = 0.0

    def start(self) -> None:
        """Open the sinks now, on the writer thread (SQLite connections belong to the thread
        that opened them), so a ledger that cannot open stops ``serve`` before it listens."""
        opened: Future[None] = Future()
        self._thread = threading.Thread(
            target=self._loop, args=(opened,), name="ledger-writer", daemon=True
        )
        self._thread.start()
        try:
            opened.result()
        except BaseException:
            self._thread.join()
            self._thread = None
            raise

    def stop(self) -> None:
        """Finish what is queued, deliver, checkpoint and close the sinks."""
        if self._thread is None:
            return
        self._queue.put(_STOP)
        self._thread.join()
        self._thread = None

    @property
    def healthy(self) -> bool:
        return self._sinks is not None

    async def commit(self, events: Sequence[AuditEvent], cursors: Mapping[str, str]) -> int:
        """Store the events and cursors; return how many events were new. Raises
        SinkError when the ledger cannot take them (nothing of them is stored)."""
        job = _Commit(events, cursors)
        self._queue.put(job)
        return await asyncio.wrap_future(job.done)

    def commit_blocking(self, events: Sequence[AuditEvent], cursors: Mapping[str, str]) -> int:
        job = _Commit(events, cursors)
        self._queue.put(job)
        return job.done.result()

    def call(self, call: Callable[[Ledger], T]) -> T:
        """Run ``call`` with the ledger on the writer thread (SQLite connections belong to
        the thread that opened them) and return its result."""
        job = _Call(call)
        self._queue.put(job)
        return job.done.result()  # type: ignore[return-value]

    def _loop(self, opened: Future[None]) -> None:
        try:
            self._sinks = self._open_sinks()
        except BaseException as error:
            opened.set_exception(error)
            return
        opened.set_result(None)
        while True:
            first = self._queue.get()
            if first is _STOP:
                break
            jobs = [first, *self._drain()]
            stop = _STOP in jobs
            self._run([job for job in jobs if job is not _STOP])
            if stop:
                break
        self._close()

    def _drain(self) -> list[object]:
        jobs: list[object] = []
        while len(jobs) < self._max_batch:
            try:
                jobs.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return jobs

    def _run(self, jobs: list[object]) -> None:
        commits = [job for job in jobs if isinstance(job, _Commit)]
        if commits:
            self._commit(commits)
        for job in jobs:
            if isinstance(job, _Call):
                self._call(job)
        self._deliver_now_and_then()

    def _commit(self, commits: list[_Commit]) -> None:
        try:
            sinks = self._ledger_sinks()
            events = [event for job in commits for event in job.events]
            cursors = {key: value for job in commits for key, value in job.cursors.items()}
            records = sinks.append(events, cursors, deliver=False)
            stored = {record.event.id for record in records}
        except PipeledgerError as error:
            self._fail(commits, error)
            return
        except Exception as error:  # a broken ledger plugin must not stop the server
            self._fail(commits, _unexpected(error))
            return
        if self._on_batch is not None:
            self._on_batch(len(commits), len(stored))
        for job in commits:
            job.done.set_result(sum(1 for event in job.events if event.id in stored))

    def _fail(self, jobs: Sequence[_Commit | _Call], error: PipeledgerError) -> None:
        self._reset()
        for job in jobs:
            job.done.set_exception(error)

    def _call(self, job: _Call) -> None:
        try:
            job.done.set_result(job.call(self._ledger_sinks().ledger))
        except PipeledgerError as error:
            self._fail([job], error)
        except Exception as error:
            job.done.set_exception(error)

    def _ledger_sinks(self) -> SinkSet:
        if self._sinks is None:
            self._sinks = self._open_sinks()
        return self._sinks

    def _reset(self) -> None:
        """Drop a ledger that failed: the next batch opens it again."""
        sinks, self._sinks = self._sinks, None
        if sinks is not None:
            with contextlib.suppress(Exception):  # it failed already; closing is best effort
                sinks.close()

    def _deliver_now_and_then(self) -> None:
        """Fan out to the other sinks at most once a second, after the answers went out."""
        now = time.monotonic()
        if (
            self._sinks is None
            or not self._sinks.others
            or now - self._last_delivery < DELIVER_EVERY
        ):
            return
        self._last_delivery = now
        sinks = self._sinks
        sinks.failures.clear()
        sinks.deliver()
        if self._on_sinks is not None:
            failures = sinks.failures
            self._on_sinks(
                {
                    sink.display_url: (
                        failures[sink.display_url].describe()
                        if sink.display_url in failures
                        else None
                    )
                    for sink in sinks.others
                }
            )

    def _close(self) -> None:
        if self._sinks is not None:
            self._sinks.close()
            self._sinks = None


def _unexpected(error: Exception) -> SinkError:
    failure = SinkError(
        f"The ledger failed unexpectedly ({type(error).__name__}).",
        "This is a bug in its plugin; please report it. The delivery was answered 503 and"
        " nothing of it was stored.",
    )
    failure.__cause__ = error
    return failure
