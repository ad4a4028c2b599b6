"""The Slack alert route against a local receiver that answers like Slack's incoming
webhooks: only new alerts are posted, once, with a summary line; nothing else is sent."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeledger.cli.main import main
from tests.fakes.sink_receivers import Answer, FakeServer, Received

HOOK_PATH = "/services/T000/B000/XXXXXXXXXXXXXXXX"


def slack(received: Received) -> Answer:
    """Slack: 200 ``ok`` for a message, 400 ``no_text`` for an empty payload."""
    if not received.path.startswith(HOOK_PATH):
        return Answer(404, b"no_service")
    return Answer(200, b"ok") if received.json().get("text") else Answer(400, b"no_text")


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer(slack) as fake:
        yield fake


def cli(ledger: Path, server: FakeServer, *argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    env = {"PIPELEDGER_SLACK_WEBHOOK_URL": server.url + HOOK_PATH}
    sinks = ["--sink", f"sqlite:///{ledger}", "--sink", "slack://alerts"]
    code = main([*argv, *sinks], environ=env, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_new_alerts_are_posted_once_with_a_summary(
    ledger_file: Path, tmp_path: Path, server: FakeServer
) -> None:
    ledger = tmp_path / "l.db"
    shutil.copy(ledger_file, ledger)
    code, _, err = cli(ledger, server, "anomalies", "--since", "2026-02-02", "--record")
    assert code == 0, err
    posts = [r.json()["text"] for r in server.received]
    assert len(posts) == 1
    lines = posts[0].splitlines()
    assert lines[0] == "pipeledger: 9 new anomaly alerts (4 high, 5 medium)"
    assert len(lines) == 10 and all(line.startswith("• *") for line in lines[1:])
    assert any("`privilege-escalation` frank was given admin" in line for line in lines)
    code, _, err = cli(ledger, server, "anomalies", "--since", "2026-01-20", "--record")
    assert code == 0, err
    assert len(server.received) == 1  # nothing new, nothing posted
    assert HOOK_PATH not in err


def test_sinks_check_and_a_missing_webhook(ledger_file: Path, server: FakeServer) -> None:
    code, out, err = cli(ledger_file, server, "sinks", "check")
    assert code == 0, out + err
    assert server.received[-1].body == b"{}"
    out_, err_ = io.StringIO(), io.StringIO()
    argv = ["anomalies", "--sink", f"sqlite:///{ledger_file}", "--sink", "slack://alerts"]
    code = main(argv, environ={}, stdout=out_, stderr=err_)
    assert code == 2 and "PIPELEDGER_SLACK_WEBHOOK_URL" in err_.getvalue()
