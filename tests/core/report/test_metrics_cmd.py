"""``pipeledger metrics`` on a real SQLite ledger: text, JSON and CSV agree with the library."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from pipeledger.period import parse_period
from tests.core.report.history import march_history, run_cli, write_ledger


@pytest.fixture(scope="module")
def sink(tmp_path_factory: pytest.TempPathFactory) -> str:
    return write_ledger(tmp_path_factory.mktemp("metrics") / "ledger.db", march_history())


def test_json_carries_values_definitions_and_settings(sink: str) -> None:
    code, out, err = run_cli(["metrics", "--period", "2026-03", "--format", "json", "--sink", sink])
    assert code == 0, err
    data = json.loads(out)
    assert data["schema"] == "pipeledger/metrics/v1"
    assert data["period"] == {
        "label": "2026-03",
        "start": "2026-03-01T00:00:00Z",
        "end": "2026-04-01T00:00:00Z",
    }
    assert data["overall"]["deployment_frequency"]["deployments"] == 10
    assert set(data["definitions"]) >= {"lead_time", "change_failure_rate", "time_to_restore"}
    assert data["settings"]["failure_window_hours"] == 24


def test_csv_has_one_row_per_scope(sink: str) -> None:
    code, out, _ = run_cli(["metrics", "--period", "2026-03", "--format", "csv", "--sink", sink])
    assert code == 0
    table = list(csv.DictReader(io.StringIO(out)))
    assert [row["scope"] for row in table] == ["overall", "acme/api", "acme/web"]
    assert table[1]["failed_deployments"] == "4"
    assert table[1]["failed_by_rollback"] == "1"


def test_text_names_each_metric(sink: str) -> None:
    code, out, _ = run_cli(["metrics", "--period", "2026-03", "--sink", sink])
    assert code == 0
    assert "acme/api" in out
    assert "change failure rate   36.4% (4 of 11)" in out


def test_without_a_period_the_whole_ledger_counts(sink: str) -> None:
    code, out, _ = run_cli(["metrics", "--format", "json", "--sink", sink])
    assert code == 0
    data = json.loads(out)
    assert data["period"]["start"] == "2026-02-27T00:00:00Z"
    assert data["period"]["end"] == "2026-04-02T00:00:00Z"
    assert data["repositories"]["acme/web"]["deployment_frequency"]["deployments"] == 3


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--period", "2024-Q5"], "--period '2024-Q5' is not a period"),
        (["--failure-window", "0"], "--failure-window 0.0 is not a positive number"),
    ],
)
def test_bad_options_exit_2_with_a_remedy(sink: str, argv: list[str], message: str) -> None:
    code, out, err = run_cli(["metrics", "--sink", sink, *argv])
    assert code == 2
    assert message in err
    assert "Traceback" not in err
    assert out == ""


def test_a_period_without_events_is_zero_with_a_warning(sink: str) -> None:
    code, out, err = run_cli(["metrics", "--period", "2024-Q1", "--format", "csv", "--sink", sink])
    assert code == 0
    assert "warning: the ledger holds no events in 2024-Q1" in err
    (overall,) = csv.DictReader(io.StringIO(out))
    assert (overall["scope"], overall["deployments"]) == ("overall", "0")


def test_a_missing_ledger_is_not_created(tmp_path: Path) -> None:
    code, _, err = run_cli(["metrics", "--sink", f"sqlite:///{tmp_path / 'gone.db'}"])
    assert code == 2
    assert "no ledger at" in err
    assert not (tmp_path / "gone.db").exists()


def test_an_empty_ledger_says_to_collect_first(tmp_path: Path) -> None:
    code, _, err = run_cli(["metrics", "--sink", write_ledger(tmp_path / "empty.db", [])])
    assert code == 2
    assert "pipeledger collect" in err


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2024-Q1", "2024-01-01", "2024-04-01"),
        ("2024-q4", "2024-10-01", "2025-01-01"),
        ("2024-03", "2024-03-01", "2024-04-01"),
        ("2024-12", "2024-12-01", "2025-01-01"),
        ("2024", "2024-01-01", "2025-01-01"),
        ("2024-01-01..2024-03-31", "2024-01-01", "2024-04-01"),
    ],
)
def test_periods(text: str, start: str, end: str) -> None:
    period = parse_period(text)
    assert (str(period.start.date()), str(period.end.date())) == (start, end)
