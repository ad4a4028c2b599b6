"""A hostile API server on 127.0.0.1 and a "foreign host" that records what reaches it.

:class:`HostileProxy` stands in front of a fake forge (the fake GitHub or GitLab API): it
forwards every request, rewriting the fake's own address in ``Link`` headers and bodies to its
own, except where an attack is armed for a path. Attacks: redirects (301/302/307/308)
anywhere, a foreign or relative ``Link: rel="next"``, bodies larger than any API page, bodies
trickled a few bytes at a time forever (slow loris), hostile values (lone surrogates,
out-of-range times, numbers where text belongs…) in any field at any depth of the records the
forge sent, and any answer at all (error messages with newlines, workflow commands and
terminal escapes).

:class:`ForeignHost` is another origin (its own port): it records every request with its
headers and answers ``[]``, the answer that once silently replaced a deployment list.
Standard library only.
"""

from __future__ import annotations

import http.client
import json
import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Seen:
    path: str
    headers: dict[str, str]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that hangs up mid-answer is what these attacks provoke: not an error."""


class _Base:
    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        assert self._httpd is not None
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._httpd = _Server(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def record(self, path: str, headers: dict[str, str]) -> None:
        with self._lock:
            self.seen.append(Seen(path, headers))

    def serve(self, handler: BaseHTTPRequestHandler) -> None:
        raise NotImplementedError

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                owner.record(self.path, {k.lower(): v for k, v in self.headers.items()})
                try:
                    owner.serve(self)
                except (BrokenPipeError, ConnectionResetError):
                    return

            def do_POST(self) -> None:
                """A sink's delivery or a GraphQL query: the body is read (and forwarded
                with its method where the server forwards), then answered alike."""
                self.sent_body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.do_GET()

            def log_message(self, format: str, *args: object) -> None:
                return

        return Handler


class ForeignHost(_Base):
    """Another origin: whatever reaches it is evidence of a leak."""

    def __enter__(self) -> ForeignHost:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def serve(self, handler: BaseHTTPRequestHandler) -> None:
        _write(handler, 200, b"[]", {"Content-Type": "application/json"})


Attack = Callable[[BaseHTTPRequestHandler, "Upstream"], None]


@dataclass
class Upstream:
    """The fake forge's answer to the forwarded request, already rewritten."""

    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class _Armed:
    pattern: re.Pattern[str]
    attack: Attack
    times: int | None
    forward_first: bool
    used: int = 0


class HostileProxy(_Base):
    def __init__(self, upstream: str) -> None:
        super().__init__()
        self.upstream = upstream.rstrip("/")
        self.armed: list[_Armed] = []

    def __enter__(self) -> HostileProxy:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def on(
        self,
        pattern: str,
        attack: Attack,
        *,
        times: int | None = None,
        forward_first: bool = False,
    ) -> None:
        """Answer requests whose path (with query) matches ``pattern`` with ``attack``, at
        most ``times`` times; ``forward_first`` lets the attack see the real answer."""
        self.armed.append(_Armed(re.compile(pattern), attack, times, forward_first))

    def serve(self, handler: BaseHTTPRequestHandler) -> None:
        armed = self._armed_for(handler.path)
        if armed is not None and not armed.forward_first:
            armed.attack(handler, Upstream(0, {}, b""))
            return
        answer = self._forward(handler)
        if armed is not None:
            armed.attack(handler, answer)
            return
        _write(handler, answer.status, answer.body, answer.headers)

    def _armed_for(self, path: str) -> _Armed | None:
        with self._lock:
            for armed in self.armed:
                if armed.pattern.search(path) and (armed.times is None or armed.used < armed.times):
                    armed.used += 1
                    return armed
        return None

    def _forward(self, handler: BaseHTTPRequestHandler) -> Upstream:
        parts = urlsplit(self.upstream)
        connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
        try:
            headers = {
                k: v
                for k, v in handler.headers.items()
                if k.lower() not in ("host", "accept-encoding", "connection")
            }
            connection.request(
                handler.command,
                parts.path.rstrip("/") + handler.path,
                body=getattr(handler, "sent_body", None),
                headers=headers,
            )
            response = connection.getresponse()
            body = response.read()
            kept = {
                k: v.replace(self.upstream, self.base_url)
                for k, v in response.getheaders()
                if k.lower() not in ("content-length", "transfer-encoding", "connection", "date")
            }
        finally:
            connection.close()
        return Upstream(
            response.status, kept, body.replace(self.upstream.encode(), self.base_url.encode())
        )


def _write(
    handler: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str]
) -> None:
    handler.send_response(status)
    for name, value in headers.items():
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


# Attacks ------------------------------------------------------------------------------


def redirect(status: int, location: str) -> Attack:
    def attack(handler: BaseHTTPRequestHandler, _: Upstream) -> None:
        _write(handler, status, b"", {"Location": location})

    return attack


