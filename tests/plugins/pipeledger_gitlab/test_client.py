"""The GitLab client over ``responses``: tokens, both pagination styles, waits that honour
Retry-After and RateLimit-Reset (bounded by max_wait), retries, and refusals explained."""

from __future__ import annotations

from typing import Any

import pytest
import requests
import responses
from responses import matchers

from pipeledger.errors import MalformedResponse, PermissionDenied, PlatformError, RateLimitStop
from pipeledger.http.client import RetryPolicy
from pipeledger_gitlab.client import (
    GitLabClient,
    GitLabNotFound,
    encode_path,
    find_credentials,
    instance_of,
    resolve_api_url,
)

API = "https://gitlab.example.com/api/v4"
TOKEN = "glpat-secret-abcdef0123456789"


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _client(clock: Clock, env: dict[str, str] | None = None, **policy: Any) -> GitLabClient:
    credentials = find_credentials(env or {"GITLAB_TOKEN": TOKEN})
    assert credentials is not None
    return GitLabClient(
        API,
        credentials,
        RetryPolicy(**{"max_retries": 3, "max_wait": 120.0, **policy}),
        sleep=clock.sleep,
        clock=clock,
    )


@responses.activate
def test_personal_token_is_sent_as_bearer(clock: Clock) -> None:
    responses.get(
        f"{API}/projects/group%2Fapp",
        json={"id": 1},
        match=[matchers.header_matcher({"Authorization": f"Bearer {TOKEN}"})],
    )
    assert _client(clock).get_object(f"/projects/{encode_path('group/app')}") == {"id": 1}


@responses.activate
def test_job_token_uses_its_own_header(clock: Clock) -> None:
    responses.get(
        f"{API}/projects/1/deployments",
        json=[],
        match=[matchers.header_matcher({"JOB-TOKEN": "job-token-value"})],
    )
    client = _client(clock, {"CI_JOB_TOKEN": "job-token-value"})
    assert client.list_all("/projects/1/deployments") == []


@responses.activate
def test_offset_pages_follow_link_with_per_page_100(clock: Clock) -> None:
    second = f"{API}/projects/1/pipelines?page=2&per_page=100"
    responses.get(
        f"{API}/projects/1/pipelines",
        json=[{"id": 1}],
        headers={"Link": f'<{second}>; rel="next", <{second}>; rel="last"', "X-Next-Page": "2"},
        match=[matchers.query_param_matcher({"per_page": "100"})],
    )
    responses.get(second, json=[{"id": 2}], headers={"X-Next-Page": ""})
    assert _client(clock).list_all("/projects/1/pipelines") == [{"id": 1}, {"id": 2}]
    assert len(responses.calls) == 2


@responses.activate
def test_x_next_page_is_enough_when_a_proxy_drops_link(clock: Clock) -> None:
    url = f"{API}/groups/5/projects"
    responses.get(
        url,
        json=[{"id": 1}],
        headers={"X-Next-Page": "2"},
        match=[matchers.query_param_matcher({"per_page": "100", "order_by": "id"})],
    )
    responses.get(
        url,
        json=[{"id": 2}],
        headers={"X-Next-Page": ""},
        match=[matchers.query_param_matcher({"per_page": "100", "order_by": "id", "page": "2"})],
    )
    assert _client(clock).list_all("/groups/5/projects", {"order_by": "id"}) == [
        {"id": 1},
        {"id": 2},
    ]


@responses.activate
def test_keyset_cursor_from_link(clock: Clock) -> None:
    url = f"{API}/projects/1/audit_events"
    nxt = f"{url}?cursor=eyJpZCI6IjIifQ%3D%3D&order_by=id&pagination=keyset&per_page=100"
    full = [{"id": n} for n in range(1, 101)]
    responses.get(
        url,
        json=full,
        headers={"Link": f'<{nxt}>; rel="next"'},
        match=[matchers.query_param_matcher({"pagination": "keyset", "per_page": "100"})],
    )
    responses.get(nxt, json=[{"id": 101}])
    pages = _client(clock).pages("/projects/1/audit_events", {"pagination": "keyset"})
    assert next(pages) == full
    assert len(responses.calls) == 1  # a page is handed on before the next is asked for
    assert list(pages) == [[{"id": 101}]]
    assert len(responses.calls) == 2


