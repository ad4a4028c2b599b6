"""Route handlers of the fake GitHub API for collaborators, members, teams, environments,
branches, branch protection, branch rules and the audit log, over :class:`AccessState` (see
:mod:`tests.fakes.github_access`). Standard library only."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode

from tests.fakes.github_access import (
    AccessState,
    protected_branches,
    render_branch_policy,
    render_branch_protection,
    render_collaborator,
    render_environment,
    render_rule,
    render_short_branch,
    render_team,
    render_team_repo,
)
from tests.fakes.github_data import JSON, render_user

if TYPE_CHECKING:
    import re

    from tests.fakes.github_api import FakeGitHubServer, Response


Handler = Callable[["re.Match[str]", dict[str, str], str], "Response"]


class AccessRoutes:
    """Route handlers over the server's org and access state."""

    def __init__(self, server: FakeGitHubServer) -> None:
        self.server = server

    def table(self) -> list[tuple[str, Handler]]:
        repo = r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"
        org = r"/orgs/(?P<org>[^/]+)"
        return [
            (repo + r"/collaborators", self.collaborators),
            (repo + r"/environments", self.environments),
            (repo + r"/environments/(?P<env>[^/]+)/deployment-branch-policies", self.policies),
            (repo + r"/branches", self.branches),
            (repo + r"/branches/(?P<branch>[^/]+)/protection", self.protection),
            (repo + r"/rules/branches/(?P<branch>[^/]+)", self.rules),
            (org + r"/members", self.members),
            (org + r"/teams", self.teams),
            (org + r"/teams/(?P<slug>[^/]+)/members", self.team_members),
            (org + r"/teams/(?P<slug>[^/]+)/repos", self.team_repos),
            (org + r"/audit-log", self.audit_log),
        ]

    @property
    def access(self) -> AccessState:
        return self.server.access

    def _list(self, items: list[JSON], query: dict[str, str], path: str) -> Response:
        start, end, headers = self.server._page(query, path, len(items))
        return self.server._array(
            [json.dumps(i, separators=(",", ":")) for i in items[start:end]], headers
        )

    def collaborators(self, match: re.Match[str], query: dict[str, str], path: str) -> Response:
        repo = self.server._repo_of(match)
        base = self.server.base_url
        people = sorted(self.access.repo(repo.name).collaborators.items())
        items = [render_collaborator(self.access, who, role, base) for who, role in people]
        return self._list(items, query, path)

    def environments(self, match: re.Match[str], query: dict[str, str], path: str) -> Response:
        repo = self.server._repo_of(match)
        org, base = self.server.org, self.server.base_url
        envs = sorted(self.access.repo(repo.name).environments.items())
        items = [render_environment(org, self.access, repo, n, e, base) for n, e in envs]
        start, end, headers = self.server._page(query, path, len(items))
        body = {"total_count": len(items), "environments": items[start:end]}
        return self.server._json(json.dumps(body, separators=(",", ":")), headers)

    def policies(self, match: re.Match[str], query: dict[str, str], path: str) -> Response:
        from tests.fakes.github_api import ApiError

        repo = self.server._repo_of(match)
        env = self.access.repo(repo.name).environments.get(match.group("env"))
        if env is None:
            raise ApiError(404, "Not Found")
        items = [
            render_branch_policy(repo, match.group("env"), i, p) for i, p in enumerate(env.patterns)
        ]
        start, end, headers = self.server._page(query, path, len(items))
        body = {"total_count": len(items), "branch_policies": items[start:end]}
        return self.server._json(json.dumps(body, separators=(",", ":")), headers)

    def branches(self, match: re.Match[str], query: dict[str, str], path: str) -> Response:
        """``protected=true``/``false`` filters, as GitHub's; the fake has no other branches
        than the default one."""
        repo = self.server._repo_of(match)
        guarded = protected_branches(self.access, repo)
        wanted = {"true": guarded, "false": [b for b in [repo.default_branch] if b not in guarded]}
        names = wanted.get(query.get("protected", ""), [repo.default_branch])
        base = self.server.base_url
        return self._list(
            [render_short_branch(self.access, repo, n, base) for n in names], query, path
        )

    def protection(self, match: re.Match[str], query: dict[str, str], path: str) -> Response:
        from tests.fakes.github_api import DOCS, ApiError

        repo = self.server._repo_of(match)
        protection = self.access.repo(repo.name).protection
        if match.group("branch") != repo.default_branch or protection is None:
            doc = f"{DOCS}/branches/branch-protection#get-branch-protection"
            raise ApiError(404, "Branch not protected", doc)
        body = render_branch_protection(self.access, repo, protection, self.server.base_url)
        return self.server._json(json.dumps(body, separators=(",", ":")))

    def rules(self, match: re.Match[str], query: dict[str, str], path: str) -> Response:
        repo = self.server._repo_of(match)
        rules = (
            self.access.repo(repo.name).rules
            if match.group("branch") == repo.default_branch
            else []
        )
        return self._list([render_rule(rule) for rule in rules], query, path)

    def members(self, match: re.Match[str], query: dict[str, str], path: str) -> Response:
        self.server._check_org(match.group("org"))
        role = query.get("role", "all")
        logins = sorted(who for who, r in self.access.members.items() if role in ("all", r))
        base = self.server.base_url
        return self._list([render_user(self.access.user(who), base) for who in logins], query, path)

    def teams(self, match: re.Match[str], query: dict[str, str], path: str) -> Response:
        self.server._check_org(match.group("org"))
        org, base = self.server.org, self.server.base_url
        return self._list([render_team(org, slug, base) for slug in sorted(org.teams)], query, path)

    def team_members(self, match: re.Match[str], query: dict[str, str], path: str) -> Response:
        from tests.fakes.github_api import ApiError

        self.server._check_org(match.group("org"))
        org, slug = self.server.org, match.group("slug")
        if slug not in org.teams:
            raise ApiError(404, "Not Found")
        leads = org.team_maintainers.get(slug, set())
        role = query.get("role", "all")
        wanted = {"all": org.teams[slug], "maintainer": org.teams[slug] & leads}
        logins = sorted(wanted.get(role, org.teams[slug] - leads))
        base = self.server.base_url
        return self._list([render_user(self.access.user(who), base) for who in logins], query, path)

    def team_repos(self, match: re.Match[str], query: dict[str, str], path: str) -> Response:
        from tests.fakes.github_api import ApiError

        self.server._check_org(match.group("org"))
        org, slug = self.server.org, match.group("slug")
        if slug not in org.teams:
            raise ApiError(404, "Not Found")
        base = self.server.base_url
        reach = sorted(self.access.team_repos.get(slug, {}).items())
        items = [
            render_team_repo(repo, role, base)
            for name, role in reach
            if (repo := org.find_repo(name)) is not None
        ]
        return self._list(items, query, path)

    def audit_log(self, match: re.Match[str], query: dict[str, str], path: str) -> Response:
        from tests.fakes.github_api import ApiError

        self.server._check_org(match.group("org"))
        status = self.access.audit_log_status
        if status is not None:
            message = "Not Found" if status == 404 else "Resource not accessible by integration"
            raise ApiError(status, message)
        entries = _audit_entries(self.access.audit_log, query)
        per_page = min(int(query.get("per_page", "30") or 30), self.server.per_page_max)
        start = _cursor_position(query.get("after")) if "after" in query else 0
        if "before" in query:  # the page that ends where the cursor points
            start = max(0, _cursor_position(query.get("before")) - per_page)
        chunk = entries[start : start + per_page]
        links = []
        if start + per_page < len(entries):
            links.append(self._audit_link(query, path, "after", start + per_page, "next"))
        if start > 0:
            links.append(self._audit_link(query, path, "before", start, "prev"))
        headers = [("Link", ", ".join(links))] if links else []
        return self.server._json(json.dumps(chunk, separators=(",", ":")), headers)

    def _audit_link(
        self, query: dict[str, str], path: str, name: str, position: int, rel: str
    ) -> str:
        """GitHub pages the audit log with opaque ``after``/``before`` cursors."""
        params = {k: v for k, v in query.items() if k not in ("after", "before")}
        params[name] = _cursor(position)
        url = f"{self.server.base_url}{quote(path)}?{urlencode(params, quote_via=quote)}"
        return f'<{url}>; rel="{rel}"'


def _audit_entries(entries: list[JSON], query: dict[str, str]) -> list[JSON]:
    from tests.fakes.github_api import created_predicate

    chosen = list(entries)
    for token in query.get("phrase", "").split():
        name, _, value = token.partition(":")
        if name == "created":
            check = created_predicate(value)
            chosen = [e for e in chosen if check(_entry_time(e))]
        elif name == "action":
            chosen = [e for e in chosen if e.get("action") == value]
    chosen.sort(key=lambda e: (e["@timestamp"], e["_document_id"]))
    if query.get("order", "desc") == "desc":
        chosen.reverse()
    return chosen


def _entry_time(entry: JSON) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=entry["@timestamp"])


def _cursor(position: int) -> str:
    return base64.urlsafe_b64encode(f"position:{position}".encode()).decode().rstrip("=")


def _cursor_position(cursor: str | None) -> int:
    padded = (cursor or "") + "=" * (-len(cursor or "") % 4)
    try:
        return int(base64.urlsafe_b64decode(padded).decode().partition(":")[2])
    except ValueError:
        return 0
