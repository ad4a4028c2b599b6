"""Shared HTTP sink plumbing: URL options, batching, registry wiring, and redacted URLs."""

from __future__ import annotations

import pytest

from pipeledger.errors import UsageError
from pipeledger.http.sink import BatchLimits, batched
from pipeledger.registry import load_sink
from pipeledger.sinks.contract import SinkSettings
from pipeledger.sinks.url import SinkUrl
from pipeledger_datadog.sink import DatadogSink
from pipeledger_elasticsearch.sink import ElasticsearchSink
from pipeledger_s3.sink import S3Sink
from pipeledger_splunk.sink import SplunkSink
from pipeledger_webhook.sink import WebhookSink

ENV = {
    "PIPELEDGER_WEBHOOK_SECRET": "whsec-abcdef",
    "PIPELEDGER_SPLUNK_TOKEN": "hec-token-abcdef",
    "PIPELEDGER_ELASTICSEARCH_API_KEY": "es-key-abcdef",
    "DD_API_KEY": "dd-key-abcdef",
    "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "aws-secret-abcdef",
    "AWS_DEFAULT_REGION": "eu-west-1",
}


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://hooks.example.com/x", WebhookSink),
        ("http://127.0.0.1:9/x", WebhookSink),
        ("splunk+https://splunk.example.com:8088", SplunkSink),
        ("elasticsearch+https://es.example.com:9200", ElasticsearchSink),
        ("opensearch+https://os.example.com:9200", ElasticsearchSink),
        ("datadog://datadoghq.eu", DatadogSink),
        ("s3://bucket/prefix", S3Sink),
    ],
)
def test_each_scheme_loads_its_plugin(url: str, expected: type) -> None:
    assert load_sink(url) is expected


@pytest.mark.parametrize(
    "url",
    [
        "https://user:pw-secret-1@hooks.example.com/x?sig=sig-secret-2&code=code-secret-3",
        "splunk+https://splunk.example.com:8088?index=main&token=tok-secret-4",
        "elasticsearch+https://elastic:pw-secret-5@es.example.com:9200?index=audit",
        "datadog://datadoghq.eu?service=ci&tags=env:prod",
        "s3://bucket/prefix?region=eu-west-1",
    ],
)
def test_display_urls_hold_no_secret(url: str) -> None:
    sink_class = load_sink(url)
    if "token=" in url:
        with pytest.raises(UsageError) as caught:
            sink_class.open(url, SinkSettings(environ=ENV))
        assert "tok-secret-4" not in caught.value.describe()
        return
    sink = sink_class.open(url, SinkSettings(environ=ENV))
    shown = sink.display_url
    secrets = [value for value in ENV.values() if "abcdef" in value]
    for secret in [*secrets, "pw-secret-1", "sig-secret-2", "code-secret-3", "pw-secret-5"]:
        assert secret not in shown
    assert shown == sink_class.open(url, SinkSettings(environ=ENV)).display_url  # stable cursor key


def test_sink_url_parts_and_options() -> None:
    parsed = SinkUrl.parse("splunk+https://u:p@[::1]:8088/hec?index=main", ["index"])
    assert (parsed.scheme, parsed.transport, parsed.netloc, parsed.path) == (
        "splunk",
        "https",
        "[::1]:8088",
        "/hec",
    )
    assert parsed.option("index") == "main" and parsed.option("missing", "d") == "d"
    with pytest.raises(UsageError, match="unknown option 'indx'"):
        SinkUrl.parse("splunk+https://h?indx=main", ["index"])
    with pytest.raises(UsageError, match="yes/no"):
        SinkUrl.parse("https://h?unsigned=maybe", ["unsigned"]).option_bool("unsigned")
    with pytest.raises(UsageError, match="no host"):
        SinkUrl.parse("https:///path", [])


@pytest.mark.parametrize(
    ("sizes", "count", "limit", "expected"),
    [
        ([10] * 5, 2, 1000, [[0, 1], [2, 3], [4]]),
        ([9] * 5, 100, 25, [[0, 1], [2, 3], [4]]),  # 9 bytes + 1 separator each
        ([4, 49, 4], 100, 20, [[0], [1], [2]]),  # an oversized item travels alone
        ([], 10, 10, []),
    ],
)
def test_batched_by_count_and_bytes(
    sizes: list[int], count: int, limit: int, expected: list[list[int]]
) -> None:
    pieces = ((n, b"x" * size) for n, size in enumerate(sizes))
    batches = batched(pieces, BatchLimits(count=count, size=limit))
    assert [[n for n, _ in batch] for batch in batches] == expected


def test_batches_are_built_lazily() -> None:
    built: list[int] = []

    def pieces():
        for n in range(6):
            built.append(n)
            yield n, b"x"

    batches = batched(pieces(), BatchLimits(count=2, size=100))
    assert [n for n, _ in next(batches)] == [0, 1]
    assert built == [0, 1, 2]  # one piece of lookahead, no more