@responses.activate
def test_a_list_that_is_not_a_list_of_objects_is_malformed(clock: Clock) -> None:
    for body in ({"message": "not a list"}, [1, 2], "text"):
        responses.get(f"{API}/projects/1/deployments", json=body)
        with pytest.raises(MalformedResponse, match="not a list of objects"):
            _client(clock).list_all("/projects/1/deployments")
        responses.reset()


@responses.activate
def test_requests_go_through_python_gitlab_and_the_core_client(clock: Clock) -> None:
    import gitlab

    responses.get(f"{API}/projects/1", json={"id": 1})
    client = _client(clock)
    assert isinstance(client._gitlab, gitlab.Gitlab)
    assert client.get_object("/projects/1") == {"id": 1}
    assert client.requests_made == 1
    sent = responses.calls[0].request.headers
    assert sent["User-Agent"].startswith("pipeledger/")


@responses.activate
def test_next_link_on_another_host_is_fetched_from_the_api_host(clock: Clock) -> None:
    responses.get(
        f"{API}/groups/5/descendant_groups",
        json=[{"id": 1}],
        headers={"Link": '<http://gitlab.internal:8080/api/v4/groups/5/x?page=2>; rel="next"'},
    )
    responses.get(f"{API}/groups/5/x?page=2", json=[{"id": 2}])
    assert len(_client(clock).list_all("/groups/5/descendant_groups")) == 2
    assert all(str(call.request.url).startswith(API) for call in responses.calls)


@responses.activate
def test_429_waits_retry_after_then_succeeds(clock: Clock) -> None:
    url = f"{API}/projects/1"
    responses.get(url, body="Retry later\n", status=429, headers={"Retry-After": "7"})
    responses.get(url, json={"id": 1})
    assert _client(clock).get_object("/projects/1") == {"id": 1}
    assert clock.slept == [7.0]


@responses.activate
def test_ratelimit_remaining_zero_waits_until_reset_before_the_next_request(clock: Clock) -> None:
    reset = str(int(clock.now) + 30)
    headers = {"RateLimit-Remaining": "0", "RateLimit-Reset": reset, "RateLimit-Limit": "600"}
    responses.get(f"{API}/projects/1", json={"id": 1}, headers=headers)
    responses.get(f"{API}/projects/2", json={"id": 2})
    client = _client(clock)
    client.get_object("/projects/1")
    assert clock.slept == []
    client.get_object("/projects/2")
    assert clock.slept == [31.0]


@responses.activate
def test_wait_longer_than_max_wait_stops_and_says_when(clock: Clock) -> None:
    responses.get(
        f"{API}/projects/1", body="Retry later\n", status=429, headers={"Retry-After": "3600"}
    )
    with pytest.raises(RateLimitStop) as caught:
        _client(clock, max_wait=60.0).get_object("/projects/1")
    assert "--max-wait" in caught.value.message
    assert clock.slept == []


@responses.activate
def test_5xx_retries_with_backoff_then_gives_up(clock: Clock) -> None:
    responses.get(f"{API}/projects/1", body="<html>502</html>", status=502)
    with pytest.raises(PlatformError) as caught:
        _client(clock, max_retries=2, backoff_base=1.0).get_object("/projects/1")
    assert "3 attempts" in caught.value.message
    assert clock.slept == [1.0, 2.0]


@responses.activate
def test_connection_errors_are_retried(clock: Clock) -> None:
    responses.get(f"{API}/projects/1", body=requests.ConnectionError("reset"))
    responses.get(f"{API}/projects/1", json={"id": 1})
    assert _client(clock).get_object("/projects/1") == {"id": 1}


@responses.activate
def test_401_says_the_token_is_invalid_and_never_shows_it(clock: Clock) -> None:
    responses.get(f"{API}/projects/1", json={"message": "401 Unauthorized"}, status=401)
    with pytest.raises(PermissionDenied) as caught:
        _client(clock).get_object("/projects/1")
    text = caught.value.describe()
    assert "GITLAB_TOKEN" in text and "read_api" in text
    assert TOKEN not in text


