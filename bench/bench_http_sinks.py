"""Events per second through the webhook and Elasticsearch sinks into local servers on
127.0.0.1, and where the time goes: the server runs in its own process, so each side's CPU
seconds are measured apart (no shared GIL).

``python -m bench.run http_sinks``; ``PIPELEDGER_BENCH_EVENTS`` changes N (default 50,000).
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection

import requests
from tests.core.sinks.records import make_records
from tests.fakes.sink_receivers import Answer, BulkReceiver, FakeServer, Received, WebhookReceiver

from pipeledger.events import canonical_json
from pipeledger.formats import RecordSchema, render
from pipeledger.sinks.contract import LedgerRecord, Sink, SinkSettings
from pipeledger_elasticsearch.sink import ElasticsearchSink
from pipeledger_webhook.sink import WebhookSink

SECRET = "bench-webhook-secret"  # noqa: S105 - the local test receiver's key
DELIVERY_CHUNK = 1000  # what the fan-out hands a sink per write()
STATS_PATH = "/__stats"
SETTINGS = SinkSettings(environ={"PIPELEDGER_WEBHOOK_SECRET": SECRET})


@dataclass
class CountingProtocol:
    """The receiver, plus an endpoint reporting the server process's CPU seconds."""

    protocol: Callable[[Received], Answer]
    requests: int = 0

    def __call__(self, received: Received) -> Answer:
        if received.path == STATS_PATH:
            return Answer(200, {"cpu": time.process_time(), "requests": self.requests})
        self.requests += 1
        return self.protocol(received)


def serve(kind: str, conn: Connection) -> None:
    """Child process: run one receiver until the parent says stop."""
    protocol = WebhookReceiver(SECRET) if kind == "webhook" else BulkReceiver()
    server = FakeServer(CountingProtocol(protocol)).up()
    conn.send(server.port)
    conn.recv()
    server.down()


@dataclass(frozen=True)
class Stats:
    cpu: float
    requests: int

    @classmethod
    def fetch(cls, base: str) -> Stats:
        body = requests.get(base + STATS_PATH, timeout=10).json()
        return cls(cpu=float(body["cpu"]), requests=int(body["requests"]))


def run(label: str, records: list[LedgerRecord], kind: str, opener: Callable[[str], Sink]) -> None:
    parent, child = multiprocessing.get_context("spawn").Pipe()
    process = multiprocessing.get_context("spawn").Process(target=serve, args=(kind, child))
    process.start()
    base = f"http://127.0.0.1:{parent.recv()}"
    try:
        sink = opener(base)
        before = Stats.fetch(base)
        cpu_started, started = time.process_time(), time.perf_counter()
        for start in range(0, len(records), DELIVERY_CHUNK):
            sink.write(records[start : start + DELIVERY_CHUNK])
        wall = time.perf_counter() - started
        client_cpu = time.process_time() - cpu_started
        after = Stats.fetch(base)
        sink.close()
    finally:
        parent.send("stop")
        process.join(timeout=10)
    server_cpu = after.cpu - before.cpu
    per_event = 1e6 / len(records)
    print(
        f"{label:<36} {len(records) / wall:>8,.0f} events/s {after.requests - before.requests:>4}"
        f" requests  wall {wall:5.2f} s  server CPU {server_cpu:5.2f} s"
        f" ({server_cpu * per_event:4.1f} µs/event)  client CPU {client_cpu:5.2f} s"
        f" ({client_cpu * per_event:4.1f} µs/event)"
    )


def serialization_cost(records: list[LedgerRecord], output: RecordSchema) -> float:
    started = time.perf_counter()
    for record in records:
        canonical_json(render(record, output)).encode()
    return time.perf_counter() - started


def webhook(query: str) -> Callable[[str], Sink]:
    return lambda base: WebhookSink.open(f"{base}/hook?{query}", SETTINGS)


def main() -> None:
    count = int(os.environ.get("PIPELEDGER_BENCH_EVENTS", "50000"))
    records = make_records(count)
    print(f"N = {count:,} events, handed over in chunks of {DELIVERY_CHUNK} as the fan-out does")
    for output in RecordSchema:
        cost = serialization_cost(records, output)
        print(f"render + serialize only, {output.value:<6}      {count / cost:>8,.0f} events/s")
    for batch in (100, 500, 1000):
        run(f"webhook batch_size={batch}", records, "webhook", webhook(f"batch_size={batch}"))
    run("webhook batch_size=500 format=ocsf", records, "webhook", webhook("format=ocsf"))
    run(
        "elasticsearch _bulk batch_size=1000",
        records,
        "bulk",
        lambda url: ElasticsearchSink.open(f"elasticsearch+{url}?index=bench", SETTINGS),
    )
