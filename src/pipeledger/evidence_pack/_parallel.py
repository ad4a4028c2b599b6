"""The evidence pages rendered on both (every) core. The pages do not depend on each other,
and a history with thousands of flagged deployments makes thousands of them: rendering is
then a fifth of the pack's time. Forked workers inherit the pack's data (nothing is sent to
them) and send back their pages; where ``fork`` is not available, or the pages are few, this
process renders them all. The pages are the same either way."""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

PAGES_PER_WORKER = 400  # fewer, and starting a worker costs more than it saves

T = TypeVar("T")
Render = Callable[[Sequence[int]], dict[str, T]]
_FORKED: dict[str, Callable[[Sequence[int]], dict[str, Any]]] = {}  # called in the workers


def render_everywhere(render: Render[T], count: int) -> dict[str, T]:
    """``render(indexes)`` over range(count), split across the CPUs this process may run on,
    each process with PAGES_PER_WORKER pages at least. What ``render`` gives back by page
    comes back from the workers: the pages themselves, or (a pack written as it is made,
    each worker writing its own pages) their digests."""
    workers = min(usable_cpus(), count // PAGES_PER_WORKER)
    if workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return render(range(count))
    chunks = [range(start, count, workers) for start in range(workers)]
    _FORKED["render"] = render
    # Inherited objects are shared until written: the workers' cycle collector must not
    # touch (and so copy) every one of them.
    gc.freeze()
    try:
        with multiprocessing.get_context("fork").Pool(workers - 1) as pool:
            waiting = [pool.apply_async(_render_chunk, (chunk,)) for chunk in chunks[1:]]
            pages = render(chunks[0])
            for result in waiting:
                pages.update(result.get())
    finally:
        _FORKED.clear()
        gc.unfreeze()
    return pages


def _render_chunk(indexes: Sequence[int]) -> dict[str, Any]:
    return _FORKED["render"](indexes)  # only in a worker forked by render_everywhere


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on every platform
        return os.cpu_count() or 1
