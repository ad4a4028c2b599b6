"""``pipeledger flush`` and ``pipeledger sinks check`` with file sinks: an unavailable sink is
reported with what to fix, and catches up once it is back."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from pipeledger.cli.command_context import checkpoint_every
from pipeledger.cli.main import build_parser, main
from pipeledger.config import load_config_file, resolve
from pipeledger.sinks.contract import SinkSettings
from pipeledger.sinks.fanout import SinkSet
from pipeledger_sqlite.sink import SqliteSink
from tests.core.ledgers.factory import make_events


def _cli(*args: str, environ: dict[str, str] | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), environ=environ or {}, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def blocked(tmp_path: Path) -> Path:
    """A JSONL path that cannot be created while a plain file sits where its directory goes."""
    (tmp_path / "archive").write_text("not a directory")
    return tmp_path / "archive" / "audit.jsonl"


def _ids(path: Path) -> list[str]:
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    return [line["event"]["id"] for line in lines if "event" in line]


def test_flush_reports_a_failing_sink_then_delivers_once_it_is_back(
    tmp_path: Path, blocked: Path
) -> None:
    ledger = f"sqlite:///{tmp_path}/l.db"
    copy = f"jsonl:///{blocked}"
    run = SinkSet.open([ledger, copy], SinkSettings(environ={}))
    run.append(make_events(5), {})
    run.close()
    assert list(run.failures) == [copy]

    code, out, err = _cli("flush", "--sink", ledger, "--sink", copy)
    assert code == 3
    assert "5 records pending after seq 0" in err
    assert "Check the path and free space" in err

    (tmp_path / "archive").unlink()
    code, out, _ = _cli("flush", "--sink", ledger, "--sink", copy)
    assert code == 0
    assert f"OK    {copy}: holds every record through seq 5" in out
    assert _ids(blocked) == [event.id for event in make_events(5)]
    assert _cli("flush", "--sink", ledger, "--sink", copy)[0] == 0
    assert _ids(blocked) == [event.id for event in make_events(5)]  # nothing twice


def test_flush_without_other_sinks_says_so(tmp_path: Path) -> None:
    SqliteSink(tmp_path / "l.db").append(make_events(1), {})
    code, out, _ = _cli("flush", "--sink", f"sqlite:///{tmp_path}/l.db")
    assert code == 0
    assert "no other sinks configured" in out


def test_sinks_check_names_the_failing_sink_and_what_waits_for_it(
    tmp_path: Path, blocked: Path
) -> None:
    ledger = f"sqlite:///{tmp_path}/l.db"
    SqliteSink(tmp_path / "l.db").append(make_events(3), {})
    code, out, _ = _cli("sinks", "check", "--sink", ledger, "--sink", f"jsonl:///{blocked}")
    assert code == 3
    lines = out.splitlines()
    assert lines[0].startswith(f"OK    {ledger} (ledger)")
    assert lines[1].startswith(f"FAIL  jsonl:///{blocked}: ")
    assert "is not a directory" in lines[1]
    assert f"jsonl:///{blocked}: 3 records wait in the ledger" in lines[2]


def test_sinks_check_uses_the_default_ledger_when_none_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = _cli("sinks", "check", "--sink", "-")
    assert code == 0
    assert "the default sqlite:///pipeledger.db is used" in out
    assert "OK    - (sink)" in out


def test_sinks_check_reports_an_unusable_signing_key(tmp_path: Path) -> None:
    environ = {"PIPELEDGER_SIGNING_KEY": str(tmp_path / "missing.key")}
    code, out, _ = _cli("sinks", "check", "--sink", f"sqlite:///{tmp_path}/l.db", environ=environ)
    assert code == 3
    assert "FAIL  PIPELEDGER_SIGNING_KEY" in out


@pytest.mark.parametrize(
    ("source", "expected"), [("flag", 2), ("env", 3), ("config", 4), ("default", 1000)]
)
def test_checkpoint_every_comes_from_flag_env_or_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str, expected: int
) -> None:
    monkeypatch.chdir(tmp_path)
    argv = ["flush"] + (["--checkpoint-every", "2"] if source == "flag" else [])
    environ = {"PIPELEDGER_CHECKPOINT_EVERY": "3"} if source in ("flag", "env") else {}
    if source != "default":
        (tmp_path / "pipeledger.yml").write_text("checkpoint-every: 4\n")
    parser, defaults = build_parser()
    args = parser.parse_args(argv)
    resolve(args, defaults["flush"], environ, load_config_file(None, environ))
    assert checkpoint_every(args) == expected


def test_a_bad_checkpoint_interval_is_a_usage_error(tmp_path: Path) -> None:
    environ = {"PIPELEDGER_CHECKPOINT_EVERY": "often"}
    code, _, err = _cli("flush", "--sink", f"sqlite:///{tmp_path}/l.db", environ=environ)
    assert code == 2
    assert "PIPELEDGER_CHECKPOINT_EVERY='often' is not a number" in err
    code, _, err = _cli("flush", "--sink", f"sqlite:///{tmp_path}/l.db", "--checkpoint-every", "0")
    assert code == 2
    assert "positive whole number" in err
