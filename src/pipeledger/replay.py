"""A tiny local HTTP server that answers with recorded responses, for the offline demo.

Requests are matched on path plus sorted query string; anything unrecorded (and any POST) is
a 404, as an API would answer it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit


def replay_key(path: str, query: str) -> str:
    pairs = sorted(parse_qsl(query, keep_blank_values=True))
    return path + ("?" + urlencode(pairs) if pairs else "")


@contextmanager
def serve_recorded(responses: Mapping[str, object]) -> Iterator[str]:
    """Serve ``responses`` on 127.0.0.1; yields the base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            key = replay_key(parts.path, parts.query)
            if key in responses:
                self._answer(200, responses[key])
            else:
                self._answer(404, {"message": "Not Found", "recorded": False})

        def do_POST(self) -> None:
            """Nothing posted is recorded (a GraphQL query): 404, as an instance without
            GraphQL answers, so the client reads the same over REST."""
            self.rfile.read(int(self.headers.get("content-length") or 0))
            self._answer(404, {"message": "Not Found", "recorded": False})

        def _answer(self, status: int, body: object) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
