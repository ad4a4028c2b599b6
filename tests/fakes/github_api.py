"""A local fake of the GitHub REST API for end-to-end tests and benchmarks.

:class:`FakeGitHubServer` serves a :class:`~tests.fakes.github_data.FakeOrg` over HTTP on
127.0.0.1 (endpoints at the root, like api.github.com) and copies the behaviour clients must
cope with: ``Link`` pagination, the 1,000-result cap of filtered run lists, ETag / 304 (not
counted against the rate limit), bad credentials, missing token permissions, primary and
secondary rate limits, injected 5xx faults, truncated bodies and slow responses.  Every
request is logged.  Collaborators, members, teams, environments, branch protection, branch
rules and the audit log are served from an :class:`~tests.fakes.github_access.AccessState`
(``server.access``; see :mod:`tests.fakes.github_access`).
``GET /__stats`` (not logged, no token needed) answers the log's totals, for a client in
another process.

Run it as a separate process (kill-and-resume tests, benchmarks)::

    python -m tests.fakes.github_api --generate repos=20,runs=500,deploy=0.1,seed=1 \\
        --port 0 --port-file /tmp/port

Standard library only.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import re
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from tests.fakes.github_access import AccessState
from tests.fakes.github_access_routes import AccessRoutes
from tests.fakes.github_data import (
    Cached,
    FakeDeployment,
    FakeOrg,
    FakePull,
    FakeRepo,
    FakeRun,
    FakeUser,
    generate_org,
    render_approval,
    render_deployment,
    render_org_full,
    render_private_user,
    render_pull_full,
    render_pull_simple,
    render_rate_limit,
    render_repo_full,
    render_repo_minimal,
    render_review,
    render_run,
    render_status,
    render_tag,
    render_team_membership,
    scenario_org,
)
from tests.fakes.github_graphql import execute, schema
from tests.fakes.github_graphql_cost import query_cost

DOCS = "https://docs.github.com/rest"
RATE_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
SECONDARY_DOCS = (
    "https://docs.github.com/free-pro-team@latest/rest/overview/"
    "rate-limits-for-the-rest-api#about-secondary-rate-limits"
)
SEARCH_CAP = 1000
STATS_PATH = "/__stats"
RUN_FILTERS = ("actor", "branch", "check_suite_id", "created", "event", "head_sha", "status")
Query = dict[str, str]


class RequestRecord(NamedTuple):
    """One logged request."""

    method: str
    path: str
    status: int
    had_if_none_match: bool


@dataclass
class Response:
    """What the handler writes back."""

    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    content_type: str = "application/json; charset=utf-8"
    counts: bool = True  # decrements the primary rate limit


class ApiError(Exception):
    """Raised by route handlers to answer with a GitHub-style error body."""

    def __init__(self, status: int, message: str, doc: str = DOCS, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.doc = doc
        self.extra = extra


def error_body(status: int, message: str, doc: str = DOCS, **extra: Any) -> bytes:
    """GitHub's error JSON: message, documentation_url, status (as a string)."""
    payload: dict[str, Any] = {
        "message": message,
        **extra,
        "documentation_url": doc,
        "status": str(status),
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def dumps(value: Any) -> str:
    """Compact JSON, like GitHub."""
    return json.dumps(value, separators=(",", ":"))


# --------------------------------------------------------------------------------------------
# Query helpers
# --------------------------------------------------------------------------------------------


def _parse_moment(text: str) -> tuple[datetime, datetime]:
    """A date is the whole UTC day; a datetime is an instant.  Returns (first, last)."""
    text = text.strip().replace(" ", "+")
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        day = datetime.fromisoformat(text).replace(tzinfo=UTC)
        return day, day + timedelta(days=1) - timedelta(microseconds=1)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment, moment


def created_predicate(expr: str) -> Callable[[datetime], bool]:
    """GitHub search date syntax: ``>=X``, ``>X``, ``<=X``, ``<X``, ``A..B`` (``*`` open), ``X``."""
    expr = expr.strip()
    if ".." in expr:
        low_text, high_text = expr.split("..", 1)
        low = None if low_text.strip() == "*" else _parse_moment(low_text)[0]
        high = None if high_text.strip() == "*" else _parse_moment(high_text)[1]
        return lambda t: (low is None or t >= low) and (high is None or t <= high)
    for op in (">=", "<=", ">", "<"):
        if expr.startswith(op):
            first, last = _parse_moment(expr[len(op) :])
            checks: dict[str, Callable[[datetime], bool]] = {
                ">=": lambda t: t >= first,
                ">": lambda t: t > last,
                "<=": lambda t: t <= last,
                "<": lambda t: t < first,
            }
            return checks[op]
    first, last = _parse_moment(expr)
    return lambda t: first <= t <= last


def _int_param(query: Query, name: str, default: int) -> int:
    try:
        value = int(query.get(name, default))
    except ValueError:
        return default
    return value if value > 0 else default


def _run_matches(run: FakeRun, query: Query, created: Callable[[datetime], bool] | None) -> bool:
    checks = (
        ("actor", lambda v: run.actor.login == v),
        ("branch", lambda v: run.head_branch == v),
        ("event", lambda v: run.event == v),
        ("status", lambda v: v in (run.status, run.conclusion)),
        ("head_sha", lambda v: run.head_sha == v),
        ("check_suite_id", lambda v: str(run.check_suite_id) == v),
    )
    for name, check in checks:
        if name in query and not check(query[name]):
            return False
    return created is None or created(run.created_at)


# --------------------------------------------------------------------------------------------
# Server
# --------------------------------------------------------------------------------------------


@dataclass
class _PathFault:
    pattern: str
    remaining: int
    status: int


def _matches(pattern: str, path: str, target: str) -> bool:
    """A regex matches the bare path or the path with its query string."""
    return re.search(pattern, path) is not None or re.search(pattern, target) is not None


def _permission_for(path: str) -> str:
    if path.endswith("/audit-log"):
        return "organization_administration=read"
    if path.endswith("/protection"):
        return "administration=read"
    if "/actions/" in path or "/environments" in path:
        return "actions=read"
    if "/deployments" in path:
        return "deployments=read"
    if "/pulls" in path:
        return "pull_requests=read"
    if "/teams" in path or path.endswith("/members"):
        return "members=read"
    return "metadata=read"


FAULT_MESSAGES = {500: "Server Error", 503: "Service Unavailable", 504: "Gateway Timeout"}
UNICORN = (
    "<!DOCTYPE html><html><head><title>Unicorn! &middot; GitHub</title></head><body>"
    "<p>We had issues producing the response to your request.</p></body></html>"
)


class FakeGitHubServer:
    """Threaded HTTP fake of the GitHub REST API serving ``org``.

    Use as a context manager (or :meth:`start`/:meth:`stop`).  All knobs are plain attributes
    that tests may change while the server runs:

    * ``faults``: request number (1-based, counted since start) -> status (500/502/503...)
    * ``secondary_limit_on``: request number -> ``Retry-After`` seconds (403, or
      ``secondary_limit_status``)
    * ``forbidden_paths``: regexes (or regex -> ``x-accepted-github-permissions`` value)
      answered with 403 "Resource not accessible by integration"
    * ``malformed_on``: regexes answered 200 with a truncated JSON body
    * ``delay``: seconds slept before answering each request
    * ``clock``: epoch-seconds function used for ``x-ratelimit-reset``
    """

    def __init__(
        self,
        org: FakeOrg,
        token: str = "test-token",
        per_page_max: int = 100,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        rate_limit: int = 5000,
        clock: Callable[[], float] = time.time,
        faults: Mapping[int, int] | None = None,
        secondary_limit_on: Mapping[int, int] | None = None,
        secondary_limit_status: int = 403,
        primary_limit_status: int = 403,
        forbidden_paths: Iterable[str] | Mapping[str, str] | None = None,
        malformed_on: Iterable[str] | None = None,
        delay: float = 0.0,
        link_by_repo_id: bool = False,
        token_user: FakeUser | None = None,
        access: AccessState | None = None,
        graphql: bool = True,
    ) -> None:
        self.org = org
        # GraphQL at /graphql; False answers it 404 (a proxy that lets only REST through).
        self.graphql = graphql
        # Replaces the whole GraphQL answer, for tests of hostile or broken answers.
        self.graphql_answer: Any = None
        # What GitHub's GraphQL rate limit would have charged the queries answered so far.
        self.graphql_points = 0
        self.access = access if access is not None else AccessState()
        self.token = token
        self.per_page_max = per_page_max
        self.host = host
        self.port = port
        self.clock = clock
        self.faults: dict[int, int] = dict(faults or {})
        self.secondary_limit_on: dict[int, int] = dict(secondary_limit_on or {})
        self.secondary_limit_status = secondary_limit_status
        self.primary_limit_status = primary_limit_status
        self.forbidden_paths: dict[str, str | None] = self._forbidden(forbidden_paths)
        self.malformed_on: set[str] = set(malformed_on or ())
        self.delay = delay
        self.link_by_repo_id = link_by_repo_id
        self.token_user = token_user or FakeUser("pipeledger-reader", 5_550_001)
        self.rate_limit = rate_limit
        self._remaining = rate_limit
        self._reset = int(clock()) + 3600
        self._path_faults: list[_PathFault] = []
        self._log: list[RequestRecord] = []
        self._number = 0
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._routes = self._build_routes()

    @staticmethod
    def _forbidden(
        paths: Iterable[str] | Mapping[str, str] | None,
    ) -> dict[str, str | None]:
        if paths is None:
            return {}
        if isinstance(paths, Mapping):
            return {str(k): str(v) for k, v in paths.items()}
        return {str(p): None for p in paths}

    # ---- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeGitHubServer:
        """Bind and serve in a daemon thread."""
        httpd = _HTTPServer((self.host, self.port), _Handler)
        httpd.fake = self
        self._httpd = httpd
        self.port = int(httpd.server_address[1])
        self._thread = threading.Thread(
            target=httpd.serve_forever, args=(0.05,), name="fake-github", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeGitHubServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """API root, e.g. ``http://127.0.0.1:PORT`` (no trailing slash)."""
        return f"http://{self.host}:{self.port}"

    # ---- knobs -----------------------------------------------------------------------------

    def set_rate_limit(
        self, remaining: int | None = None, reset: int | None = None, limit: int | None = None
    ) -> None:
        """Set the primary limit state (``reset`` in epoch seconds)."""
        with self._lock:
            if limit is not None:
                self.rate_limit = limit
            if remaining is not None:
                self._remaining = remaining
            if reset is not None:
                self._reset = reset

    @property
    def rate_remaining(self) -> int:
        """Requests left in the current window."""
        with self._lock:
            return self._remaining

    @property
    def rate_reset(self) -> int:
        """Epoch second the window resets."""
        with self._lock:
            return self._reset

    def fail_path(self, pattern: str, times: int = 1, status: int = 500) -> None:
        """The next ``times`` requests matching ``pattern`` fail with ``status``."""
        with self._lock:
            self._path_faults.append(_PathFault(pattern, times, status))

    # ---- log -------------------------------------------------------------------------------

    @property
    def requests(self) -> list[RequestRecord]:
        """Copy of the request log (method, path_with_query, status, had_if_none_match)."""
        with self._lock:
            return list(self._log)

    @property
    def request_number(self) -> int:
        """How many requests arrived since start (not reset by :meth:`reset_log`)."""
        with self._lock:
            return self._number

    def count(self, path_regex: str | None = None, status: int | None = None) -> int:
        """Logged requests whose path (or path+query) matches and whose status equals."""
        return sum(
            1
            for rec in self.requests
            if (status is None or rec.status == status)
            and (path_regex is None or _matches(path_regex, rec.path.split("?")[0], rec.path))
        )

    def stats(self) -> dict[str, Any]:
        """Totals of the request log: requests, how many were conditional (If-None-Match) and
        how many answered 304, counts by status and by endpoint (route handler name), and the
        CPU seconds this process has used (a benchmark's server side)."""
        records = self.requests
        by_status: dict[str, int] = {}
        by_endpoint: dict[str, int] = {}
        for rec in records:
            by_status[str(rec.status)] = by_status.get(str(rec.status), 0) + 1
            endpoint = self.endpoint_of(rec.path)
            by_endpoint[endpoint] = by_endpoint.get(endpoint, 0) + 1
        return {
            "requests": len(records),
            "conditional": sum(1 for rec in records if rec.had_if_none_match),
            "not_modified": by_status.get("304", 0),
            "graphql_points": self.graphql_points,
            "by_status": by_status,
            "by_endpoint": by_endpoint,
            "cpu_seconds": time.process_time(),
        }

    def endpoint_of(self, target: str) -> str:
        """The route a request went to (``runs``, ``statuses``, ...), or ``other``."""
        path = self._alias(unquote(urlsplit(target).path))
        if path == "/graphql":
            return "graphql"
        for pattern, handler in self._routes:
            if pattern.match(path):
                return handler.__name__.lstrip("_")
        return "other"

    def reset_log(self) -> None:
        """Forget logged requests (request numbering continues)."""
        with self._lock:
            self._log.clear()

    # ---- request pipeline ------------------------------------------------------------------

    def handle(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes = b""
    ) -> Response:
        """Answer one request (called from the HTTP handler threads)."""
        if method == "GET" and urlsplit(target).path == STATS_PATH:
            return Response(200, dumps(self.stats()).encode(), counts=False)
        with self._lock:
            self._number += 1
            number = self._number
        if self.delay:
            time.sleep(self.delay)
        inm = headers.get("If-None-Match")
        response = self._respond(number, method, target, headers, body)
        with self._lock:
            if response.counts and response.status != 304:
                self._remaining = max(0, self._remaining - 1)
            response.headers.extend(self._rate_headers())
            self._log.append(RequestRecord(method, target, response.status, inm is not None))
        return response

    def _respond(
        self, number: int, method: str, target: str, headers: Mapping[str, str], body: bytes
    ) -> Response:
        path = unquote(urlsplit(target).path)
        early = (
            self._check_auth(headers)
            or self._injected(number, path, target)
            or self._primary_limit(path)
            or self._check_permission(path, target)
        )
        if early is not None:
            return early
        if any(_matches(p, path, target) for p in self.malformed_on):
            return Response(200, b'{"workflow_runs": ')
        if (method, path) == ("POST", "/graphql"):
            return self._graphql(body)
        try:
            with self.org.lock:
                response = self._route(method, path, target)
        except ApiError as err:
            return Response(err.status, error_body(err.status, err.message, err.doc, **err.extra))
        return self._conditional(response, headers)

    def _graphql(self, body: bytes) -> Response:
        if not self.graphql:
            return Response(404, error_body(404, "Not Found"))
        try:
            document = json.loads(body)
        except ValueError:
            return Response(400, error_body(400, "Problems parsing JSON"))
        with self.org.lock:
            answer = execute(self.org, document)
            if "data" in answer:  # a query GitHub ran, so one it charged for
                variables = document.get("variables")
                self.graphql_points += query_cost(
                    schema(), document["query"], variables if isinstance(variables, dict) else None
                )
        if self.graphql_answer is not None:
            answer = self.graphql_answer
        return Response(200, dumps(answer).encode())

    def _check_auth(self, headers: Mapping[str, str]) -> Response | None:
        auth = headers.get("Authorization")
        if auth is None:
            return Response(401, error_body(401, "Requires authentication"), counts=False)
        scheme, _, value = auth.partition(" ")
        if scheme.lower() not in ("bearer", "token") or value.strip() != self.token:
            return Response(401, error_body(401, "Bad credentials"), counts=False)
        return None

    def _injected(self, number: int, path: str, target: str) -> Response | None:
        retry_after = self.secondary_limit_on.get(number)
        if retry_after is not None:
            message = (
                "You have exceeded a secondary rate limit. Please wait a few minutes before "
                "you try again. If you reach out to GitHub Support for help, please include "
                f"the request ID {uuid.uuid4().hex[:16].upper()}."
            )
            return Response(
                self.secondary_limit_status,
                error_body(self.secondary_limit_status, message, SECONDARY_DOCS),
                headers=[("Retry-After", str(retry_after))],
                counts=False,
            )
        status = self.faults.get(number) or self._path_fault(path, target)
        return self._fault(status) if status else None

    def _path_fault(self, path: str, target: str) -> int | None:
        with self._lock:
            for fault in self._path_faults:
                if fault.remaining > 0 and _matches(fault.pattern, path, target):
                    fault.remaining -= 1
                    return fault.status
        return None

    @staticmethod
    def _fault(status: int) -> Response:
        if status == 502:
            return Response(
                502, UNICORN.encode(), content_type="text/html; charset=utf-8", counts=False
            )
        message = FAULT_MESSAGES.get(status, "Server Error")
        return Response(status, error_body(status, message), counts=False)

    def _primary_limit(self, path: str) -> Response | None:
        if path == "/rate_limit":
            return None
        with self._lock:
            now = self.clock()
            if now >= self._reset:
                self._remaining = self.rate_limit
                self._reset = int(now) + 3600
            if self._remaining > 0:
                return None
        message = f"API rate limit exceeded for user ID {self.token_user.id}."
        status = self.primary_limit_status
        return Response(status, error_body(status, message, RATE_DOCS), counts=False)

    def _check_permission(self, path: str, target: str) -> Response | None:
        for pattern, permission in self.forbidden_paths.items():
            if _matches(pattern, path, target):
                body = error_body(403, "Resource not accessible by integration", DOCS)
                header = ("x-accepted-github-permissions", permission or _permission_for(path))
                return Response(403, body, headers=[header])
        return None

    def _conditional(self, response: Response, headers: Mapping[str, str]) -> Response:
        if response.status != 200:
            return response
        etag = f'W/"{hashlib.sha256(response.body).hexdigest()}"'
        response.headers.append(("ETag", etag))
        inm = headers.get("If-None-Match")
        if inm and _etag_matches(inm, etag):
            return Response(304, b"", headers=[("ETag", etag)], counts=False)
        return response

    def _rate_headers(self) -> list[tuple[str, str]]:
        return [
            ("x-ratelimit-limit", str(self.rate_limit)),
            ("x-ratelimit-remaining", str(self._remaining)),
            ("x-ratelimit-reset", str(self._reset)),
            ("x-ratelimit-used", str(self.rate_limit - self._remaining)),
            ("x-ratelimit-resource", "core"),
        ]

    # ---- routing ---------------------------------------------------------------------------

    def _build_routes(self) -> list[tuple[re.Pattern[str], Callable[..., Response]]]:
        repo = r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"
        table: list[tuple[str, Callable[..., Response]]] = [
            (r"/orgs/(?P<org>[^/]+)", self._org),
            (r"/orgs/(?P<org>[^/]+)/repos", self._org_repos),
            (
                r"/orgs/(?P<org>[^/]+)/teams/(?P<slug>[^/]+)/memberships/(?P<user>[^/]+)",
                self._team_membership,
            ),
            (repo, self._repo),
            (repo + r"/actions/runs", self._runs),
            (repo + r"/actions/runs/(?P<run_id>\d+)", self._run),
            (repo + r"/actions/runs/(?P<run_id>\d+)/attempts/(?P<attempt>\d+)", self._run),
            (repo + r"/actions/runs/(?P<run_id>\d+)/approvals", self._approvals),
            (repo + r"/deployments", self._deployments),
            (repo + r"/deployments/(?P<dep_id>\d+)", self._deployment),
            (repo + r"/deployments/(?P<dep_id>\d+)/statuses", self._statuses),
            (repo + r"/commits/(?P<sha>[^/]+)/pulls", self._commit_pulls),
            (repo + r"/pulls/(?P<number>\d+)", self._pull),
            (repo + r"/pulls/(?P<number>\d+)/reviews", self._reviews),
            (repo + r"/tags", self._tags),
            (r"/rate_limit", self._rate_limit),
            (r"/user", self._user),
            *AccessRoutes(self).table(),
        ]
        return [(re.compile(f"^{pattern}$"), handler) for pattern, handler in table]

    def _route(self, method: str, path: str, target: str) -> Response:
        path = self._alias(path)
        query: Query = dict(parse_qsl(urlsplit(target).query, keep_blank_values=True))
        if method == "GET":
            for pattern, handler in self._routes:
                match = pattern.match(path)
                if match:
                    return handler(match, query, path)
        raise ApiError(404, "Not Found")

    def _alias(self, path: str) -> str:
        """``/repositories/{id}/...`` and ``/organizations/{id}/...`` (GitHub's Link form)."""
        match = re.match(r"^/repositories/(\d+)(/.*)?$", path)
        if match:
            for repo in self.org.repos.values():
                if repo.id == int(match.group(1)):
                    return f"/repos/{repo.owner}/{repo.name}{match.group(2) or ''}"
        match = re.match(r"^/organizations/(\d+)(/.*)?$", path)
        if match and int(match.group(1)) == self.org.id:
            return f"/orgs/{self.org.login}{match.group(2) or ''}"
        return path

    def _repo_of(self, match: re.Match[str]) -> FakeRepo:
        if match.group("owner").lower() != self.org.login.lower():
            raise ApiError(404, "Not Found")
        repo = self.org.find_repo(match.group("repo"))
        if repo is None:
            raise ApiError(404, "Not Found")
        return repo

    def _check_org(self, login: str) -> None:
        if login.lower() != self.org.login.lower():
            raise ApiError(404, "Not Found")

    # ---- pagination ------------------------------------------------------------------------

    def _page(
        self, query: Query, path: str, total: int, cap: int | None = None
    ) -> tuple[int, int, list[tuple[str, str]]]:
        """(start, end, headers) for ``total`` items; ``cap`` limits reachable items."""
        per_page = min(_int_param(query, "per_page", 30), self.per_page_max)
        page = _int_param(query, "page", 1)
        reachable = min(total, cap) if cap is not None else total
        last = max(1, math.ceil(reachable / per_page))
        start = (page - 1) * per_page
        end = min(start + per_page, reachable)
        link = self._link(query, path, page, last)
        return start, max(start, end), [("Link", link)] if link else []

    def _link(self, query: Query, path: str, page: int, last: int) -> str:
        rels: list[tuple[str, int]] = []
        if page > 1:
            rels.append(("prev", page - 1))
        if page < last:
            rels += [("next", page + 1), ("last", last)]
        if page > 1:
            rels.append(("first", 1))
        link_path = self._link_path(path)
        parts = []
        for rel, number in rels:
            params = {**query, "page": str(number)}
            url = f"{self.base_url}{link_path}?{urlencode(params, quote_via=quote)}"
            parts.append(f'<{url}>; rel="{rel}"')
        return ", ".join(parts)

    def _link_path(self, path: str) -> str:
        if not self.link_by_repo_id:
            return quote(path)
        match = re.match(r"^/repos/([^/]+)/([^/]+)(/.*)?$", path)
        if match:
            repo = self.org.find_repo(match.group(2))
            if repo is not None:
                return f"/repositories/{repo.id}{quote(match.group(3) or '')}"
        match = re.match(r"^/orgs/[^/]+(/.*)$", path)
        if match:
            return f"/organizations/{self.org.id}{quote(match.group(1))}"
        return quote(path)

    def _fragment(self, obj: Cached, key: tuple[Any, ...], render: Callable[[], Any]) -> str:
        """Rendered JSON text of ``obj``, cached on the object under ``key``."""
        text: str = obj.cached(key, lambda: dumps(render()))
        return text

    def _json(self, text: str, headers: list[tuple[str, str]] | None = None) -> Response:
        return Response(200, text.encode(), headers=list(headers or []))

    def _array(self, fragments: Sequence[str], headers: list[tuple[str, str]]) -> Response:
        return self._json("[" + ",".join(fragments) + "]", headers)

    # ---- handlers --------------------------------------------------------------------------

    def _org_repos(self, match: re.Match[str], query: Query, path: str) -> Response:
        self._check_org(match.group("org"))
        repos = _filter_repos(list(self.org.repos.values()), query)
        start, end, headers = self._page(query, path, len(repos))
        base = self.base_url
        return self._array(
            [
                self._fragment(r, ("json-min", base), partial(render_repo_minimal, r, base))
                for r in repos[start:end]
            ],
            headers,
        )

    def _org(self, match: re.Match[str], query: Query, path: str) -> Response:
        self._check_org(match.group("org"))
        return self._json(dumps(render_org_full(self.org, self.base_url)))

    def _repo(self, match: re.Match[str], query: Query, path: str) -> Response:
        repo = self._repo_of(match)
        base = self.base_url
        return self._json(
            self._fragment(repo, ("json-full", base), partial(render_repo_full, repo, base))
        )

    def _runs(self, match: re.Match[str], query: Query, path: str) -> Response:
        repo = self._repo_of(match)
        created = _created_or_422(query.get("created"))
        runs = [r for r in repo.sorted_runs() if _run_matches(r, query, created)]
        filtered = any(name in query for name in RUN_FILTERS)
        start, end, headers = self._page(query, path, len(runs), SEARCH_CAP if filtered else None)
        fragments = [self._run_json(run, repo) for run in runs[start:end]]
        body = f'{{"total_count":{len(runs)},"workflow_runs":[{",".join(fragments)}]}}'
        return self._json(body, headers)

    def _run_json(
        self, run: FakeRun, repo: FakeRepo, attempt: int | None = None, detail: bool = False
    ) -> str:
        base = self.base_url
        key = ("json", base, attempt, detail)
        render = partial(render_run, run, repo, base, attempt=attempt, detail=detail)
        return self._fragment(run, key, render)

    def _find_run(self, match: re.Match[str]) -> tuple[FakeRepo, FakeRun]:
        repo = self._repo_of(match)
        run = repo.runs.get(int(match.group("run_id")))
        if run is None:
            raise ApiError(404, "Not Found")
        return repo, run

    def _run(self, match: re.Match[str], query: Query, path: str) -> Response:
        repo, run = self._find_run(match)
        attempt_text = match.groupdict().get("attempt")
        attempt = int(attempt_text) if attempt_text else None
        if attempt is not None and not 1 <= attempt <= run.run_attempt:
            raise ApiError(404, "Not Found")
        return self._json(self._run_json(run, repo, attempt, detail=True))

    def _approvals(self, match: re.Match[str], query: Query, path: str) -> Response:
        repo, run = self._find_run(match)
        base = self.base_url
        approvals = repo.approvals.get(run.id, [])
        return self._array(
            [
                self._fragment(a, ("json", base), partial(render_approval, a, repo, base))
                for a in approvals
            ],
            [],
        )

    def _deployments(self, match: re.Match[str], query: Query, path: str) -> Response:
        repo = self._repo_of(match)
        wanted = {k: query[k] for k in ("sha", "ref", "task", "environment") if k in query}
        deployments = [
            d
            for d in repo.sorted_deployments()
            if all(getattr(d, k) == v for k, v in wanted.items())
        ]
        start, end, headers = self._page(query, path, len(deployments))
        return self._array(
            [self._deployment_json(d, repo) for d in deployments[start:end]], headers
        )

    def _deployment_json(self, deployment: FakeDeployment, repo: FakeRepo) -> str:
        base = self.base_url
        key = ("json", base, len(deployment.statuses))
        return self._fragment(deployment, key, partial(render_deployment, deployment, repo, base))

    def _find_deployment(self, match: re.Match[str]) -> tuple[FakeRepo, FakeDeployment]:
        repo = self._repo_of(match)
        deployment = repo.deployments.get(int(match.group("dep_id")))
        if deployment is None:
            raise ApiError(404, "Not Found")
        return repo, deployment

    def _deployment(self, match: re.Match[str], query: Query, path: str) -> Response:
        repo, deployment = self._find_deployment(match)
        return self._json(self._deployment_json(deployment, repo))

    def _statuses(self, match: re.Match[str], query: Query, path: str) -> Response:
        repo, deployment = self._find_deployment(match)
        statuses = sorted(deployment.statuses, key=lambda s: (s.created_at, s.id), reverse=True)
        start, end, headers = self._page(query, path, len(statuses))
        base = self.base_url
        return self._array(
            [
                self._fragment(
                    s,
                    ("json", base, deployment.id),
                    partial(render_status, s, deployment, repo, base),
                )
                for s in statuses[start:end]
            ],
            headers,
        )

    def _commit_pulls(self, match: re.Match[str], query: Query, path: str) -> Response:
        repo = self._repo_of(match)
        sha = match.group("sha")
        if sha not in repo.known_shas():
            raise ApiError(
                422,
                f"No commit found for SHA: {sha}",
                f"{DOCS}/commits/commits#list-pull-requests-associated-with-a-commit",
            )
        numbers = repo.commit_pulls.get(sha, [])
        pulls = [repo.pulls[n] for n in numbers if n in repo.pulls]
        start, end, headers = self._page(query, path, len(pulls))
        base = self.base_url
        return self._array(
            [
                self._fragment(p, ("json-simple", base), partial(render_pull_simple, p, repo, base))
                for p in pulls[start:end]
            ],
            headers,
        )

    def _find_pull(self, match: re.Match[str]) -> tuple[FakeRepo, FakePull]:
        repo = self._repo_of(match)
        pull = repo.pulls.get(int(match.group("number")))
        if pull is None:
            raise ApiError(404, "Not Found")
        return repo, pull

    def _pull(self, match: re.Match[str], query: Query, path: str) -> Response:
        repo, pull = self._find_pull(match)
        base = self.base_url
        return self._json(
            self._fragment(pull, ("json-full", base), partial(render_pull_full, pull, repo, base))
        )

    def _reviews(self, match: re.Match[str], query: Query, path: str) -> Response:
        repo, pull = self._find_pull(match)
        reviews = sorted(pull.reviews, key=lambda r: (r.submitted_at, r.id))
        start, end, headers = self._page(query, path, len(reviews))
        base = self.base_url
        return self._array(
            [
                self._fragment(
                    r, ("json", base, pull.number), partial(render_review, r, pull, repo, base)
                )
                for r in reviews[start:end]
            ],
            headers,
        )

    def _tags(self, match: re.Match[str], query: Query, path: str) -> Response:
        repo = self._repo_of(match)
        tags = repo.sorted_tags()
        start, end, headers = self._page(query, path, len(tags))
        base = self.base_url
        return self._array(
            [dumps(render_tag(name, sha, repo, base)) for name, sha in tags[start:end]], headers
        )

    def _team_membership(self, match: re.Match[str], query: Query, path: str) -> Response:
        self._check_org(match.group("org"))
        slug, login = match.group("slug"), match.group("user")
        members = self.org.teams.get(slug)
        if members is None or login not in members:
            raise ApiError(404, "Not Found")
        return self._json(dumps(render_team_membership(self.org, slug, login, self.base_url)))

    def _rate_limit(self, match: re.Match[str], query: Query, path: str) -> Response:
        with self._lock:
            payload = render_rate_limit(self.rate_limit, self._remaining, self._reset)
        response = self._json(dumps(payload))
        response.counts = False  # GitHub does not count /rate_limit
        return response

    def _user(self, match: re.Match[str], query: Query, path: str) -> Response:
        return self._json(dumps(render_private_user(self.token_user, self.base_url)))


def _etag_matches(header: str, etag: str) -> bool:
    wanted = etag.removeprefix("W/")
    for raw in header.split(","):
        candidate = raw.strip()
        if candidate == "*" or candidate.removeprefix("W/") == wanted:
            return True
    return False


def _created_or_422(expr: str | None) -> Callable[[datetime], bool] | None:
    if expr is None:
        return None
    try:
        return created_predicate(expr)
    except ValueError as exc:
        raise ApiError(
            422,
            "Validation Failed",
            DOCS,
            errors=[
                {
                    "resource": "WorkflowRun",
                    "field": "created",
                    "code": "invalid",
                    "message": str(exc),
                }
            ],
        ) from exc


def _filter_repos(repos: list[FakeRepo], query: Query) -> list[FakeRepo]:
    kind = query.get("type", "all")
    keep: dict[str, Callable[[FakeRepo], bool]] = {
        "public": lambda r: r.visibility == "public",
        "private": lambda r: r.visibility != "public",
        "forks": lambda r: False,
    }
    wanted = keep.get(kind, _any_repo)
    repos = [r for r in repos if wanted(r)]
    sort = query.get("sort", "created")
    default_direction = "asc" if sort == "full_name" else "desc"
    reverse = query.get("direction", default_direction) == "desc"
    if sort == "full_name":
        return sorted(repos, key=lambda r: r.name.lower(), reverse=reverse)
    return sorted(repos, key=lambda r: (r.created_at, r.id), reverse=reverse)


def _any_repo(repo: FakeRepo) -> bool:
    return True


# --------------------------------------------------------------------------------------------
# HTTP plumbing
# --------------------------------------------------------------------------------------------


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    fake: FakeGitHubServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; without this, Nagle's algorithm and delayed
    # ACKs stall every keep-alive response by ~40 ms.
    disable_nagle_algorithm = True
    server: _HTTPServer

    def version_string(self) -> str:
        """``Server: GitHub.com`` like the real API."""
        return "GitHub.com"

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_PATCH(self) -> None:
        self._serve("PATCH")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        response = self.server.fake.handle(method, self.path, _HeaderView(self.headers), body)
        self.send_response(response.status)
        if response.status != 304:
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
        for name, value in (*_COMMON_HEADERS, *response.headers):
            self.send_header(name, value)
        self.send_header("X-GitHub-Request-Id", uuid.uuid4().hex[:20].upper())
        self.end_headers()
        if response.status != 304 and response.body:
            self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr access log."""


_COMMON_HEADERS = (
    ("Cache-Control", "private, max-age=60, s-maxage=60"),
    ("Vary", "Accept, Authorization, Cookie, X-GitHub-OTP"),
    ("X-GitHub-Media-Type", "github.v3; format=json"),
    ("X-GitHub-Api-Version-Selected", "2022-11-28"),
)


class _HeaderView(Mapping[str, str]):
    """Case-insensitive read-only view of the request headers."""

    def __init__(self, message: Any) -> None:
        self._message = message

    def __getitem__(self, key: str) -> str:
        value = self._message.get(key)
        if value is None:
            raise KeyError(key)
        return str(value)

    def __iter__(self) -> Any:
        return iter(self._message.keys())

    def __len__(self) -> int:
        return len(self._message.keys())


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def _parse_generate(spec: str) -> dict[str, Any]:
    """``repos=20,runs=500,deploy=0.1,seed=1`` -> generate_org keyword arguments."""
    names = {
        "repos": "repos",
        "runs": "runs_per_repo",
        "deploy": "deploy_fraction",
        "seed": "seed",
        "org": "org",
    }
    kwargs: dict[str, Any] = {}
    for item in filter(None, spec.split(",")):
        key, _, value = item.partition("=")
        name = names[key.strip()]
        caster: Callable[[str], Any] = {"deploy_fraction": float, "org": str}.get(name, int)
        kwargs[name] = caster(value.strip())
    return kwargs


def _parse_faults(spec: str) -> dict[int, int]:
    return {int(k): int(v) for k, v in (item.split("=") for item in filter(None, spec.split(",")))}


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fakes.github_api", description="Serve a fake GitHub REST API."
    )
    parser.add_argument(
        "--generate",
        default="",
        help="repos=N,runs=N,deploy=F,seed=N[,org=NAME] (default: scenario org)",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file", type=Path, default=None)
    parser.add_argument("--token", default="test-token")
    parser.add_argument("--rate-limit", type=int, default=5000)
    parser.add_argument("--per-page-max", type=int, default=100)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--faults", default="", help="N=STATUS,... (request number -> status)")
    parser.add_argument("--link-by-repo-id", action="store_true")
    return parser


def _write_port(path: Path, port: int) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(f"{port}\n", encoding="utf-8")
    os.replace(tmp, path)


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until SIGTERM/SIGINT."""
    args = _build_parser().parse_args(argv)
    org = generate_org(**_parse_generate(args.generate)) if args.generate else scenario_org()
    server = FakeGitHubServer(
        org,
        token=args.token,
        per_page_max=args.per_page_max,
        host=args.host,
        port=args.port,
        rate_limit=args.rate_limit,
        faults=_parse_faults(args.faults),
        delay=args.delay,
        link_by_repo_id=args.link_by_repo_id,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    server.start()
    if args.port_file is not None:
        _write_port(args.port_file, server.port)
    print(f"fake GitHub API at {server.base_url} (org {org.login})", flush=True)
    while not stop.wait(0.1):
        pass
    server.stop()
    return 0


if __name__ == "__main__":
    # Run the module's importable twin: helpers import ``tests.fakes.github_api`` by name, and
    # its ApiError must be the class this server catches, not a second copy in ``__main__``.
    from tests.fakes import github_api  # noqa: PLW0406 - deliberately, see above

    sys.exit(github_api.main())
