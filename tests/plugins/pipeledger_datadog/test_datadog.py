"""Datadog logs sink against a local intake (datadog://127.0.0.1:PORT?insecure=1)."""

from __future__ import annotations

import json

import pytest

from pipeledger.errors import SinkError, UsageError
from pipeledger.sinks.contract import SinkSettings
from pipeledger_datadog.sink import DatadogSink
from tests.core.sinks.records import make_records
from tests.fakes.sink_receivers import Answer, DatadogIntake, FakeServer

API_KEY = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def intake() -> DatadogIntake:
    return DatadogIntake(API_KEY)


@pytest.fixture
def server(intake: DatadogIntake):
    with FakeServer(intake) as fake:
        yield fake


def open_sink(
    server: FakeServer,
    query: str = "",
    environ: dict[str, str] | None = None,
    sleeps: list[float] | None = None,
) -> DatadogSink:
    url = f"datadog://127.0.0.1:{server.port}?insecure=1{query}"
    env = {"DD_API_KEY": API_KEY} if environ is None else environ
    return DatadogSink.open(
        url,
        SinkSettings(environ=env, timeout=5),
        sleep=(sleeps if sleeps is not None else []).append,
    )


def test_entries_carry_source_service_tags_and_the_record(server, intake):
    records = make_records(3)
    open_sink(server, "&service=ci-audit&tags=env:prod,team:sec").write(records)

    assert server.received[0].headers["dd-api-key"] == API_KEY
    assert intake.entries[0] == {
        "ddsource": "pipeledger",
        "ddtags": "env:prod,team:sec",
        "hostname": "github.com",
        "service": "ci-audit",
        "message": json.dumps(records[0].to_dict(), sort_keys=True, separators=(",", ":")),
    }


def test_at_most_1000_entries_per_request(server, intake):
    open_sink(server).write(make_records(2100))

    assert [len(r.json()) for r in server.received] == [1000, 1000, 100]
    assert len(intake.entries) == 2100


def test_batch_size_cannot_exceed_the_intake_limit(server):
    with pytest.raises(UsageError, match="out of range"):
        open_sink(server, "&batch_size=5000")


def test_429_waits_for_retry_after(server, intake):
    sleeps: list[float] = []
    server.forced.append(Answer(429, {"errors": ["Too many requests"]}, {"Retry-After": "4"}))
    open_sink(server, sleeps=sleeps).write(make_records(1))

    assert sleeps == [4.0] and len(intake.entries) == 1


def test_bad_key_is_refused_and_never_printed(server):
    with pytest.raises(SinkError) as caught:
        open_sink(server, environ={"PIPELEDGER_DATADOG_API_KEY": "not-the-key-42"}).write(
            make_records(1)
        )

    text = caught.value.describe()
    assert "HTTP 403" in text and "DD_API_KEY" in text and "not-the-key-42" not in text


def test_check_validates_the_key(server):
    open_sink(server).check()
    assert server.received[0].path == "/api/v1/validate"


def test_sites_map_to_their_intake():
    sink = DatadogSink.open(
        "datadog://us5.datadoghq.com?format=ocsf", SinkSettings(environ={"DD_API_KEY": API_KEY})
    )
    assert sink._intake == "https://http-intake.logs.us5.datadoghq.com/api/v2/logs"
    assert sink._validate == "https://api.us5.datadoghq.com/api/v1/validate"


def test_insecure_is_only_for_this_machine():
    with pytest.raises(UsageError, match="insecure=1"):
        DatadogSink.open(
            "datadog://intake.example.com?insecure=1", SinkSettings(environ={"DD_API_KEY": API_KEY})
        )
    with pytest.raises(UsageError, match="no API key"):
        DatadogSink.open("datadog://datadoghq.eu", SinkSettings(environ={}))
