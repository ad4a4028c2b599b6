"""The GitHub adapter through the real command line: collect, its summary and errors, and the
offline demo."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from tools import demo_github as demo_builder

from pipeledger.cli import demo_cmd
from pipeledger.cli.main import main
from tests.fakes.github_responses import FakeHub
from tests.plugins.pipeledger_github.test_collect import seed

TOKEN = "ghp_cli_token_value"


def run_cli(argv: list[str], environ: dict[str, str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, environ=environ, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def collect_argv(tmp_path: Path) -> list[str]:
    ledger = f"sqlite:///{tmp_path / 'ledger.db'}"
    # Snapshot requests are counted in tests/plugins/pipeledger_github/snapshots.
    repo = ["--repo", "acme/web", "--no-snapshots"]
    return ["collect", "--platform", "github", *repo, "--sink", ledger]


def test_collect_reports_requests_and_not_modified(hub: FakeHub, tmp_path: Path) -> None:
    seed(hub)
    code, out, _ = run_cli(collect_argv(tmp_path), {"GITHUB_TOKEN": TOKEN})
    assert code == 0
    assert "15 new" in out
    assert "requests: 14 (0 not modified)" in out  # 13 over REST, 1 refused GraphQL query
    code, out, _ = run_cli(collect_argv(tmp_path), {"GITHUB_TOKEN": TOKEN})
    assert "0 new" in out
    assert "requests: 2 (2 not modified)" in out


def test_collect_without_a_token_is_a_usage_error(tmp_path: Path) -> None:
    code, _, err = run_cli(collect_argv(tmp_path), {})
    assert code == 2
    assert "GITHUB_TOKEN" in err
    assert "Traceback" not in err


def test_collect_refused_names_the_permission_without_a_traceback(
    hub: FakeHub, tmp_path: Path
) -> None:
    seed(hub)
    hub.fail("/approvals", 403, body='{"message": "Resource not accessible by integration"}')
    code, _, err = run_cli(collect_argv(tmp_path), {"GITHUB_TOKEN": TOKEN})
    assert code == 3
    assert "actions: read" in err
    assert "stopped early; kept" in err
    assert "Traceback" not in err
    assert TOKEN not in err


def test_collect_malformed_response_exits_3(hub: FakeHub, tmp_path: Path) -> None:
    seed(hub)
    hub.fail("/deployments", 200, body='{"unexpected": true}')
    code, _, err = run_cli(collect_argv(tmp_path), {"GITHUB_TOKEN": TOKEN})
    assert code == 3
    assert "not a JSON list" in err
    assert "Traceback" not in err


def test_demo_shows_deployments_and_approvals(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo_cmd, "available_adapters", lambda: ["github"])
    code, out, _ = run_cli(["demo"], {})
    assert code == 0
    assert "hash chain verified" in out
    assert "Who deployed what where (5)" in out
    assert "Who approved (3)" in out
    assert "bob approved the deployment to production of run 9001 in acme/web" in out
    assert "erin approved the deployment to production of run 9002 in acme/web" in out
    assert (
        "erin ran Deploy on refs/heads/main in acme/web: success (re-run; first run by dave)" in out
    )
    assert "carol approved PR #41 by alice in acme/web" in out
    # Run 7001 was started by pushing the tag v2.3.0, which the baseline allows.
    assert "alice ran Release on refs/tags/v2.3.0 in acme/api: failure" in out
    assert "alice deployed refs/tags/v2.3.0 (e69de29) to production in acme/api" in out
    assert "[prod-refs]" not in out
    assert "[prod-approval] The deployment to production needs 1 independent approval" in out
    assert "erin approved but triggered this run attempt" in out


def test_demo_files_are_built_from_the_shared_examples() -> None:
    for name, text in demo_builder.build().items():
        bundled = (demo_builder.DEMO_DIR / name).read_text(encoding="utf-8")
        assert bundled == text, f"{name} differs; run python -m tools.demo_github"
