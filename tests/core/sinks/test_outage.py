"""A webhook that is down for part of a run, through the real fan-out: the ledger is the
spool, the other sinks carry on, and the next run delivers every event exactly once."""

from __future__ import annotations

import json
from pathlib import Path

from pipeledger.sinks.contract import SinkSettings
from pipeledger.sinks.fanout import SinkSet
from pipeledger_webhook.sink import WebhookSink
from tests.core.sinks.records import make_event
from tests.fakes.sink_receivers import Answer, FakeServer, Received, WebhookReceiver

SECRET = "outage-test-secret"
SETTINGS = SinkSettings(environ={"PIPELEDGER_WEBHOOK_SECRET": SECRET}, timeout=2)


def open_set(urls: list[str], sleeps: list[float]) -> SinkSet:
    sink_set = SinkSet.open(urls, SETTINGS)
    for sink in sink_set.others:
        if isinstance(sink, WebhookSink):
            sink.client.sleep = sleeps.append
    return sink_set


def events(start: int, count: int) -> list:
    return [make_event(n) for n in range(start, start + count)]


def test_outage_then_flush_delivers_every_event_once_in_order(tmp_path: Path) -> None:
    receiver = WebhookReceiver(SECRET)
    server = FakeServer(receiver).up()
    copy = tmp_path / "copy.jsonl"
    urls = [
        f"sqlite:///{tmp_path / 'ledger.db'}",
        f"{server.url}/hook?batch_size=7",
        f"jsonl:///{copy}",
    ]
    sleeps: list[float] = []

    run = open_set(urls, sleeps)
    run.append(events(1, 20), {})
    server.down()
    run.append(events(21, 15), {})  # the webhook fails here...
    run.append(events(36, 5), {})  # ...and is skipped for the rest of the run
    failed = dict(run.failures)
    run.close()

    assert list(failed) == [f"{server.url}/hook?batch_size=7"]
    assert "could not connect" in failed[f"{server.url}/hook?batch_size=7"].message
    assert len(sleeps) == 5  # retried with backoff once, then left to the next run
    lines = [json.loads(line) for line in copy.read_text().splitlines()]
    assert len([line for line in lines if "event" in line]) == 40  # the other sink carried on
    assert [r["seq"] for r in receiver.records] == list(range(1, 21))

    server.up()  # same port: the service is back
    flush = open_set(urls, sleeps)
    flush.deliver()
    flush.close()
    server.down()

    assert not flush.failures
    assert [r["seq"] for r in receiver.records] == list(range(1, 41))
    assert len({r["event"]["id"] for r in receiver.records}) == 40
    assert receiver.duplicates == 0


def test_a_lost_acknowledgement_is_deduplicated_by_idempotency_key(tmp_path: Path) -> None:
    receiver = WebhookReceiver(SECRET)
    lost = {"left": 2}

    def store_then_fail(received: Received) -> Answer:
        answer = receiver(received)
        if lost["left"]:
            lost["left"] -= 1
            return Answer(502, b"gateway lost the answer")
        return answer

    with FakeServer(store_then_fail) as server:
        urls = [f"sqlite:///{tmp_path / 'ledger.db'}", f"{server.url}/hook"]
        run = open_set(urls, [])
        run.append(events(1, 10), {})
        run.close()

    assert not run.failures
    assert receiver.duplicates == 2
    assert [r["seq"] for r in receiver.records] == list(range(1, 11))
