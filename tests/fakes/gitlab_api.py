"""A fake GitLab REST v4 API on 127.0.0.1 for end-to-end tests and benchmarks.

It serves a :class:`~tests.fakes.gitlab_data.FakeInstance` the way GitLab does: offset
pagination with ``X-Page``/``X-Per-Page``/``X-Next-Page``/``X-Total`` (``X-Total`` and
``rel="last"`` left out above 10,000 items) and ``Link``; keyset pagination (``cursor``) for
audit events; ``RateLimit-*`` headers and 429 with ``Retry-After``; injected 5xx; token
auth by ``PRIVATE-TOKEN`` or ``Authorization: Bearer`` and ``JOB-TOKEN`` for the endpoints a
job token may use; members (``members/all``, inherited included, highest level per user),
protected environments and protected branches for snapshots; on a "free tier", 403 for audit
events and 404 for the Premium protected environments API; GraphQL at ``/api/graphql``
(:mod:`tests.fakes.gitlab_graphql`); and a log of every request.

Run it alone with ``python -m tests.fakes.gitlab_api --port-file F``: it writes the port to F
and serves a generated group until killed. Standard library only, but for graphql-core.
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

from tests.fakes.gitlab_data import (
    FakeApproval,
    FakeDeployment,
    FakeInstance,
    FakeJob,
    FakeProject,
    FakeUser,
)
from tests.fakes.gitlab_graphql import execute
from tests.fakes.gitlab_routes import JOB_TOKEN_ONLY, JOB_TOKEN_ROUTES, HttpError, Listing, route

JSON = dict[str, Any]
API_PREFIX = "/api/v4"
GRAPHQL_PATH = "/api/graphql"
DEFAULT_TOKEN = "glpat-fake-0123456789abcdef"


@dataclass
class Fault:
    status: int
    times: int
    path_contains: str = ""
    retry_after: str | None = "0"


@dataclass
class Logged:
    route: str
    path: str
    query: dict[str, str]
    status: int


@dataclass
class FakeGitLab:
    instance: FakeInstance
    token: str = DEFAULT_TOKEN
    job_token: str | None = None
    # The (project, job) the job token belongs to, for GET /job; a deployment stands for
    # its deploy job.
    job_token_job: tuple[FakeProject, FakeDeployment | FakeJob] | None = None
    free_tier: bool = False
    # Premium without approval settings on an environment: its deployments' detail carries
    # no approval fields (a deployment to an unprotected environment).
    approval_fields_only_if_protected: bool = False
    link_headers: bool = True
    total_limit: int = 10_000
    rate_limit: int = 2000
    rate_window: int = 60
    # Quota mode for tests: the window ends at the next whole second once ``rate_limit``
    # requests are used, so a client that honours RateLimit-Reset waits at most ~2 s.
    rate_quota: bool = False
    delay: float = 0.0
    log: list[Logged] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    # When set, every 200 answer is kept here under pipeledger.replay's key (path + sorted
    # query), which is how the bundled demo responses are recorded.
    recorded: dict[str, Any] | None = None
    # Hostile answers for tests: path -> fields that replace those of the object it answers.
    poison: dict[str, dict[str, Any]] = field(default_factory=dict)
    # GraphQL at /api/graphql; False is an instance (or a proxy) that answers it with 404.
    graphql: bool = True
    # Replaces the whole GraphQL answer, for tests of hostile or broken answers.
    graphql_answer: Any = None
    # Pipelines deleted after they were listed: GraphQL answers null for them.
    gone_pipelines: set[int] = field(default_factory=set)
    # Deployments deleted after they were listed: GraphQL answers null for them.
    gone_deployments: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._window: tuple[int, int] = (0, 0)

    # ---- lifecycle ------------------------------------------------------------------------

    def start(self, port: int = 0) -> str:
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self.api_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeGitLab:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{API_PREFIX}"

    # ---- test controls --------------------------------------------------------------------

    def fail_next(
        self,
        times: int = 1,
        status: int = 502,
        path_contains: str = "",
        retry_after: str | None = "0",
    ) -> None:
        with self.lock:
            self.faults.append(Fault(status, times, path_contains, retry_after))

    def throttle_next(
        self, times: int = 1, retry_after: str = "0", path_contains: str = ""
    ) -> None:
        self.fail_next(times, 429, path_contains, retry_after)

    def approve_deployment(
        self,
        deployment: FakeDeployment,
        user: FakeUser,
        at: datetime,
        status: str = "approved",
        comment: str | None = None,
    ) -> None:
        """A user approves (or rejects) a blocked deployment, as POST .../approval does;
        GitLab answers 400 for a deployment that is not waiting for approvals."""
        with self.lock:
            if deployment.status != "blocked":
                raise ValueError(f"deployment {deployment.id} is {deployment.status}, not blocked")
            deployment.approvals.append(FakeApproval(user, status, at, comment))
            deployment.updated_at = max(deployment.updated_at, at)

    def run_deploy_job(self, deployment: FakeDeployment, at: datetime) -> None:
        """The deploy job starts: only once its approvals are complete and none rejected
        (GitLab does not let a blocked job run), and then its deployment is ``running``."""
        with self.lock:
            rejected = any(a.status == "rejected" for a in deployment.approvals)
            if deployment.status == "blocked" and (
                rejected or deployment.approved_count < deployment.required_approvals
            ):
                raise ValueError(f"deployment {deployment.id} still waits for approval")
            deployment.status = "running"
            deployment.updated_at = max(deployment.updated_at, at)

    def counts(self) -> Counter[str]:
        with self.lock:
            return Counter(entry.route for entry in self.log)

    @property
    def requests(self) -> int:
        with self.lock:
            return len(self.log)

    # ---- request handling -----------------------------------------------------------------

    def answer(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes = b""
    ) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(raw_path)
        path = parts.path[len(API_PREFIX) :] if parts.path.startswith(API_PREFIX) else parts.path
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        name, handler, args = ("graphql", None, ()) if path == GRAPHQL_PATH else route(path)
        if self.delay:
            time.sleep(self.delay)
        rate = self._rate_headers()
        try:
            if int(rate["RateLimit-Observed"]) > self.rate_limit:
                wait = max(1, int(rate["RateLimit-Reset"]) - int(time.time()))
                raise HttpError(429, "Retry later\n", {"Retry-After": str(wait)})
            if name == "graphql":
                status, extra, answer = self._graphql(method, headers, body)
            else:
                status, extra, answer = self._dispatch(
                    method, name, handler, args, path, query, headers
                )
        except HttpError as error:
            status, extra, answer = error.status, error.headers, error.body
        with self.lock:
            self.log.append(Logged(name, path, query, status))
            if self.recorded is not None and status == 200 and name != "graphql":
                self.recorded[replay_key(path, parts.query)] = answer
        return status, {**rate, **extra}, _encode(answer)

    def _graphql(
        self, method: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], Any]:
        if not self.graphql:
            raise HttpError(404, {"error": "404 Not Found"})
        if method != "POST":
            raise HttpError(405, {"message": "405 Method Not Allowed"})
        self._fault(GRAPHQL_PATH)
        self._authenticate("graphql", headers)
        try:
            document = json.loads(body)
        except ValueError:
            raise HttpError(400, {"errors": [{"message": "Invalid JSON"}]}) from None
        with self.lock:
            answer = execute(
                self.instance,
                document,
                self.gone_pipelines,
                self.gone_deployments,
                free_tier=self.free_tier,
            )
        return 200, {}, answer if self.graphql_answer is None else self.graphql_answer

    def _dispatch(
        self,
        method: str,
        route: str,
        handler: Any,
        args: tuple[str, ...],
        path: str,
        query: dict[str, str],
        headers: dict[str, str],
    ) -> tuple[int, dict[str, str], Any]:
        if method != "GET":
            raise HttpError(405, {"message": "405 Method Not Allowed"})
        self._fault(path)
        self._authenticate(route, headers)
        if handler is None:
            raise HttpError(404, {"error": "404 Not Found"})
        with self.lock:
            result = handler(self, *args, query=query)
        if isinstance(result, Listing):
            return self._paginate(result, path, query, headers)
        if path in self.poison and isinstance(result, dict):
            result = {**result, **self.poison[path]}
        return 200, {}, result

    def _fault(self, path: str) -> None:
        with self.lock:
            fault = next((f for f in self.faults if f.times > 0 and f.path_contains in path), None)
            if fault is None:
                return
            fault.times -= 1
        extra = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
        if fault.status == 429:
            raise HttpError(429, "Retry later\n", extra)
        raise HttpError(fault.status, f"<html><body><h1>{fault.status}</h1></body></html>", extra)

    def _authenticate(self, route: str, headers: dict[str, str]) -> None:
        personal = headers.get("private-token") == self.token or (
            headers.get("authorization") == f"Bearer {self.token}"
        )
        if personal and route not in JOB_TOKEN_ONLY:
            return
        job = headers.get("job-token")
        if job is not None and job == self.job_token and route in JOB_TOKEN_ROUTES:
            return
        raise HttpError(401, {"message": "401 Unauthorized"})

    def _rate_headers(self) -> dict[str, str]:
        """GitLab's RateLimit-* headers for a fixed window of ``rate_window`` seconds."""
        now = time.time()
        with self.lock:
            if self.rate_quota:
                start, observed, reset = self._quota(now)
            else:
                start = int(now // self.rate_window * self.rate_window)
                observed = self._window[1] + 1 if self._window[0] == start else 1
                reset = start + self.rate_window
            self._window = (start, observed)
        return {
            "RateLimit-Limit": str(self.rate_limit),
            "RateLimit-Observed": str(observed),
            "RateLimit-Remaining": str(max(0, self.rate_limit - observed)),
            "RateLimit-Reset": str(reset),
            "RateLimit-ResetTime": formatdate(reset, usegmt=True),
        }

    def _quota(self, now: float) -> tuple[int, int, int]:
        reset_at, observed = self._window
        if observed >= self.rate_limit and now >= reset_at:
            observed = 0  # the exhausted window has ended
        observed += 1
        if observed < self.rate_limit:
            reset_at = math.ceil(now) + self.rate_window
        elif observed == self.rate_limit:
            reset_at = math.ceil(now)
        return reset_at, observed, reset_at

    # ---- pagination -----------------------------------------------------------------------

    def _paginate(
        self, listing: Listing, path: str, query: dict[str, str], headers: dict[str, str]
    ) -> tuple[int, dict[str, str], Any]:
        per_page = max(1, min(int(query.get("per_page") or 20), 100))
        base = f"http://{headers.get('host', '127.0.0.1')}{API_PREFIX}{path}"
        if query.get("pagination") == "keyset":
            return self._keyset(listing, per_page, base, query)
        page = max(1, int(query.get("page") or 1))
        total = len(listing.items)
        chunk = listing.items[(page - 1) * per_page : page * per_page]
        has_next = page * per_page < total
        out = {
            "X-Page": str(page),
            "X-Per-Page": str(per_page),
            "X-Next-Page": str(page + 1) if has_next else "",
            "X-Prev-Page": str(page - 1) if page > 1 else "",
        }
        links = {"first": 1}
        if page > 1:
            links["prev"] = page - 1
        if has_next:
            links["next"] = page + 1
        if total <= self.total_limit:
            pages = max(1, math.ceil(total / per_page))
            out.update({"X-Total": str(total), "X-Total-Pages": str(pages)})
            links["last"] = pages
        if self.link_headers:
            out["Link"] = ", ".join(
                f'<{base}?{urlencode({**query, "page": str(n)})}>; rel="{rel}"'
                for rel, n in links.items()
            )
        with self.lock:
            return 200, out, [listing.render(item) for item in chunk]

    def _keyset(
        self, listing: Listing, per_page: int, base: str, query: dict[str, str]
    ) -> tuple[int, dict[str, str], Any]:
        if listing.keyset is None or query.get("order_by", "id") != "id":
            raise HttpError(
                405,
                {
                    "message": "405 Method Not Allowed",
                    "error": "Keyset pagination is not yet available for this type of request",
                },
            )
        ascending = query.get("sort", "desc") == "asc"
        items = sorted(listing.items, key=listing.keyset, reverse=not ascending)
        if query.get("cursor"):
            last = json.loads(base64.urlsafe_b64decode(query["cursor"]))["id"]
            items = [
                i
                for i in items
                if (listing.keyset(i) > last) == ascending and listing.keyset(i) != last
            ]
        chunk = items[:per_page]
        out: dict[str, str] = {}
        if len(items) > per_page:
            cursor = base64.urlsafe_b64encode(
                json.dumps({"id": listing.keyset(chunk[-1])}).encode()
            ).decode()
            out["Link"] = f'<{base}?{urlencode({**query, "cursor": cursor})}>; rel="next"'
        with self.lock:
            return 200, out, [listing.render(item) for item in chunk]


def replay_key(path: str, query: str) -> str:
    pairs = sorted(parse_qsl(query, keep_blank_values=True))
    return path + ("?" + urlencode(pairs) if pairs else "")


def _encode(body: Any) -> bytes:
    return body.encode() if isinstance(body, str) else json.dumps(body).encode()


def _handler(fake: FakeGitLab) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # Headers and body go out in two writes; without this, Nagle's algorithm and the
            # client's delayed ACK add 40 ms to every keep-alive request.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_GET(self) -> None:
            self._respond("GET", b"")

        def do_POST(self) -> None:
            self._respond("POST", self.rfile.read(int(self.headers.get("content-length", "0"))))

        def _respond(self, method: str, sent: bytes) -> None:
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, extra, body = fake.answer(method, self.path, headers, sent)
            self.send_response(status)
            is_text = body[:1] not in (b"{", b"[")
            self.send_header("Content-Type", "text/html" if is_text else "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return None

    return Handler


def main(argv: list[str] | None = None) -> int:
    from tests.fakes.gitlab_generate import Size, generate_group

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--projects-per-group", type=int, default=2)
    parser.add_argument("--pipelines", type=int, default=12)
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument("--free-tier", action="store_true")
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args(argv)
    size = Size(projects_per_group=args.projects_per_group, pipelines=args.pipelines)
    fake = FakeGitLab(
        generate_group(args.seed, size),
        token=args.token,
        free_tier=args.free_tier,
        delay=args.delay,
    )
    fake.start()
    Path(args.port_file).write_text(str(fake.port), encoding="utf-8")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        fake.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
