"""A fake GitLab REST v4 API on 127.0.0.1 for end-to-end tests and benchmarks.

It serves a :class:`~tests.fakes.gitlab_data.FakeInstance` the way GitLab does: offset
pagination with ``X-Page``/``X-Per-Page``/``X-Next-Page``/``X-Total`` (``X-Total`` and
``rel="last"`` left out above 10,000 items) and ``Link``; keyset pagination (``cursor``) for
audit events; ``RateLimit-*`` headers and 429 with ``Retry-After``; injected 5xx; token
auth by ``PRIVATE-TOKEN`` or ``Authorization: Bearer`` and ``JOB-TOKEN`` for the endpoints a
job token may use; 403 for audit events on a "free tier"; and a log of every request.

Run it alone with ``python -m tests.fakes.gitlab_api --port-file F``: it writes the port to F
and serves a generated group until killed. Standard library only.
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, parse_qsl, unquote, urlencode, urlsplit

from tests.fakes import gitlab_data as data
from tests.fakes.gitlab_data import FakeInstance, FakeProject

JSON = dict[str, Any]
API_PREFIX = "/api/v4"
DEFAULT_TOKEN = "glpat-fake-0123456789abcdef"


class HttpError(Exception):
    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


@dataclass
class Listing:
    """A list answer: model objects, how to render one, and the keyset key if allowed."""

    items: list[Any]
    render: Callable[[Any], JSON]
    keyset: Callable[[Any], int] | None = None


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
    free_tier: bool = False
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

    def counts(self) -> Counter[str]:
        with self.lock:
            return Counter(entry.route for entry in self.log)

    @property
    def requests(self) -> int:
        with self.lock:
            return len(self.log)

    # ---- request handling -----------------------------------------------------------------

    def answer(
        self, method: str, raw_path: str, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(raw_path)
        path = parts.path[len(API_PREFIX) :] if parts.path.startswith(API_PREFIX) else parts.path
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        route, handler, args = _route(path)
        if self.delay:
            time.sleep(self.delay)
        rate = self._rate_headers()
        try:
            if int(rate["RateLimit-Observed"]) > self.rate_limit:
                wait = max(1, int(rate["RateLimit-Reset"]) - int(time.time()))
                raise HttpError(429, "Retry later\n", {"Retry-After": str(wait)})
            status, extra, body = self._dispatch(method, route, handler, args, path, query, headers)
        except HttpError as error:
            status, extra, body = error.status, error.headers, error.body
        with self.lock:
            self.log.append(Logged(route, path, query, status))
            if self.recorded is not None and status == 200:
                self.recorded[replay_key(path, parts.query)] = body
        return status, {**rate, **extra}, _encode(body)

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
        if headers.get("private-token") == self.token:
            return
        if headers.get("authorization") == f"Bearer {self.token}":
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


# ---- routes -------------------------------------------------------------------------------


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _window(items: list[Any], query: dict[str, str], attr: str, prefix: str) -> list[Any]:
    if query.get(f"{prefix}_after"):
        after = _parse(query[f"{prefix}_after"])
        items = [i for i in items if getattr(i, attr) >= after]
    if query.get(f"{prefix}_before"):
        before = _parse(query[f"{prefix}_before"])
        items = [i for i in items if getattr(i, attr) <= before]
    return items


def _order(
    items: list[Any], query: dict[str, str], default_sort: str, keys: dict[str, str]
) -> list[Any]:
    attr = keys.get(query.get("order_by", "id"), "id")
    return sorted(
        items,
        key=lambda i: (getattr(i, attr), i.id),
        reverse=query.get("sort", default_sort) == "desc",
    )


def _project(fake: FakeGitLab, key: str) -> FakeProject:
    project = fake.instance.project(unquote(key))
    if project is None:
        raise HttpError(404, {"message": "404 Project Not Found"})
    return project


def _group(fake: FakeGitLab, key: str) -> data.FakeGroup:
    group = fake.instance.group(unquote(key))
    if group is None:
        raise HttpError(404, {"message": "404 Group Not Found"})
    return group


def get_project(fake: FakeGitLab, key: str, query: dict[str, str]) -> JSON:
    return data.render_project(_project(fake, key), full=True)


def list_pipelines(fake: FakeGitLab, key: str, query: dict[str, str]) -> Listing:
    project = _project(fake, key)
    items = _window(list(project.pipelines), query, "updated_at", "updated")
    for name in ("status", "ref"):
        if query.get(name):
            items = [p for p in items if getattr(p, name) == query[name]]
    items = _order(
        items,
        query,
        "desc",
        {"id": "id", "updated_at": "updated_at", "status": "status", "ref": "ref"},
    )
    return Listing(items, lambda p: data.render_pipeline(p, project, detail=False))


def get_pipeline(fake: FakeGitLab, key: str, pipeline_id: str, query: dict[str, str]) -> JSON:
    project = _project(fake, key)
    pipeline = next((p for p in project.pipelines if p.id == int(pipeline_id)), None)
    if pipeline is None:
        raise HttpError(404, {"message": "404 Not found"})
    return data.render_pipeline(pipeline, project, detail=True)


def list_deployments(fake: FakeGitLab, key: str, query: dict[str, str]) -> Listing:
    project = _project(fake, key)
    if (query.get("updated_after") or query.get("updated_before")) and query.get(
        "order_by"
    ) != "updated_at":
        raise HttpError(400, {"message": "`updated_at` filter requires `updated_at` sort"})
    items = _window(list(project.deployments), query, "updated_at", "updated")
    for name in ("environment", "status"):
        if query.get(name):
            items = [d for d in items if getattr(d, name) == query[name]]
    items = _order(
        items,
        query,
        "asc",
        {"id": "id", "iid": "iid", "created_at": "created_at", "updated_at": "updated_at"},
    )
    return Listing(
        items, lambda d: data.render_deployment(d, project, detail=False, approvals=False)
    )


def get_deployment(fake: FakeGitLab, key: str, deployment_id: str, query: dict[str, str]) -> JSON:
    project = _project(fake, key)
    deployment = next((d for d in project.deployments if d.id == int(deployment_id)), None)
    if deployment is None:
        raise HttpError(404, {"message": "404 Not found"})
    return data.render_deployment(deployment, project, detail=True, approvals=not fake.free_tier)


def commit_merge_requests(fake: FakeGitLab, key: str, sha: str, query: dict[str, str]) -> Listing:
    project = _project(fake, key)
    if sha not in project.known_shas():
        raise HttpError(404, {"message": "404 Commit Not Found"})
    items = [m for m in project.merge_requests if m.merge_commit_sha == sha]
    return Listing(items, lambda m: data.render_merge_request(m, project))


def merge_request_approvals(fake: FakeGitLab, key: str, iid: str, query: dict[str, str]) -> JSON:
    project = _project(fake, key)
    mr = next((m for m in project.merge_requests if m.iid == int(iid)), None)
    if mr is None:
        raise HttpError(404, {"message": "404 Not found"})
    return data.render_mr_approvals(mr)


def project_audit_events(fake: FakeGitLab, key: str, query: dict[str, str]) -> Listing:
    project = _project(fake, key)
    return _audit(fake, project.audit_events, query, "Project", project.id, project.full_path)


def group_audit_events(fake: FakeGitLab, key: str, query: dict[str, str]) -> Listing:
    group = _group(fake, key)
    return _audit(fake, group.audit_events, query, "Group", group.id, group.full_path)


def _audit(
    fake: FakeGitLab,
    events: list[data.FakeAuditEvent],
    query: dict[str, str],
    entity_type: str,
    entity_id: int,
    entity_path: str,
) -> Listing:
    if fake.free_tier:
        raise HttpError(403, {"message": "403 Forbidden"})
    items = _order(
        _window(list(events), query, "created_at", "created"), query, "desc", {"id": "id"}
    )
    return Listing(
        items,
        lambda e: data.render_audit_event(e, entity_type, entity_id, entity_path),
        keyset=lambda e: e.id,
    )


def get_group(fake: FakeGitLab, key: str, query: dict[str, str]) -> JSON:
    return data.render_group(_group(fake, key))


def group_projects(fake: FakeGitLab, key: str, query: dict[str, str]) -> Listing:
    group = _group(fake, key)
    scope = {group.id}
    if query.get("include_subgroups") == "true":
        scope |= {g.id for g in fake.instance.descendants(group)}
    items = [p for p in fake.instance.projects if p.group.id in scope]
    items = _order(items, query, "desc", {"id": "id", "created_at": "id", "path": "path"})
    return Listing(items, data.render_project)


def descendant_groups(fake: FakeGitLab, key: str, query: dict[str, str]) -> Listing:
    return Listing(fake.instance.descendants(_group(fake, key)), data.render_group)


def group_members_all(fake: FakeGitLab, key: str, query: dict[str, str]) -> Listing:
    group = _group(fake, key)
    members: dict[int, tuple[data.FakeUser, int]] = {}
    for each in [group, *fake.instance.ancestors(group)]:
        for user, level in each.members:
            members.setdefault(user.id, (user, level))
    return Listing(list(members.values()), lambda pair: data.render_member(*pair))


def get_user(fake: FakeGitLab, ident: str, query: dict[str, str]) -> JSON:
    user = fake.instance.user(int(ident))
    if user is None:
        raise HttpError(404, {"message": "404 User Not Found"})
    return data.render_user_full(user)


ROUTES: tuple[tuple[str, re.Pattern[str], Callable[..., Any]], ...] = tuple(
    (name, re.compile(pattern), handler)
    for name, pattern, handler in (
        ("projects.get", r"^/projects/([^/]+)$", get_project),
        ("projects.pipelines", r"^/projects/([^/]+)/pipelines$", list_pipelines),
        ("projects.pipeline", r"^/projects/([^/]+)/pipelines/(\d+)$", get_pipeline),
        ("projects.deployments", r"^/projects/([^/]+)/deployments$", list_deployments),
        ("projects.deployment", r"^/projects/([^/]+)/deployments/(\d+)$", get_deployment),
        (
            "projects.commit_merge_requests",
            r"^/projects/([^/]+)/repository/commits/([0-9a-f]+)/merge_requests$",
            commit_merge_requests,
        ),
        (
            "projects.merge_request_approvals",
            r"^/projects/([^/]+)/merge_requests/(\d+)/approvals$",
            merge_request_approvals,
        ),
        ("projects.audit_events", r"^/projects/([^/]+)/audit_events$", project_audit_events),
        ("groups.get", r"^/groups/([^/]+)$", get_group),
        ("groups.projects", r"^/groups/([^/]+)/projects$", group_projects),
        ("groups.descendant_groups", r"^/groups/([^/]+)/descendant_groups$", descendant_groups),
        ("groups.audit_events", r"^/groups/([^/]+)/audit_events$", group_audit_events),
        ("groups.members_all", r"^/groups/([^/]+)/members/all$", group_members_all),
        ("users.get", r"^/users/(\d+)$", get_user),
    )
)
# What GitLab lets CI_JOB_TOKEN reach among these (its deployments API).
JOB_TOKEN_ROUTES = frozenset({"projects.deployments", "projects.deployment"})


def _route(path: str) -> tuple[str, Callable[..., Any] | None, tuple[str, ...]]:
    for name, pattern, handler in ROUTES:
        match = pattern.match(path)
        if match:
            return name, handler, match.groups()
    return "unknown", None, ()


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
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, extra, body = fake.answer("GET", self.path, headers)
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


def iter_log(fake: FakeGitLab) -> Iterator[Logged]:
    with fake.lock:
        yield from list(fake.log)


if __name__ == "__main__":
    raise SystemExit(main())
