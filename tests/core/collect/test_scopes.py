"""The scope runner: workers fetch, one writer receives every batch in serial order."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from pipeledger.collect._scopes import ScopeRunner
from pipeledger.collect.adapter import Batch, CollectScope, CursorReader
from pipeledger.errors import PlatformError


def _scope(name: str, pages: int, pause: float, fail_after: int | None = None) -> CollectScope:
    def batches(cursors: CursorReader) -> Iterator[Batch]:
        start = int(cursors.cursor(name) or 0)
        for page in range(start, pages):
            if page == fail_after:
                raise PlatformError(f"{name} answered HTTP 500")
            time.sleep(pause)
            # A scope reads back what it stored: its own cursors, stored or not yet.
            assert cursors.cursor(name) == (str(page) if page else None)
            yield Batch(events=[], cursors={name: str(page + 1)})

    return CollectScope(name, batches)


def _names(batches: list[Batch]) -> list[str]:
    """``a-2``: scope a's page 2, told by the cursor each batch carries."""
    return [f"{key}-{int(value) - 1}" for batch in batches for key, value in batch.cursors.items()]


def test_batches_come_in_serial_order_whatever_finishes_first() -> None:
    # Later scopes are quicker: they finish first and wait for the writer.
    scopes = [_scope(f"s{n}", 3, 0.002 * (6 - n)) for n in range(6)]
    stored: list[int] = []
    runner = ScopeRunner(scopes, {}, 4, on_stored=stored.append)
    assert _names(list(runner.batches())) == [f"s{n}-{p}" for n in range(6) for p in range(3)]
    assert stored == [1, 2, 3, 4, 5, 6]


def test_each_scope_resumes_from_the_ledgers_cursors() -> None:
    runner = ScopeRunner([_scope("a", 3, 0), _scope("b", 3, 0)], {"a": "2"}, 2)
    assert _names(list(runner.batches())) == ["a-2", "b-0", "b-1", "b-2"]


def test_an_error_stops_the_others_and_every_batch_made_is_still_given() -> None:
    # b fails after c has had time for a page or two (c must have made some, not all).
    scopes = [_scope("a", 4, 0.01), _scope("b", 4, 0.03, fail_after=1), _scope("c", 40, 0.01)]
    runner = ScopeRunner(scopes, {}, 3)
    given: list[Batch] = []
    with pytest.raises(PlatformError, match="b answered HTTP 500"):
        for batch in runner.batches():
            given.append(batch)
    names = _names(given)
    # In scope order, each scope a prefix of its pages: what was made before the stop.
    assert names == sorted(names, key=lambda name: (name[0], int(name[2:])))
    assert names[0] == "a-0" and "b-0" in names and "b-1" not in names
    # c stopped at a batch boundary, well before its 40 pages.
    assert 0 < sum(name.startswith("c-") for name in names) < 40


def test_workers_run_no_further_ahead_than_the_lookahead() -> None:
    running: list[int] = []
    highest = 0
    lock = threading.Lock()

    def scope(index: int) -> CollectScope:
        def batches(_: CursorReader) -> Iterator[Batch]:
            nonlocal highest
            with lock:
                running.append(index)
                highest = max(highest, index)
            time.sleep(0.02 if index == 0 else 0.001)
            yield Batch(events=[], cursors={str(index): "1"})

        return CollectScope(str(index), batches)

    runner = ScopeRunner([scope(n) for n in range(12)], {}, 4, lookahead=3)
    batches = runner.batches()
    first = next(batches)  # scope 0 is slow: meanwhile only scopes 1 and 2 may start
    assert _names([first]) == ["0-0"]
    assert highest <= 2
    assert len(list(batches)) == 11
