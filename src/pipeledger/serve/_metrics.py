"""What ``GET /metrics`` reports, in the Prometheus text format (prometheus-client renders it):
deliveries by receiver and outcome, events stored, commit batch sizes, request latency, and
whether the ledger and each other sink take what they are sent."""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

CONTENT_TYPE = CONTENT_TYPE_LATEST
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)
BATCH_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)


class ServeMetrics:
    """One registry per server, so several servers in one process (tests) stay apart."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.deliveries = Counter(
            "pipeledger_webhook_deliveries",
            "Deliveries received, by receiver, channel, event and outcome.",
            ["receiver", "channel", "event", "outcome"],
            registry=self.registry,
        )
        self.rejected = Counter(
            "pipeledger_webhook_rejected",
            "Requests refused before a delivery could be read, by path and reason.",
            ["path", "reason"],
            registry=self.registry,
        )
        self.events_stored = Counter(
            "pipeledger_events_stored",
            "Events newly stored in the ledger (redelivered ones are not counted).",
            registry=self.registry,
        )
        self.commit_batch = Histogram(
            "pipeledger_ledger_commit_deliveries",
            "Deliveries committed together in one ledger transaction.",
            buckets=BATCH_BUCKETS,
            registry=self.registry,
        )
        self.latency = Histogram(
            "pipeledger_webhook_request_seconds",
            "Time from the request's arrival to its answer, for deliveries.",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.ledger_up = Gauge(
            "pipeledger_ledger_up",
            "1 when the last ledger write succeeded, 0 after a failure.",
            registry=self.registry,
        )
        self.ledger_up.set(1)
        self.sink_up = Gauge(
            "pipeledger_sink_up",
            "1 when the last delivery to a sink other than the ledger went through, 0 while it"
            " fails (its events wait in the ledger and are sent when it is back).",
            ["sink"],
            registry=self.registry,
        )

    def batch_committed(self, deliveries: int, stored: int) -> None:
        self.commit_batch.observe(deliveries)
        self.events_stored.inc(stored)

    def sinks_delivered(self, status: Mapping[str, str | None]) -> None:
        for url, failure in status.items():
            self.sink_up.labels(url).set(0 if failure else 1)

    def render(self) -> bytes:
        return generate_latest(self.registry)
