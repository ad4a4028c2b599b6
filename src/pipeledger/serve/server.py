"""Puts ``serve`` together: the receivers found through entry points, the ledger writer, the
ASGI app, and uvicorn to run it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from pipeledger import registry
from pipeledger.errors import UsageError
from pipeledger.events import AuditEvent
from pipeledger.serve._app import ServeApp
from pipeledger.serve._metrics import ServeMetrics
from pipeledger.serve._writer import LedgerWriter, SinkStatus
from pipeledger.serve.receiver import Receiver, ReceiverSettings
from pipeledger.sinks.fanout import SinkSet

SECRETS_HELP = (
    "Set PIPELEDGER_WEBHOOK_SECRET (the GitHub webhook's secret),"
    " PIPELEDGER_GITLAB_WEBHOOK_TOKEN (the GitLab webhook's secret token) or"
    " PIPELEDGER_GITLAB_STREAMING_TOKEN (the verification token of a GitLab audit event"
    " streaming destination), each 16 characters or more, in the environment, or the secret of"
    " another installed receiver plugin."
)

LOG = logging.getLogger("pipeledger.serve")


class WriterLedgerAccess:
    """The receivers' view of the ledger: every call goes through the writer thread."""

    def __init__(self, writer: LedgerWriter) -> None:
        self._writer = writer

    def commit(self, events: Sequence[AuditEvent], cursors: Mapping[str, str]) -> int:
        return self._writer.commit_blocking(events, cursors)

    def cursor(self, key: str) -> str | None:
        return self._writer.call(lambda ledger: ledger.cursor(key))

    def cursors_with_prefix(self, prefix: str) -> list[tuple[str, str]]:
        return self._writer.call(lambda ledger: ledger.cursors_with_prefix(prefix))


@dataclass
class Server:
    app: ServeApp
    writer: LedgerWriter
    receivers: list[Receiver]

    def start(self) -> None:
        """Open the ledger (raising SinkError if it cannot) and let receivers resume."""
        self.writer.start()
        access = WriterLedgerAccess(self.writer)
        for receiver in self.receivers:
            receiver.start(access)

    def stop(self) -> None:
        for receiver in self.receivers:
            receiver.stop()
        self.writer.stop()


def build_server(settings: ReceiverSettings, open_sinks: Callable[[], SinkSet]) -> Server:
    receivers = [
        registry.load_receiver(name).create(settings) for name in registry.available_receivers()
    ]
    if not any(receiver.enabled() for receiver in receivers):
        raise UsageError(
            "pipeledger serve has no webhook secret, so it would accept nothing.", SECRETS_HELP
        )
    metrics = ServeMetrics()
    health = SinkHealth(metrics)
    writer = LedgerWriter(open_sinks, on_batch=metrics.batch_committed, on_sinks=health.update)
    app = ServeApp(receivers, writer, metrics)
    return Server(app=app, writer=writer, receivers=receivers)


class SinkHealth:
    """Each sink other than the ledger: its state in ``/metrics`` after every delivery, and a
    line in the log when it starts failing (or fails differently) and when it recovers."""

    def __init__(self, metrics: ServeMetrics) -> None:
        self.metrics = metrics
        self.failing: dict[str, str] = {}

    def update(self, status: SinkStatus) -> None:
        self.metrics.sinks_delivered(status)
        for url, failure in status.items():
            before = self.failing.get(url)
            if failure is not None and failure != before:
                self.failing[url] = failure
                LOG.warning(
                    "delivery to %s failed: %s Its events wait in the ledger and are sent"
                    " when it is back (retried every second).",
                    url,
                    failure,
                )
            elif failure is None and before is not None:
                del self.failing[url]
                LOG.warning("delivery to %s works again; what waited was sent.", url)


def run_uvicorn(server: Server, host: str, port: int, log_level: str = "info") -> None:
    """Serve until SIGINT/SIGTERM, then finish the deliveries in flight and close the ledger."""
    import uvicorn

    config = uvicorn.Config(
        server.app,
        host=host,
        port=port,
        loop=_loop_name(),
        http=_http_name(),
        lifespan="on",
        access_log=False,
        log_level=log_level,
        server_header=False,
        timeout_graceful_shutdown=30,
    )
    server.start()
    try:
        uvicorn.Server(config).run()
    finally:
        server.stop()


def _loop_name() -> str:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"


def _http_name() -> str:
    try:
        import httptools  # noqa: F401
    except ImportError:
        return "h11"
    return "httptools"


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
