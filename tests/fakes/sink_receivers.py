"""Local services on 127.0.0.1 that speak each sink's protocol: a webhook receiver that
checks the signature, Splunk HEC, Elasticsearch _bulk (with per-item failures on demand) and
the Datadog log intake. Each keeps what it stored so tests can count every event."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import socket
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Answer:
    status: int = 200
    body: Any = b""
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body).encode()


Protocol = Callable[[Received], Answer]


class FakeServer:
    """A ThreadingHTTPServer whose answers come from ``forced`` first, then the protocol."""

    def __init__(self, protocol: Protocol) -> None:
        self.protocol = protocol
        self.received: list[Received] = []
        self.forced: deque[Answer] = deque()
        self.port = 0
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def up(self) -> FakeServer:
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        return self

    def down(self) -> None:
        """Stop listening and drop open keep-alive connections, as a crashed service would."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        with self._lock:
            for connection in self._connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
            self._connections.clear()

    def __enter__(self) -> FakeServer:
        return self.up()

    def __exit__(self, *exc: object) -> None:
        self.down()

    def answer(self, received: Received) -> Answer:
        with self._lock:
            self.received.append(received)
            if self.forced:
                return self.forced.popleft()
            return self.protocol(received)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # One write per answer and no Nagle: otherwise delayed ACKs add 40 ms a request.
            wbufsize = 1 << 16
            disable_nagle_algorithm = True

            def setup(self) -> None:
                super().setup()
                with fake._lock:
                    fake._connections.add(self.connection)

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                received = Received(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                answer = fake.answer(received)
                payload = answer.encoded()
                self.send_response(answer.status)
                for key, value in answer.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_POST = do_HEAD = do_PUT = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


class WebhookReceiver:
    """Verifies X-Pipeledger-Signature and keeps each batch once per Idempotency-Key."""

    def __init__(self, secret: str | None) -> None:
        self.secret = secret
        self.batches: dict[str, dict[str, Any]] = {}
        self.duplicates = 0

    def __call__(self, received: Received) -> Answer:
        if self.secret is not None:
            expected = (
                "sha256="
                + hmac.new(self.secret.encode(), received.body, hashlib.sha256).hexdigest()
            )
            given = received.headers.get("x-pipeledger-signature", "")
            if not hmac.compare_digest(expected, given):
                return Answer(401, {"error": "bad signature"})
        key = received.headers["idempotency-key"]
        if key in self.batches:
            self.duplicates += 1
        else:
            self.batches[key] = received.json()
        return Answer(200, {"ok": True})

    @property
    def records(self) -> list[dict[str, Any]]:
        return [r for batch in self.batches.values() for r in batch["records"]]

    @property
    def checkpoints(self) -> list[dict[str, Any]]:
        return [b["checkpoint"] for b in self.batches.values() if b["checkpoint"]]


class HecReceiver:
    """Splunk HTTP Event Collector: token check, stacked JSON events, documented codes."""

    def __init__(self, token: str, indexes: tuple[str, ...] = ("main",)) -> None:
        self.token = token
        self.indexes = indexes
        self.events: list[dict[str, Any]] = []

    def __call__(self, received: Received) -> Answer:
        auth = received.headers.get("authorization")
        if auth is None:
            return Answer(401, {"text": "Token is required", "code": 2})
        if auth != f"Splunk {self.token}":
            return Answer(403, {"text": "Invalid token", "code": 4})
        if received.path != "/services/collector/event":
            return Answer(
                404, {"text": "The requested URL was not found on this server.", "code": 404}
            )
        events = _stacked(received.body.decode())
        if not events:
            return Answer(400, {"text": "No data", "code": 5})
        for number, event in enumerate(events):
            if "event" not in event:
                return Answer(
                    400,
                    {"text": "Event field is required", "code": 12, "invalid-event-number": number},
                )
            if event.get("index", self.indexes[0]) not in self.indexes:
                return Answer(
                    400, {"text": "Incorrect index", "code": 7, "invalid-event-number": number}
                )
        self.events.extend(events)
        return Answer(200, {"text": "Success", "code": 0})


def _stacked(text: str) -> list[dict[str, Any]]:
    decoder = json.JSONDecoder()
    events: list[dict[str, Any]] = []
    position = 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position >= len(text):
            return events
        event, position = decoder.raw_decode(text, position)
        events.append(event)


class BulkReceiver:
    """Elasticsearch _bulk with create semantics; items can be made to fail on demand."""

    def __init__(self, api_key: str | None = None) -> None:
        self.api_key = api_key
        self.docs: dict[tuple[str, str], dict[str, Any]] = {}
        self.reject_once: set[str] = set()  # ids answered 429 on their first create
        self.mapping_errors: set[str] = set()  # ids answered 400 mapper_parsing_exception
        self.bulk_requests = 0

    def __call__(self, received: Received) -> Answer:
        if (
            self.api_key is not None
            and received.headers.get("authorization") != f"ApiKey {self.api_key}"
        ):
            return Answer(
                401,
                {
                    "error": {"type": "security_exception", "reason": "unable to authenticate"},
                    "status": 401,
                },
            )
        if received.method == "HEAD":
            index = received.path.strip("/")
            found = any(i == index for i, _ in self.docs)
            return Answer(200 if found else 404)
        if received.path != "/_bulk":
            return Answer(404, {"error": "no handler"})
        self.bulk_requests += 1
        lines = received.body.decode().splitlines()
        items = [
            self._create(json.loads(a)["create"], json.loads(d))
            for a, d in zip(lines[::2], lines[1::2])
        ]
        errors = any(next(iter(i.values()))["status"] >= 300 for i in items)
        return Answer(200, {"took": 3, "errors": errors, "items": items})

    def _create(self, action: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
        index, doc_id = action["_index"], action["_id"]
        result: dict[str, Any] = {"_index": index, "_id": doc_id}
        if doc_id in self.reject_once:
            self.reject_once.discard(doc_id)
            result["status"] = 429
            result["error"] = {
                "type": "es_rejected_execution_exception",
                "reason": "rejected execution",
            }
        elif doc_id in self.mapping_errors:
            result["status"] = 400
            result["error"] = {
                "type": "mapper_parsing_exception",
                "reason": "failed to parse field [event.target] of type [keyword]",
            }
        elif (index, doc_id) in self.docs:
            result["status"] = 409
            result["error"] = {
                "type": "version_conflict_engine_exception",
                "reason": f"[{doc_id}]: version conflict, document already exists",
            }
        else:
            self.docs[(index, doc_id)] = doc
            result["status"] = 201
            result["result"] = "created"
        return {"create": result}


class DatadogIntake:
    """The v2 log intake and the v1 key validation endpoint."""

    def __init__(self, api_key: str) -> None:
        self.api_key = api_key
        self.entries: list[dict[str, Any]] = []

    def __call__(self, received: Received) -> Answer:
        if received.headers.get("dd-api-key") != self.api_key:
            return Answer(403, {"errors": ["Forbidden"]})
        if received.method == "GET" and received.path == "/api/v1/validate":
            return Answer(200, {"valid": True})
        if received.path != "/api/v2/logs":
            return Answer(404, {"errors": ["Not found"]})
        if len(received.body) > 5 * 1024 * 1024:
            return Answer(413, {"errors": ["Payload too large"]})
        entries = received.json()
        if len(entries) > 1000:
            return Answer(400, {"errors": ["Too many entries"]})
        self.entries.extend(entries)
        return Answer(202, {})