@responses.activate
def test_401_for_a_job_token_asks_for_gitlab_token(clock: Clock) -> None:
    responses.get(f"{API}/projects/1/pipelines/9", json={"message": "401 Unauthorized"}, status=401)
    with pytest.raises(PermissionDenied) as caught:
        _client(clock, {"CI_JOB_TOKEN": "job-token-value"}).get_object("/projects/1/pipelines/9")
    assert "CI_JOB_TOKEN" in caught.value.message
    assert "GITLAB_TOKEN" in (caught.value.remedy or "")


@responses.activate
def test_403_insufficient_scope_names_read_api(clock: Clock) -> None:
    body = {"error": "insufficient_scope", "error_description": "needs higher privileges"}
    responses.get(f"{API}/projects/1/pipelines", json=body, status=403)
    with pytest.raises(PermissionDenied) as caught:
        _client(clock).list_all("/projects/1/pipelines")
    assert "read_api" in caught.value.message


@responses.activate
def test_403_otherwise_names_role_and_tier(clock: Clock) -> None:
    responses.get(f"{API}/groups/5/audit_events", json={"message": "403 Forbidden"}, status=403)
    with pytest.raises(PermissionDenied) as caught:
        _client(clock).list_all("/groups/5/audit_events")
    assert "/groups/5/audit_events" in caught.value.message
    assert "Premium" in (caught.value.remedy or "")


@responses.activate
def test_404_is_not_found_or_no_access(clock: Clock) -> None:
    responses.get(
        f"{API}/projects/group%2Fgone", json={"message": "404 Project Not Found"}, status=404
    )
    with pytest.raises(GitLabNotFound) as caught:
        _client(clock).get_object("/projects/group%2Fgone")
    assert "/projects/group/gone" in caught.value.message
    assert "cannot see" in (caught.value.remedy or "")


@responses.activate
def test_web_page_instead_of_api_is_malformed(clock: Clock) -> None:
    responses.get(f"{API}/projects/1/pipelines", json={"not": "a list"})
    with pytest.raises(MalformedResponse):
        _client(clock).list_all("/projects/1/pipelines")


def test_api_url_and_instance() -> None:
    assert resolve_api_url(None, {}) == "https://gitlab.com/api/v4"
    ci = {"CI_API_V4_URL": "https://gl.corp.example:8443/api/v4/"}
    assert resolve_api_url(None, ci) == "https://gl.corp.example:8443/api/v4"
    assert resolve_api_url("http://127.0.0.1:9/api/v4", ci) == "http://127.0.0.1:9/api/v4"
    assert instance_of("https://GitLab.com:443/api/v4") == "gitlab.com"
    assert instance_of("https://gl.corp.example:8443/api/v4") == "gl.corp.example:8443"
    with pytest.raises(Exception, match="not an http"):
        resolve_api_url("gitlab.com", {})


def test_credentials_prefer_gitlab_token() -> None:
    both = find_credentials({"GITLAB_TOKEN": "a-token", "CI_JOB_TOKEN": "job"})
    assert both is not None and both.variable == "GITLAB_TOKEN"
    assert find_credentials({"GITLAB_TOKEN": " "}) is None


@responses.activate
@pytest.mark.parametrize("status", [403, 404])
def test_job_token_refusals_all_ask_for_gitlab_token(clock: Clock, status: int) -> None:
    responses.get(f"{API}/projects/1/merge_requests/2/approvals", json={}, status=status)
    client = _client(clock, {"CI_JOB_TOKEN": "job-token-value"})
    with pytest.raises(PermissionDenied) as caught:
        client.get_object("/projects/1/merge_requests/2/approvals")
    assert (
        f"CI_JOB_TOKEN for /projects/1/merge_requests/2/approvals ({status})"
        in caught.value.message
    )


@responses.activate
def test_python_gitlab_cannot_send_anything_but_a_get(clock: Clock) -> None:
    client = _client(clock)
    with pytest.raises(ValueError, match="does not send POST"):
        client._gitlab.http_post("/projects/1/pipelines")
    assert len(responses.calls) == 0
    assert client.requests_made == 0
