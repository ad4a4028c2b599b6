"""Thin wrappers over the GitHub REST endpoints pipeledger reads, on the core's ApiClient
(retries, rate-limit waits, conditional requests, Link pagination)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from pipeledger.plugin import (
    AdapterSettings,
    ApiClient,
    ApiResponse,
    Progress,
    RateLimitHeaders,
    RetryPolicy,
)
from pipeledger_github.errors import NotFound, translate_error
from pipeledger_github.normalize.fields import require_list, require_object

PER_PAGE = "100"
API_VERSION = "2022-11-28"
RATE_HEADERS = RateLimitHeaders("x-ratelimit-remaining", "x-ratelimit-reset")

Item = Mapping[str, Any]


@dataclass(frozen=True)
class Page:
    """One page of a list; ``not_modified`` means the stored ETag still matches (no items)."""

    items: list[Item]
    total_count: int | None
    etag: str | None
    not_modified: bool
    next_url: str | None


def graphql_api(api: ApiClient) -> ApiClient | None:
    """The client for GitHub's GraphQL endpoint: ``/graphql`` under github.com's API root
    (``https://api.github.com``), ``https://HOST/api/graphql`` beside a GitHub Enterprise
    Server's ``https://HOST/api/v3``; None for a root elsewhere (its GraphQL is unknown).
    GitHub counts GraphQL in points, in a rate-limit pool apart from REST's: its budget is
    its own."""
    prefix = urlsplit(api.base_url).path.rstrip("/")
    if not prefix:
        return api.sibling(api.base_url, own_budget=True)
    if prefix.endswith("/api/v3"):
        return api.sibling(api.base_url[: -len("/v3")], own_budget=True)
    return None


class GitHubClient:
    def __init__(self, api: ApiClient) -> None:
        self.api = api
        self._graphql = graphql_api(api)

    @property
    def speaks_graphql(self) -> bool:
        return self._graphql is not None

    @property
    def graphql_requests(self) -> int:
        return self._graphql.requests_made if self._graphql else 0

    def graphql(self, query: str, variables: Mapping[str, Any]) -> Item | None:
        """GraphQL's answer, or None on any failure: see ``ApiClient.graphql``."""
        return self._graphql.graphql("/graphql", query, variables) if self._graphql else None

    @classmethod
    def build(
        cls,
        api_url: str,
        token: str,
        settings: AdapterSettings,
        progress: Progress,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        renew_token: Callable[[], str] | None = None,
    ) -> GitHubClient:
        headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
        }
        policy = RetryPolicy(
            max_retries=settings.max_retries,
            backoff_base=settings.backoff_base,
            max_wait=settings.max_wait,
            wait_through_reset=settings.wait_through_reset,
            timeout=settings.request_timeout,
        )
        api = ApiClient(
            api_url,
            headers,
            rate_headers=RATE_HEADERS,
            translate_error=translate_error,
            policy=policy,
            progress=progress,
            session=session,
            sleep=sleep,
            clock=clock,
            reauthenticate=(
                (lambda: {"Authorization": f"Bearer {renew_token()}"}) if renew_token else None
            ),
        )
        return cls(api)

    def pages(
        self,
        path: str,
        params: Mapping[str, str] | None = None,
        *,
        key: str | None = None,
        etag: str | None = None,
    ) -> Iterator[Page]:
        """Every page of a list (``key`` names the array inside a wrapper object), the first
        one conditional on ``etag``; a 304 yields one empty not-modified page."""
        query = {"per_page": PER_PAGE, **(params or {})}
        response = self.api.get(path, query, etag=etag)
        while True:
            page = _page(response, key, path)
            yield page
            if page.not_modified or page.next_url is None:
                return
            response = self.api.get(page.next_url)

    def items(self, path: str, params: Mapping[str, str] | None = None) -> list[Item]:
        return [item for page in self.pages(path, params) for item in page.items]

    def repos_path(self, repository: str) -> str:
        owner, _, name = repository.partition("/")
        return f"/repos/{quote(owner, safe='')}/{quote(name, safe='')}"

    def run(self, repository: str, run_id: str, etag: str | None = None) -> Page:
        """One run as a one-item page, conditional on ``etag``."""
        path = f"{self.repos_path(repository)}/actions/runs/{run_id}"
        response = self.api.get(path, etag=etag)
        if response.not_modified:
            return Page([], None, response.etag, True, None)
        return Page([require_object(response.body, path)], None, response.etag, False, None)

    def approvals(self, repository: str, run_id: str) -> list[Item]:
        path = f"{self.repos_path(repository)}/actions/runs/{run_id}/approvals"
        return _objects(require_list(self.api.get(path).body, path))

    def statuses(self, repository: str, deployment_id: str, etag: str | None = None) -> Page:
        """All statuses of a deployment (newest first) as one page, conditional on ``etag``."""
        path = f"{self.repos_path(repository)}/deployments/{deployment_id}/statuses"
        pages = list(self.pages(path, etag=etag))
        first = pages[0]
        items = [item for page in pages for item in page.items]
        return Page(items, None, first.etag, first.not_modified, None)

    def commit_pulls(self, repository: str, sha: str) -> list[Item]:
        return self.items(f"{self.repos_path(repository)}/commits/{sha}/pulls")

    def reviews(self, repository: str, number: int) -> list[Item]:
        return self.items(f"{self.repos_path(repository)}/pulls/{number}/reviews")

    def team_member_logins(self, org: str, team: str) -> list[str]:
        """The logins of a team's members (its child teams' included; active members only:
        an invitation is not a membership until accepted)."""
        path = f"/orgs/{quote(org, safe='')}/teams/{quote(team, safe='')}/members"
        logins = (member.get("login") for member in self.items(path))
        return [login for login in logins if isinstance(login, str) and login]

    def team_membership_state(self, org: str, team: str, login: str) -> str | None:
        """``active`` / ``pending`` for a member, None for someone not in the team."""
        path = (
            f"/orgs/{quote(org, safe='')}/teams/{quote(team, safe='')}"
            f"/memberships/{quote(login, safe='')}"
        )
        try:
            body = require_object(self.api.get(path).body, path)
        except NotFound:
            return None
        state = body.get("state")
        return state if isinstance(state, str) else None


def _page(response: ApiResponse, key: str | None, path: str) -> Page:
    if response.not_modified:
        return Page([], None, response.etag, True, None)
    total: int | None = None
    if key is None:
        raw = require_list(response.body, path)
    else:
        wrapper = require_object(response.body, path)
        raw = require_list(wrapper.get(key), f"{path} ({key})")
        count = wrapper.get("total_count")
        total = count if isinstance(count, int) else None
    return Page(_objects(raw), total, response.etag, False, response.next_url())


def _objects(raw: list[Any]) -> list[Item]:
    """List entries that are objects; anything else is not a record and is dropped."""
    return [item for item in raw if isinstance(item, Mapping)]
