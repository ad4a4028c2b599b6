"""``pipeledger serve`` over real HTTP on loopback: authentication, idempotency, bad input,
health and metrics, and what the ledger holds afterwards."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from pipeledger.sinks.contract import SinkSettings
from pipeledger_sqlite.sink import SqliteSink
from tests.conftest import ROOT
from tests.core.serve.process import SECRET, ServeProcess, sign, start_serve

EXAMPLES = ROOT / "tests" / "fixtures" / "octokit-webhooks"


def example(name: str) -> dict:  # type: ignore[type-arg]
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServeProcess, Path]]:
    tmp = tmp_path_factory.mktemp("serve")
    ledger = tmp / "ledger.db"
    process = start_serve(tmp, [f"sqlite:///{ledger}"])
    yield process, ledger
    process.stop()


def stored(ledger: Path) -> list[str]:
    sink = SqliteSink.open(f"sqlite:///{ledger}", SinkSettings(environ={}))
    try:
        return [record.event.id for record in sink.records()]
    finally:
        sink.close()


def test_a_signed_delivery_is_stored_before_the_answer(served: tuple[ServeProcess, Path]) -> None:
    process, ledger = served
    answer = process.github("workflow_run", example("workflow_run/02-completed.json"), "run-1")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"delivery": "run-1", "stored": 1}
    assert len(set(stored(ledger))) == len(stored(ledger)) >= 1


def test_a_redelivery_is_answered_200_and_adds_nothing(served: tuple[ServeProcess, Path]) -> None:
    process, ledger = served
    payload = example("deployment_status/01-created.json")
    first = process.github("deployment_status", payload, "status-1")
    before = stored(ledger)
    again = process.github("deployment_status", payload, "status-1")
    assert first.json()["stored"] == 2
    assert (again.status_code, again.json()["stored"]) == (200, 0)
    assert stored(ledger) == before


def test_unsigned_and_wrongly_signed_deliveries_are_refused(
    served: tuple[ServeProcess, Path],
) -> None:
    process, ledger = served
    payload = example("member/01-added.json")
    before = stored(ledger)
    unsigned = process.github("member", payload, "m-1", signature=None)
    wrong = process.github("member", payload, "m-2", signature=sign(b"other body"))
    other_secret = process.github(
        "member", payload, "m-3", signature=sign(json.dumps(payload).encode(), "not-the-secret")
    )
    assert [r.status_code for r in (unsigned, wrong, other_secret)] == [401, 401, 401]
    assert stored(ledger) == before
    assert SECRET not in process.output()


def test_bad_input_gets_its_status_never_a_traceback(served: tuple[ServeProcess, Path]) -> None:
    process, _ = served
    malformed = process.github("workflow_run", b"{not json", "bad-1")
    not_object = process.github("workflow_run", b"[1, 2]", "bad-2")
    unknown = process.github("star", {"action": "created"}, "star-1")
    no_headers = process.post("/webhooks/github", b"{}", {"X-Hub-Signature-256": sign(b"{}")})
    wrong_method = requests.get(process.url + "/webhooks/github", timeout=10)
    nowhere = process.github("star", {}, "x").url.replace("github", "nowhere")
    assert malformed.status_code == 400
    assert not_object.status_code == 400
    assert unknown.status_code == 202
    assert no_headers.status_code == 400
    assert wrong_method.status_code == 405
    assert requests.post(nowhere, data=b"{}", timeout=10).status_code == 404
    assert "Traceback" not in process.output()


def test_a_body_over_25_mb_is_refused_413(served: tuple[ServeProcess, Path]) -> None:
    process, _ = served
    body = b" " * (25 * 1024 * 1024 + 1)
    answer = process.github("workflow_run", body, "big-1")
    assert answer.status_code == 413


def test_health_and_metrics(served: tuple[ServeProcess, Path]) -> None:
    process, _ = served
    process.github("star", {"action": "created"}, "star-2")
    health = requests.get(process.url + "/healthz", timeout=10)
    metrics = requests.get(process.url + "/metrics", timeout=10)
    assert health.status_code == 200
    assert health.json() == {"status": "ok", "receivers": ["/webhooks/github"]}
    assert metrics.headers["content-type"].startswith("text/plain")
    text = metrics.text
    assert 'outcome="unknown_event"' in text and 'event="star"' in text
    assert "pipeledger_webhook_request_seconds_bucket" in text
    assert "pipeledger_events_stored_total" in text


def test_serve_without_any_secret_exits_2_naming_the_variables(tmp_path: Path) -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "pipeledger", "serve", "--sink", f"sqlite:///{tmp_path}/l.db"],
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "PIPELEDGER_WEBHOOK_SECRET" in result.stderr
    assert "Traceback" not in result.stderr
