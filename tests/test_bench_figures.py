"""``make bench`` prints each headline figure next to the previous recorded run's and its
limit, and records the run's figures for the next one (bench/figures.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bench import figures


@pytest.fixture
def record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "figures.json"
    monkeypatch.setattr(figures, "RECORD", path)
    monkeypatch.setattr(figures, "_measured", {})
    return path


def test_a_figure_is_printed_next_to_the_previous_one_and_its_limit(
    record: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = {"value": 40_000, "unit": "events/s", "measured_at": "2026-12-06 05:25 UTC"}
    record.write_text(json.dumps({"audit": {**before, "load": 1.0}}), encoding="utf-8")
    figures.figure("audit", 44_000, "events/s", figures.at_least(80_000))
    line = capsys.readouterr().out
    assert "audit: 44,000 events/s" in line
    assert "previous 40,000 events/s, now +10.0% (2026-12-06 05:25 UTC, load 1.0)" in line
    assert "limit >= 80,000 (issue 13): NOT met" in line


def test_the_run_is_recorded_over_the_previous_figures_and_keeps_the_others(
    record: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = {"value": 3, "unit": "", "measured_at": "2026-12-01 00:00 UTC", "load": 0.5}
    record.write_text(json.dumps({"gate": old, "verify": old}), encoding="utf-8")
    figures.figure("gate", 2, "", figures.at_most(2))
    assert "gate: 2 | previous 3, now -33.3% (2026-12-01 00:00 UTC, load 0.5) | limit <= 2" in (
        capsys.readouterr().out
    )
    figures.save()
    saved = json.loads(record.read_text(encoding="utf-8"))
    assert saved["verify"] == old
    assert saved["gate"]["value"] == 2 and saved["gate"]["limit"] == "<= 2 (issue 13)"


def test_without_a_readable_record_there_is_no_previous_figure(
    record: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    record.write_text("{not json", encoding="utf-8")
    figures.figure("verify", 1.23456, "x")
    assert "verify: 1.235 x | no previous figure" in capsys.readouterr().out
