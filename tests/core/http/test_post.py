"""ApiClient.post_json against a real HTTP server on 127.0.0.1: the body arrives as sent,
with the client's credentials, and failures are retried exactly as a GET's are."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pipeledger.errors import PlatformError
from pipeledger.http.client import ApiClient, RateLimitHeaders, RetryPolicy


class Recorder(BaseHTTPRequestHandler):
    """Answers each POST with the next (status, headers) the test queued, then 200."""

    queued: list[tuple[int, dict[str, str]]] = []
    seen: list[tuple[str, str, dict[str, str], bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        self.seen.append((self.command, self.path, dict(self.headers), body))
        status, headers = self.queued.pop(0) if self.queued else (200, {})
        answer = json.dumps({"data": {"echo": json.loads(body)}}).encode()
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    Recorder.queued, Recorder.seen = [], []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/api"
    httpd.shutdown()
    httpd.server_close()


def _client(base: str, slept: list[float]) -> ApiClient:
    return ApiClient(
        base,
        {"Authorization": "Bearer secret-token"},
        rate_headers=RateLimitHeaders(remaining="ratelimit-remaining", reset="ratelimit-reset"),
        translate_error=lambda response: PlatformError(f"HTTP {response.status}"),
        policy=RetryPolicy(max_retries=3, backoff_base=0.5),
        sleep=slept.append,
    )


def test_posts_the_document_as_json_with_the_credentials(server: str) -> None:
    document = {"query": "{ a }", "variables": {"n": 1}}
    response = _client(server, []).post_json("/graphql", document)
    assert response.status == 200
    assert response.body == {"data": {"echo": document}}
    method, path, headers, body = Recorder.seen[0]
    assert (method, path) == ("POST", "/api/graphql")
    assert headers["Authorization"] == "Bearer secret-token"
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == document


def test_retries_a_server_error_like_a_get(server: str) -> None:
    Recorder.queued = [(502, {}), (503, {})]
    slept: list[float] = []
    client = _client(server, slept)
    assert client.post_json("/graphql", {"query": "{ a }"}).body == {
        "data": {"echo": {"query": "{ a }"}}
    }
    assert len(Recorder.seen) == 3 and client.requests_made == 3
    assert slept == [0.5, 1.0]
    assert {body for *_, body in Recorder.seen} == {b'{"query": "{ a }"}'}


def test_follows_a_redirect_that_keeps_the_body_but_not_one_that_drops_it(server: str) -> None:
    Recorder.queued = [(307, {"location": "/api/graphql?moved=1"})]
    client = _client(server, [])
    assert client.post_json("/graphql", {"query": "{ b }"}).status == 200
    assert [path for _, path, _, _ in Recorder.seen] == ["/api/graphql", "/api/graphql?moved=1"]
    assert Recorder.seen[1][0] == "POST" and Recorder.seen[1][3] == b'{"query": "{ b }"}'
    Recorder.queued = [(302, {"location": "/api/graphql?elsewhere=1"})]
    with pytest.raises(PlatformError, match="HTTP 302"):
        client.post_json("/graphql", {"query": "{ c }"})
    assert Recorder.seen[-1][1] == "/api/graphql"  # the 302 was not followed


def test_refuses_a_path_outside_the_api_root(server: str) -> None:
    with pytest.raises(PlatformError):
        _client(server, []).post_json("http://127.0.0.2/api/graphql", {"query": "{ a }"})
    assert Recorder.seen == []


def test_a_sibling_root_on_the_same_host_shares_credentials_and_the_rate_limit_pause(
    server: str,
) -> None:
    slept: list[float] = []
    rest = _client(server + "/v4", slept)
    graphql = rest.sibling(server)
    Recorder.queued = [(429, {"retry-after": "7"})]
    assert graphql.post_json("/graphql", {"query": "{ a }"}).status == 200
    assert [path for _, path, _, _ in Recorder.seen] == ["/api/graphql"] * 2
    assert Recorder.seen[1][2]["Authorization"] == "Bearer secret-token"
    assert (graphql.requests_made, rest.requests_made) == (2, 0)
    assert slept == [pytest.approx(7, abs=0.5)]
    # The pause is in the budget both spend: the REST client, used next by another thread
    # (a concurrent collection's), waits it out too.
    other = threading.Thread(target=rest.post_json, args=("/graphql", {"query": "{ b }"}))
    other.start()
    other.join()
    assert slept == [pytest.approx(7, abs=0.5)] * 2 and rest.requests_made == 1
    with pytest.raises(PlatformError):  # the sibling's root is /api, not /api/v4's parent
        graphql.post_json("http://127.0.0.1:1/api/graphql", {"query": "{ a }"})


def test_a_sibling_on_another_host_or_port_is_refused(server: str) -> None:
    rest = _client(server + "/v4", [])
    others = ("http://127.0.0.2/api", server.replace("http:", "https:"), "http://127.0.0.1:1/api")
    for elsewhere in others:
        with pytest.raises(ValueError):
            rest.sibling(elsewhere)


def test_a_sibling_with_its_own_budget_spends_it_alone(server: str) -> None:
    """GitHub's GraphQL points: used up, they hold GraphQL requests, not the REST ones."""
    slept: list[float] = []
    rest = _client(server + "/v4", slept)
    graphql = rest.sibling(server, own_budget=True)
    reset = str(int(time.time()) + 120)
    Recorder.queued = [(200, {"ratelimit-remaining": "0", "ratelimit-reset": reset})]
    assert graphql.post_json("/graphql", {"query": "{ a }"}).status == 200
    assert rest.post_json("/graphql", {"query": "{ b }"}).status == 200
    assert slept == []  # REST's budget knows nothing of GraphQL's
    graphql.post_json("/graphql", {"query": "{ c }"})
    assert slept and min(slept) > 100  # GraphQL's own budget waits for its reset
