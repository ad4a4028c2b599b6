"""An in-process GitHub REST API for client tests, served through ``responses``: pagination
with Link headers, the ``created`` filter and its 1,000-result cap, ETags and 304s, injected
failures, and a log of every request."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import responses

from pipeledger.events import parse_time

API = "https://api.github.com"
CAP = 1000


@dataclass
class Repo:
    runs: list[dict[str, Any]] = field(default_factory=list)
    deployments: list[dict[str, Any]] = field(default_factory=list)
    statuses: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    approvals: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    pulls: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    reviews: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    tags: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Logged:
    path: str
    query: dict[str, str]
    status: int
    conditional: bool


@dataclass
class Failure:
    path: str
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: str = '{"message": "Server Error"}'
    times: int = 1
    query: dict[str, str] = field(default_factory=dict)


class FakeHub:
    def __init__(self, base: str = API) -> None:
        self.base = base
        self.repos: dict[str, Repo] = {}
        self.orgs: dict[str, list[str]] = {}
        self.teams: dict[tuple[str, str], set[str]] = {}
        self.log: list[Logged] = []
        self.failures: list[Failure] = []
        self.rate_headers: dict[str, str] = {"x-ratelimit-remaining": "4999"}
        self.last_headers: dict[str, str] = {}

    def repo(self, name: str = "acme/web") -> Repo:
        return self.repos.setdefault(name, Repo())

    def install(self, mock: responses.RequestsMock) -> None:
        pattern = re.compile(re.escape(self.base) + r"/.*")
        mock.add_callback(responses.GET, pattern, callback=self._answer)
        # This hub speaks REST only: GraphQL answers 404 (as behind a proxy that lets only
        # REST through), so the adapter reads everything over REST after one request.
        mock.add(responses.POST, f"{self.base}/graphql", status=404, json={"message": "Not Found"})

    def fail(self, path: str, status: int, **kwargs: Any) -> None:
        self.failures.append(Failure(path, status, **kwargs))

    def requests_to(self, fragment: str) -> list[Logged]:
        return [entry for entry in self.log if fragment in entry.path]

    # -- dispatch -------------------------------------------------------------------------
    def _answer(self, request: Any) -> tuple[int, dict[str, str], str]:
        parts = urlsplit(request.url)
        path = parts.path[len(urlsplit(self.base).path) :]
        query = dict(parse_qsl(parts.query))
        etag_sent = request.headers.get("If-None-Match")
        self.last_headers = dict(request.headers)
        failure = self._failure(path, query)
        if failure is not None:
            self.log.append(Logged(path, query, failure.status, bool(etag_sent)))
            return failure.status, failure.headers, failure.body
        status, body, total = self._route(path, query)
        if status != 200:
            self.log.append(Logged(path, query, status, bool(etag_sent)))
            return status, dict(self.rate_headers), json.dumps(body)
        headers = dict(self.rate_headers)
        if isinstance(body, list) and "per_page" in query:
            body, link = self._paginate(body, path, query)
            if link:
                headers["Link"] = link
        if total is not None:
            body = {"total_count": total, "workflow_runs": body}
        text = json.dumps(body)
        etag = 'W/"' + hashlib.sha256((text + headers.get("Link", "")).encode()).hexdigest() + '"'
        headers["ETag"] = etag
        if etag_sent == etag:
            self.log.append(Logged(path, query, 304, True))
            return 304, headers, ""
        self.log.append(Logged(path, query, 200, bool(etag_sent)))
        return 200, headers, text

    def _failure(self, path: str, query: dict[str, str]) -> Failure | None:
        for failure in self.failures:
            wanted = failure.query.items() <= query.items()
            if failure.path in path and wanted and failure.times > 0:
                failure.times -= 1
                return failure
        return None

    def _route(self, path: str, query: dict[str, str]) -> tuple[int, Any, int | None]:
        if m := re.fullmatch(r"/orgs/([^/]+)/repos", path):
            names = self.orgs.get(m.group(1))
            if names is None:
                return 404, {"message": "Not Found"}, None
            return 200, [{"full_name": n, "archived": False} for n in names], None
        if m := re.fullmatch(r"/orgs/([^/]+)/teams/([^/]+)/members", path):
            team = self.teams.get((m.group(1), m.group(2)))
            if team is None:
                return 404, {"message": "Not Found"}, None
            return 200, [{"login": login, "type": "User"} for login in sorted(team)], None
        if m := re.fullmatch(r"/orgs/([^/]+)/teams/([^/]+)/memberships/([^/]+)", path):
            if m.group(3) in self.teams.get((m.group(1), m.group(2)), set()):
                return 200, {"url": "", "role": "member", "state": "active"}, None
            return 404, {"message": "Not Found"}, None
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)(/.*)", path)
        if not m or m.group(1) not in self.repos:
            return 404, {"message": "Not Found"}, None
        return self._repo_route(self.repos[m.group(1)], m.group(2), query)

    def _repo_route(
        self, repo: Repo, rest: str, query: dict[str, str]
    ) -> tuple[int, Any, int | None]:
        if rest == "/actions/runs":
            return self._runs(repo, query)
        if m := re.fullmatch(r"/actions/runs/(\d+)", rest):
            found = [r for r in repo.runs if r["id"] == int(m.group(1))]
            return (200, found[0], None) if found else (404, {"message": "Not Found"}, None)
        if m := re.fullmatch(r"/actions/runs/(\d+)/approvals", rest):
            return 200, repo.approvals.get(int(m.group(1)), []), None
        if rest == "/deployments":
            items = sorted(repo.deployments, key=lambda d: d["id"], reverse=True)
            for key in ("sha", "environment"):
                if key in query:
                    items = [d for d in items if d[key] == query[key]]
            return 200, items, None
        if m := re.fullmatch(r"/deployments/(\d+)/statuses", rest):
            items = sorted(repo.statuses.get(int(m.group(1)), []), key=lambda s: -s["id"])
            return 200, items, None
        if m := re.fullmatch(r"/commits/([0-9a-f]+)/pulls", rest):
            return 200, repo.pulls.get(m.group(1), []), None
        if m := re.fullmatch(r"/pulls/(\d+)/reviews", rest):
            return 200, repo.reviews.get(int(m.group(1)), []), None
        if rest == "/tags":
            return 200, list(repo.tags), None
        return 404, {"message": "Not Found"}, None

    def _runs(self, repo: Repo, query: dict[str, str]) -> tuple[int, Any, int | None]:
        items = sorted(repo.runs, key=lambda r: (r["created_at"], r["id"]), reverse=True)
        created = query.get("created")
        if created:
            low, high = _created_bounds(created)
            items = [r for r in items if low <= parse_time(r["created_at"]) <= high]
            return 200, items[:CAP], len(items)
        return 200, items, len(items)

    def _paginate(
        self, items: list[Any], path: str, query: dict[str, str]
    ) -> tuple[list[Any], str]:
        per_page = int(query.get("per_page", "30"))
        page = int(query.get("page", "1"))
        chunk = items[(page - 1) * per_page : page * per_page]
        link = ""
        if page * per_page < len(items):
            following = urlencode(sorted((query | {"page": str(page + 1)}).items()))
            link = f'<{self.base}{path}?{following}>; rel="next"'
        return chunk, link


def _created_bounds(text: str) -> tuple[datetime, datetime]:
    if text.startswith(">="):
        return parse_time(text[2:]), datetime.max.replace(tzinfo=parse_time(text[2:]).tzinfo)
    low, _, high = text.partition("..")
    return parse_time(low), parse_time(high)
