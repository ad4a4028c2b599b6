"""What ``collect`` shows while it runs: a live display with totals on a terminal, numbered
plain lines in a CI log, nothing with -q; retries announced; a closing summary."""

from __future__ import annotations

import io
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from pipeledger.cli.collect_progress import LiveProgress, closing_summary
from pipeledger.cli.console import make_console
from pipeledger.cli.main import main
from pipeledger.http.progress import listing_page
from tests.e2e.github_expect import github_collect_argv
from tests.fakes.github_api import FakeGitHubServer
from tests.fakes.github_data import scenario_org

TOKEN = "ghp_progress_token"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def collect(
    server: FakeGitHubServer, db: Path, *extra: str, stderr: io.StringIO | None = None
) -> tuple[int, str, str]:
    out, err = io.StringIO(), stderr if stderr is not None else io.StringIO()
    argv = github_collect_argv(server.base_url, db, "--no-snapshots", "--backoff", "1", *extra)
    environ = {"GITHUB_TOKEN": TOKEN, "TERM": "xterm-256color"}
    code = main(argv, environ=environ, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_a_ci_log_gets_one_numbered_line_per_repository(tmp_path: Path) -> None:
    with FakeGitHubServer(scenario_org(), token=TOKEN) as server:
        code, out, err = collect(server, tmp_path / "l.db")
    assert code == 0, err
    assert re.findall(r"collecting acme/(\w+) \((\d)/3\)", err) == [
        ("api", "1"),
        ("infra", "2"),
        ("web", "3"),
    ]
    assert "\x1b[" not in err
    [summary] = [line for line in out.splitlines() if "new by kind" in line]
    assert summary.startswith("pipeledger: new by kind: 23 deployment, 11 pipeline.run, ")
    assert "; 3 repositories in " in summary


def test_a_terminal_gets_the_live_display_with_totals(tmp_path: Path) -> None:
    terminal = Terminal()
    with FakeGitHubServer(scenario_org(), token=TOKEN) as server:
        code, out, _ = collect(server, tmp_path / "l.db", stderr=terminal)
    assert code == 0
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", terminal.getvalue())
    assert "3/3 repositories" in shown and "done" in shown
    assert re.search(r"pages \d+  ·  events \d+ new  ·  rate limit \d+ left, resets", shown)
    assert "collected" in out


def test_quiet_shows_nothing_on_stderr_but_keeps_the_result(tmp_path: Path) -> None:
    with FakeGitHubServer(scenario_org(), token=TOKEN) as server:
        code, out, err = collect(server, tmp_path / "l.db", "-q", stderr=Terminal())
    assert code == 0 and err == ""
    assert "collected" in out and "new by kind" in out


def test_no_color_on_a_terminal_means_plain_lines(tmp_path: Path) -> None:
    terminal = Terminal()
    with FakeGitHubServer(scenario_org(), token=TOKEN) as server:
        collect(server, tmp_path / "l.db", "--no-color", stderr=terminal)
    assert "\x1b[" not in terminal.getvalue()
    assert "collecting acme/api (1/3)" in terminal.getvalue()


def test_a_server_error_is_retried_and_the_wait_is_announced(tmp_path: Path) -> None:
    with FakeGitHubServer(scenario_org(), token=TOKEN, faults={2: 502}) as server:
        code, _, err = collect(server, tmp_path / "l.db")
    assert code == 0, err
    assert "pipeledger: 127.0.0.1:" in err
    assert re.search(r"answered HTTP 502, retry 1/5 in 1 s", err)


def test_the_live_detail_line_says_the_listing_page_and_the_reset() -> None:
    progress = LiveProgress(make_console(Terminal(), {}, color=True))
    progress.expect(repositories=2, listing_page=(3, 12), rate_reset=1_767_225_600.0)
    progress.update(repository="acme/web", pages=3, events=40, rate_remaining=4_812)
    progress.finish()
    assert progress.detail_line() == (
        "pages 3  ·  events 40 new  ·  rate limit 4812 left, resets 00:00:00 UTC"
    )  # a new repository starts a new listing, so the page of the old one is gone
    progress.expect(listing_page=(3, 12))
    assert "listing page 3/12" in progress.detail_line()


def test_pages_ahead_come_from_whatever_the_api_says() -> None:
    github_last = {"next": "https://h/x?page=3", "last": "https://h/x?per_page=100&page=7"}
    assert listing_page("https://h/x?page=2", {}, [], github_last) == (2, 7)
    assert listing_page("https://h/x?page=7", {}, [], {"prev": "https://h/x?page=6"}) == (7, 7)
    assert listing_page("https://h/x", {"x-page": "1", "x-total-pages": "4"}, [], {}) == (1, 4)
    body = {"total_count": 250, "workflow_runs": []}
    assert listing_page("https://h/runs?per_page=100", {}, body, {}) == (1, 3)
    assert listing_page("https://h/x", {}, [], {"next": "https://h/x?cursor=abc"}) is None
    assert listing_page("https://h/x", {"x-total-pages": "1"}, [], {}) is None


def test_the_closing_summary_counts_by_kind_and_time() -> None:
    kinds = Counter({"deployment": 12, "pipeline.run": 40})
    assert closing_summary(kinds, 72.4, 14) == (
        "pipeledger: new by kind: 40 pipeline.run, 12 deployment; 14 repositories in 1m 12s."
    )
    assert closing_summary(Counter(), 0.25, None) == "pipeledger: new by kind: nothing; in 0.2 s."


def test_a_bug_mid_collection_keeps_what_was_stored_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeledger.facts import FactMerger

    real = FactMerger.merge
    calls: list[int] = []

    def failing_merge(self: FactMerger, events: Any) -> Any:
        calls.append(1)
        if len(calls) == 3:
            raise KeyError("sha")
        return real(self, events)

    monkeypatch.setattr(FactMerger, "merge", failing_merge)
    with FakeGitHubServer(scenario_org(), token=TOKEN) as server:
        code, _, err = collect(server, tmp_path / "l.db")
    assert code == 3
    assert "stopped early; kept" in err
    assert err.splitlines()[-1].startswith("pipeledger: error: internal error: KeyError: 'sha';")
    assert "Traceback" not in err
    from pipeledger.sinks.contract import EventFilter
    from pipeledger_sqlite.sink import SqliteSink

    ledger = SqliteSink(tmp_path / "l.db")
    kept = len(list(ledger.records(EventFilter())))
    ledger.close()
    assert kept > 0 and f", {kept} new, stored in sqlite:///{tmp_path}/l.db." in err