def with_next_link(target: str) -> Attack:
    """The real answer, with its ``Link: rel="next"`` pointing at ``target``."""

    def attack(handler: BaseHTTPRequestHandler, answer: Upstream) -> None:
        headers = {k: v for k, v in answer.headers.items() if k.lower() != "link"}
        headers["Link"] = f'<{target}>; rel="next"'
        _write(handler, answer.status, answer.body, headers)

    return attack


def answer(status: int, body: bytes, headers: dict[str, str] | None = None) -> Attack:
    def attack(handler: BaseHTTPRequestHandler, _: Upstream) -> None:
        _write(handler, status, body, {"Content-Type": "application/json", **(headers or {})})

    return attack


def huge(size: int, *, declared: bool = False) -> Attack:
    """A JSON array padded with blanks to ``size`` bytes, chunked (so only reading tells how
    big it is) unless ``declared`` sends its Content-Length up front."""

    def attack(handler: BaseHTTPRequestHandler, _: Upstream) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        if declared:
            handler.send_header("Content-Length", str(size))
            handler.end_headers()
            return
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        block = b"[" + b" " * (1024 * 1024 - 1)
        sent = 0
        while sent < size:
            piece = block if sent == 0 else b" " * len(block)
            handler.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            sent += len(piece)
        handler.wfile.write(b"1\r\n]\r\n0\r\n\r\n")

    return attack


def trickle(interval: float, *, limit: float = 60.0) -> Attack:
    """Headers at once, then one blank every ``interval`` seconds until the client hangs up
    (or ``limit`` seconds pass, so a broken client cannot keep the thread forever)."""

    def attack(handler: BaseHTTPRequestHandler, _: Upstream) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        handler.wfile.write(b"1\r\n[\r\n")
        stop = time.monotonic() + limit
        while time.monotonic() < stop:
            handler.wfile.write(b"1\r\n \r\n")
            handler.wfile.flush()
            time.sleep(interval)

    return attack


@dataclass(frozen=True)
class Poisoned:
    """One field a :func:`poison_fields` attack replaced: in which record (its ``id`` as the
    forge sent it), where, and with what."""

    record: str
    path: tuple[str | int, ...]
    value: Any


def poison_fields(
    values: Sequence[Any], *, seed: int, log: list[Poisoned], every: int = 2
) -> Attack:
    """The real answer with one field — any key at any depth, containers included — of about
    one record in ``every`` replaced by one of ``values``. Record, field and value are chosen by
    a generator seeded with ``seed`` and the record's id, so every request (a rerun's too)
    meets the same poison. Lone surrogates go out as JSON ``\\ud800`` escapes and NaN as
    ``NaN``, as a hostile server would send them."""

    def attack(handler: BaseHTTPRequestHandler, answer: Upstream) -> None:
        try:
            body = json.loads(answer.body)
        except ValueError:
            _write(handler, answer.status, answer.body, answer.headers)
            return
        for record in _records(body):
            rng = random.Random(f"{seed}:{record['id']}")
            if rng.randrange(every) != 0:
                continue
            path = rng.choice(list(_fields(record)))
            value = rng.choice(values)
            log.append(Poisoned(str(record["id"]), path, value))
            _replace(record, path, value)
        _write(handler, answer.status, json.dumps(body).encode(), answer.headers)

    return attack


def _records(body: Any, *, with_id: bool = True) -> list[dict[str, Any]]:
    """The records of an API answer: a list's objects, a wrapped list's (``workflow_runs``),
    or the answer itself when it is one object with an id; only those with an ``id`` unless
    ``with_id`` is False (approvals have none)."""
    if isinstance(body, dict):
        lists = [v for v in body.values() if isinstance(v, list)]
        if "id" in body or not lists:
            return [body] if "id" in body else []
        body = lists[0]
    if not isinstance(body, list):
        return []
    return [item for item in body if isinstance(item, dict) and ("id" in item or not with_id)]


def _fields(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in items:
        yield (*path, key)
        if isinstance(item, dict | list) and item:
            yield from _fields(item, (*path, key))


def _replace(record: dict[str, Any], path: tuple[str | int, ...], value: Any) -> None:
    holder: Any = record
    for key in path[:-1]:
        holder = holder[key]
    holder[path[-1]] = value


def with_field(record_id: int | None, path: tuple[str | int, ...], value: Any) -> Attack:
    """The real answer with one field of the record ``record_id`` (of every record: None)
    set to ``value``."""

    def attack(handler: BaseHTTPRequestHandler, answer: Upstream) -> None:
        try:
            body = json.loads(answer.body)
        except ValueError:
            body = None
        for record in _records(body, with_id=record_id is not None):
            if record_id is None or record["id"] == record_id:
                _replace(record, path, value)
        out = answer.body if body is None else json.dumps(body).encode()
        _write(handler, answer.status, out, answer.headers)

    return attack
