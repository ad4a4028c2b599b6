"""The CLI's error boundary: a bug is one line and exit 3, never a traceback without -v; a
read-only command never creates a ledger; a closed pipe ends quietly; a bad --api-url is a
usage error."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeledger.cli import events_cmd
from pipeledger.cli.main import CLOSED_PIPE_EXIT, main
from pipeledger.events import EventKind
from pipeledger.sinks.contract import EventFilter
from pipeledger_sqlite.sink import SqliteSink
from tests.core.factories import make_events
from tests.core.policy.fake_gate import FakeGateAdapter, fake_platform
from tests.core.policy.gate_cases import CASES

__all__ = ["fake_platform"]
ROOT = Path(__file__).resolve().parents[2]
BASELINE = str(ROOT / "examples" / "policies" / "baseline.yml")


def cli(*argv: str, environ: dict[str, str] | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), environ=environ or {}, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def ledger(path: Path, count: int = 3) -> str:
    sink = SqliteSink(path)
    sink.append(make_events(count), {})
    sink.close()
    return f"sqlite:///{path}"


def _boom(*args: object, **kwargs: object) -> None:
    raise RuntimeError("the wheels came off\nsecond line")


def test_an_unexpected_exception_is_one_line_and_exit_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events_cmd, "build_filter", _boom)
    code, out, err = cli("events", "--sink", ledger(tmp_path / "l.db"))
    assert code == 3 and out == ""
    assert err == (
        "pipeledger: error: internal error: RuntimeError: the wheels came off; this is a bug —"
        " rerun with -v and report it with that output"
        " (https://github.com/pipeledger/pipeledger/issues).\n"
    )


def test_verbose_adds_the_traceback_of_the_bug(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events_cmd, "build_filter", _boom)
    code, _, err = cli("events", "-v", "--sink", ledger(tmp_path / "l.db"))
    assert code == 3
    assert "Traceback (most recent call last)" in err and "the wheels came off" in err


def test_the_gate_records_an_error_decision_before_reporting_a_bug(
    fake_platform: type[FakeGateAdapter], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    FakeGateAdapter.case = CASES[0]
    monkeypatch.setattr(FakeGateAdapter, "gate_evidence", _boom)
    db = tmp_path / "ledger.db"
    code, _, err = cli(
        "check",
        "--policy",
        BASELINE,
        "--environment",
        "production",
        "--sink",
        f"sqlite:///{db}",
        "--fail-open",  # a bug is not an unreachable platform: still exit 3
        environ={"FAKE_CI": "true"},
    )
    assert code == 3
    assert "internal error: RuntimeError: the wheels came off" in err
    assert "Traceback" not in err
    sink = SqliteSink(db)
    [decision] = [r.event for r in sink.records(EventFilter(kinds=(EventKind.GATE_DECISION,)))]
    sink.close()
    assert decision.action == "error"
    assert "RuntimeError" in decision.attributes["error"]


@pytest.mark.parametrize(
    "argv",
    [
        ("events",),
        ("verify",),
        ("flush",),
        ("provenance", "123"),
        ("audit", "--policy", BASELINE),
    ],
    ids=lambda argv: argv[0],
)
def test_read_only_commands_never_create_a_ledger(tmp_path: Path, argv: tuple[str, ...]) -> None:
    db = tmp_path / "nothing-here.db"
    code, out, err = cli(*argv, "--sink", f"sqlite:///{db}")
    assert code == 2 and out == ""
    assert err == (
        f"pipeledger: error: no ledger at {db} — run `pipeledger collect` first or pass --sink"
        " with the ledger's URL.\n"
    )
    assert not db.exists()


def test_the_default_ledger_is_named_as_the_user_sees_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = cli("events")
    assert code == 2 and "no ledger at ./pipeledger.db" in err
    assert list(tmp_path.iterdir()) == []


def test_verify_against_a_missing_copy_does_not_create_it(tmp_path: Path) -> None:
    copy = tmp_path / "copy.db"
    code, _, err = cli(
        "verify", "--sink", ledger(tmp_path / "l.db"), "--against", f"sqlite:///{copy}"
    )
    assert code == 2 and f"no ledger at {copy}" in err
    assert not copy.exists()


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("not a url", "it is empty or contains spaces"),
        ("ftp://git.example", "it must start with https://"),
        ("https://", "it names no host"),
        ("http://127.0.0.1:99999", "Port out of range"),
        ("http://[::1", "Invalid IPv6 URL"),
    ],
)
def test_an_invalid_api_url_is_a_usage_error(tmp_path: Path, url: str, problem: str) -> None:
    code, _, err = cli(
        "collect",
        "--platform",
        "github",
        "--repo",
        "acme/web",
        "--api-url",
        url,
        "--sink",
        f"sqlite:///{tmp_path}/l.db",
        environ={"GITHUB_TOKEN": "t0ken"},
    )
    assert code == 2, err
    assert err.startswith(f"pipeledger: error: --api-url {url!r} is not an API URL: {problem}")
    assert "Traceback" not in err


def test_help_and_version_return_0_on_the_given_stdout() -> None:
    code, out, _ = cli("--version")
    assert code == 0 and out.startswith("pipeledger ")
    code, out, _ = cli("events", "--help")
    assert code == 0 and "Usage: pipeledger events" in out


def test_a_closed_pipe_ends_quietly_with_the_conventional_status(tmp_path: Path) -> None:
    sink = ledger(tmp_path / "l.db", count=4000)  # far more than a pipe buffer holds
    environ = {key: value for key, value in os.environ.items() if key != "PYTHONWARNINGS"}
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeledger", "events", "--sink", sink],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=environ,
        cwd=tmp_path,
    )
    assert process.stdout is not None and process.stderr is not None
    first = process.stdout.readline()
    process.stdout.close()  # what `| head -1` does after its line
    stderr = process.stderr.read()
    process.stderr.close()
    assert process.wait(timeout=60) == CLOSED_PIPE_EXIT == 141
    assert first.startswith(b"TIME")
    assert stderr == b""
