"""Evidence pages rendered in forked workers are the very pages one process renders."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pytest

from pipeledger.evidence_pack import _parallel
from pipeledger.evidence_pack.controls import load_controls
from pipeledger.evidence_pack.options import PackOptions
from pipeledger.period import parse_period
from pipeledger.sinks.contract import SinkSettings
from pipeledger_sqlite.sink import SqliteSink
from tests.core.evidence_pack.in_memory import build_pack
from tests.core.evidence_pack.test_pack import GENERATED
from tests.core.report.history import pack_history, write_ledger

needs_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")


def _pids(indexes: Sequence[int]) -> dict[str, str]:
    return {f"page-{index}": f"{index} rendered by {os.getpid()}" for index in indexes}


@needs_fork
def test_the_work_is_split_across_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_parallel, "usable_cpus", lambda: 2)
    monkeypatch.setattr(_parallel, "PAGES_PER_WORKER", 3)
    pages = _parallel.render_everywhere(_pids, 10)
    assert sorted(pages) == sorted(f"page-{index}" for index in range(10))
    by = {text.split(" by ")[1] for text in pages.values()}
    assert len(by) == 2
    assert str(os.getpid()) in by


def test_few_pages_stay_in_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_parallel, "usable_cpus", lambda: 2)
    pages = _parallel.render_everywhere(_pids, _parallel.PAGES_PER_WORKER + 1)
    assert {text.split(" by ")[1] for text in pages.values()} == {str(os.getpid())}


@needs_fork
def test_a_pack_rendered_in_workers_is_byte_for_byte_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = write_ledger(tmp_path / "ledger.db", pack_history())
    options = PackOptions(parse_period("2026-03"), GENERATED, seed=5, sample_size=4)
    ledger = SqliteSink.open(url, SinkSettings(environ={}))
    try:
        alone = build_pack(ledger, options, load_controls(None), None)
        monkeypatch.setattr(_parallel, "usable_cpus", lambda: 2)
        monkeypatch.setattr(_parallel, "PAGES_PER_WORKER", 2)
        shared = build_pack(ledger, options, load_controls(None), None)
    finally:
        ledger.close()
    assert sum(name.startswith("deployments/") for name in shared) >= 4
    assert shared == alone
