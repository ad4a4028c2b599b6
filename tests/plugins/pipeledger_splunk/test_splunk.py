"""Splunk HEC sink against a local collector speaking HEC's documented answers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pipeledger.errors import SinkError, UsageError
from pipeledger.sinks.contract import ChainCheckpoint, SinkSettings
from pipeledger_splunk.sink import SplunkSink
from tests.core.sinks.records import make_records
from tests.fakes.sink_receivers import Answer, FakeServer, HecReceiver

TOKEN = "11111111-2222-3333-4444-555555555555"


@pytest.fixture
def hec() -> HecReceiver:
    return HecReceiver(TOKEN, indexes=("main", "audit"))


@pytest.fixture
def server(hec: HecReceiver):
    with FakeServer(hec) as fake:
        yield fake


def open_sink(
    server: FakeServer, query: str = "", token: str = TOKEN, sleeps: list[float] | None = None
) -> SplunkSink:
    url = f"splunk+http://127.0.0.1:{server.port}{query}"
    settings = SinkSettings(environ={"PIPELEDGER_SPLUNK_TOKEN": token}, timeout=5)
    return SplunkSink.open(url, settings, sleep=(sleeps if sleeps is not None else []).append)


def test_events_are_stacked_json_with_time_host_and_index(server, hec):
    records = make_records(5)
    open_sink(server, "?index=audit&sourcetype=pipeledger&batch_size=2").write(records)

    assert len(server.received) == 3
    assert server.received[0].headers["authorization"] == f"Splunk {TOKEN}"
    assert server.received[0].body.count(b"\n") == 1  # two events, stacked
    first = hec.events[0]
    assert first == {
        "time": records[0].event.occurred_at.timestamp(),
        "host": "github.com",
        "source": "pipeledger",
        "sourcetype": "pipeledger",
        "index": "audit",
        "event": records[0].to_dict(),
    }
    assert [e["event"]["seq"] for e in hec.events] == [1, 2, 3, 4, 5]


def test_ecs_format_and_default_sourcetype(server, hec):
    open_sink(server, "?format=ecs").write(make_records(1))

    assert hec.events[0]["sourcetype"] == "pipeledger:ecs"
    assert hec.events[0]["event"]["ecs"]["version"]


def test_busy_server_is_retried_after_its_delay(server, hec):
    sleeps: list[float] = []
    server.forced.append(Answer(503, {"text": "Server is busy", "code": 9}, {"Retry-After": "3"}))
    open_sink(server, sleeps=sleeps).write(make_records(2))

    assert sleeps == [3.0]
    assert len(hec.events) == 2


def test_incorrect_index_says_what_to_fix(server):
    with pytest.raises(SinkError) as caught:
        open_sink(server, "?index=nosuch").write(make_records(1))

    assert "Incorrect index (code 7)" in caught.value.message
    assert "index=" in caught.value.remedy


def test_invalid_token_is_a_permission_error_without_the_token(server):
    with pytest.raises(SinkError) as caught:
        open_sink(server, token="bad-token-value").write(make_records(1))

    text = caught.value.describe()
    assert "HTTP 403" in text and "Invalid token (code 4)" in text
    assert "PIPELEDGER_SPLUNK_TOKEN" in text
    assert "bad-token-value" not in text


def test_a_200_without_success_code_is_a_failure(server):
    server.forced.append(Answer(200, {"text": "Something odd", "code": 99}))
    with pytest.raises(SinkError, match="Something odd"):
        open_sink(server).write(make_records(1))


def test_checkpoint_is_its_own_event(server, hec):
    checkpoint = ChainCheckpoint(
        seq=9, head_hash="cd" * 32, created_at=datetime(2026, 3, 3, tzinfo=UTC)
    )
    open_sink(server).write_checkpoint(checkpoint)

    assert hec.events[0]["sourcetype"] == "pipeledger:checkpoint"
    assert hec.events[0]["event"] == {"pipeledger_checkpoint": checkpoint.to_dict()}


def test_check_probes_with_an_empty_post(server):
    open_sink(server).check()
    assert server.received[0].body == b""

    with pytest.raises(SinkError, match="HTTP 403"):
        open_sink(server, token="nope-nope").check()


def test_missing_token_and_plain_scheme_are_usage_errors(server):
    with pytest.raises(UsageError):
        SplunkSink.open(f"splunk+http://127.0.0.1:{server.port}", SinkSettings(environ={}))
    with pytest.raises(UsageError, match="splunk\\+https"):
        SplunkSink.open(
            "splunk://127.0.0.1:8088", SinkSettings(environ={"PIPELEDGER_SPLUNK_TOKEN": TOKEN})
        )
