"""Webhook sink against a local receiver that verifies the HMAC signature."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from pipeledger.errors import SinkError, UsageError
from pipeledger.sinks.contract import ChainCheckpoint, SinkSettings
from pipeledger_webhook.sink import WebhookSink, sign
from tests.core.sinks.records import make_records
from tests.fakes.sink_receivers import Answer, FakeServer, WebhookReceiver

SECRET = "s3cr3t-webhook-key"
ENV = {"PIPELEDGER_WEBHOOK_SECRET": SECRET}


@pytest.fixture
def receiver() -> WebhookReceiver:
    return WebhookReceiver(SECRET)


@pytest.fixture
def server(receiver: WebhookReceiver):
    with FakeServer(receiver) as fake:
        yield fake


def open_sink(url: str, environ: dict[str, str] | None = None, sleeps: list[float] | None = None):
    pauses = sleeps if sleeps is not None else []
    return WebhookSink.open(
        url,
        SinkSettings(environ=ENV if environ is None else environ, timeout=5),
        sleep=pauses.append,
    )


def test_batches_are_signed_and_carry_the_exact_records(server, receiver):
    records = make_records(7)
    sink = open_sink(f"{server.url}/hook?batch_size=3")
    sink.write(records)

    assert [len(r.json()["records"]) for r in server.received] == [3, 3, 1]
    first = server.received[0]
    assert first.json() == {
        "checkpoint": None,
        "format": "native",
        "records": [r.to_dict() for r in records[:3]],
    }
    assert first.headers["x-pipeledger-signature"] == "sha256=" + sign(SECRET.encode(), first.body)
    expected_key = hashlib.sha256(
        f"{records[0].event.id}\n{records[2].event.id}".encode()
    ).hexdigest()
    assert first.headers["idempotency-key"] == expected_key
    assert receiver.records == [r.to_dict() for r in records]


def test_redelivered_batches_keep_their_idempotency_keys(server, receiver):
    records = make_records(5)
    sink = open_sink(f"{server.url}/hook?batch_size=2")
    sink.write(records)
    sink.write(records)

    assert receiver.duplicates == 3
    assert [r["seq"] for r in receiver.records] == [1, 2, 3, 4, 5]


def test_batches_split_by_bytes(server):
    records = make_records(6)
    sink = open_sink(f"{server.url}/hook?max_bytes=2048")
    sink.write(records)

    assert len(server.received) > 1
    assert all(len(r.body) <= 2048 + 64 for r in server.received)
    assert sum(len(r.json()["records"]) for r in server.received) == 6


def test_checkpoint_is_its_own_signed_document(server, receiver):
    sink = open_sink(f"{server.url}/hook")
    checkpoint = ChainCheckpoint(
        seq=42,
        head_hash="ab" * 32,
        created_at=datetime(2026, 3, 2, tzinfo=UTC),
        key_id="k1",
        signature="c2ln",
    )
    sink.write_checkpoint(checkpoint)

    assert receiver.checkpoints == [checkpoint.to_dict()]
    assert server.received[0].json()["records"] == []


def test_retry_after_is_honoured_on_429_and_503(server, receiver):
    sleeps: list[float] = []
    server.forced.extend(
        [Answer(503, b"busy", {"Retry-After": "7"}), Answer(429, b"slow", {"Retry-After": "2"})]
    )
    sink = open_sink(f"{server.url}/hook", sleeps=sleeps)
    sink.write(make_records(2))

    assert sleeps == [7.0, 2.0]
    assert len(receiver.records) == 2


def test_server_errors_back_off_exponentially_then_give_up(server):
    sleeps: list[float] = []
    server.forced.extend([Answer(500, b"oops")] * 6)
    sink = open_sink(f"{server.url}/hook", sleeps=sleeps)

    with pytest.raises(SinkError) as caught:
        sink.write(make_records(1))

    assert sleeps == [0.5, 1.0, 2.0, 4.0, 8.0]
    assert "after 6 attempts" in caught.value.message
    assert "next run" in caught.value.remedy


def test_a_retry_after_beyond_the_bound_fails_without_waiting(server):
    sleeps: list[float] = []
    server.forced.append(Answer(429, b"", {"Retry-After": "3600"}))
    sink = open_sink(f"{server.url}/hook", sleeps=sleeps)

    with pytest.raises(SinkError, match="asks to wait 3600 s"):
        sink.write(make_records(1))
    assert sleeps == []


def test_a_wrong_secret_is_refused_and_never_printed(server):
    sink = open_sink(
        f"{server.url}/hook", environ={"PIPELEDGER_WEBHOOK_SECRET": "wrong-secret-value"}
    )

    with pytest.raises(SinkError) as caught:
        sink.write(make_records(1))

    text = caught.value.describe()
    assert "HTTP 401" in text
    assert "wrong-secret-value" not in text and SECRET not in text


def test_without_a_secret_the_sink_refuses_unless_unsigned(server):
    with pytest.raises(UsageError) as caught:
        open_sink(f"{server.url}/hook", environ={})
    assert "PIPELEDGER_WEBHOOK_SECRET" in caught.value.remedy

    server.protocol = WebhookReceiver(None)
    sink = open_sink(f"{server.url}/hook?unsigned=1", environ={})
    sink.write(make_records(1))
    assert "x-pipeledger-signature" not in server.received[0].headers


def test_display_url_hides_passwords_and_the_receivers_own_query(server):
    url = f"http://hookuser:hunter22@127.0.0.1:{server.port}/hook?code=azure-fn-key&format=ocsf"
    sink = open_sink(url)

    assert "hunter22" not in sink.display_url and "azure-fn-key" not in sink.display_url
    assert "format=ocsf" in sink.display_url
    sink.write(make_records(1))
    request = server.received[0]
    assert request.query == {"code": ["azure-fn-key"]}
    assert request.headers["authorization"].startswith("Basic ")
    assert request.json()["records"][0]["class_uid"] == 6003


def test_connection_refused_names_the_fix_without_secrets():
    sleeps: list[float] = []
    free = FakeServer(WebhookReceiver(SECRET)).up()
    port = free.port
    free.down()
    sink = open_sink(f"http://u:pa55word@127.0.0.1:{port}/hook?token=tok123", sleeps=sleeps)

    with pytest.raises(SinkError) as caught:
        sink.write(make_records(1))

    text = caught.value.describe()
    assert "could not connect" in text and "host and port" in text
    assert "pa55word" not in text and "tok123" not in text and SECRET not in text
    assert len(sleeps) == 5


def test_check_sends_an_empty_signed_batch(server, receiver):
    open_sink(f"{server.url}/hook").check()

    assert server.received[0].json() == {"checkpoint": None, "format": "native", "records": []}


def test_unknown_options_and_formats_are_usage_errors(server):
    with pytest.raises(UsageError, match="Unknown sink format"):
        open_sink(f"{server.url}/hook?format=cef")
    with pytest.raises(UsageError, match="out of range"):
        open_sink(f"{server.url}/hook?batch_size=0")


def test_redirects_are_not_followed(server, receiver):
    server.forced.append(Answer(307, b"", {"Location": "http://127.0.0.2:9/elsewhere"}))

    with pytest.raises(SinkError) as caught:
        open_sink(f"{server.url}/hook").write(make_records(1))

    assert "HTTP 307 (a redirect)" in caught.value.message
    assert "final URL" in caught.value.remedy
    assert len(server.received) == 1 and receiver.records == []


def test_option_errors_mask_the_receivers_query(server):
    with pytest.raises(UsageError) as caught:
        open_sink(f"{server.url}/hook?code=fn-key-value&batch_size=abc")

    assert "fn-key-value" not in caught.value.describe()
    assert "code=***" in caught.value.message
