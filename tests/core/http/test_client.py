from __future__ import annotations

from pathlib import Path

import pytest
import requests
import responses

from pipeledger.collect.progress import SilentProgress
from pipeledger.errors import MalformedResponse, PlatformError, RateLimitStop
from pipeledger.http.client import (
    ApiClient,
    ApiResponse,
    RateLimitHeaders,
    RetryPolicy,
    environment_session,
    parse_link_header,
)

BASE = "https://api.forge.test"
RATE = RateLimitHeaders(remaining="x-ratelimit-remaining", reset="x-ratelimit-reset")


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0
        self.slept: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _translate(response: ApiResponse) -> PlatformError:
    return PlatformError(f"HTTP {response.status}")


def make_client(clock: Clock, **policy: float) -> ApiClient:
    return ApiClient(
        BASE,
        {"Authorization": "Bearer secret-token"},
        rate_headers=RATE,
        translate_error=_translate,
        policy=RetryPolicy(**policy),  # type: ignore[arg-type]
        sleep=clock.sleep,
        clock=clock.time,
    )


@responses.activate
def test_follows_link_pagination() -> None:
    responses.get(
        f"{BASE}/items", json=[1, 2], headers={"Link": f'<{BASE}/items?page=2>; rel="next"'}
    )
    responses.get(f"{BASE}/items?page=2", json=[3])
    client = make_client(Clock())
    assert [page.body for page in client.paginate("/items")] == [[1, 2], [3]]
    assert client.requests_made == 2


@responses.activate
def test_retries_5xx_with_exponential_backoff() -> None:
    responses.get(f"{BASE}/x", status=502)
    responses.get(f"{BASE}/x", status=503)
    responses.get(f"{BASE}/x", json={"ok": True})
    clock = Clock()
    assert make_client(clock, backoff_base=1.0).get("/x").body == {"ok": True}
    assert clock.slept == [1.0, 2.0]


@responses.activate
def test_gives_up_on_persistent_5xx_with_a_platform_error() -> None:
    for _ in range(3):
        responses.get(f"{BASE}/x", status=500)
    with pytest.raises(PlatformError, match="3 attempts"):
        make_client(Clock(), max_retries=2).get("/x")


@responses.activate
def test_honours_retry_after_on_a_secondary_limit() -> None:
    responses.get(
        f"{BASE}/x",
        status=403,
        json={"message": "secondary rate limit"},
        headers={"Retry-After": "7"},
    )
    responses.get(f"{BASE}/x", json=[])
    clock = Clock()
    make_client(clock).get("/x")
    assert clock.slept == [7.0]


@responses.activate
def test_waits_for_the_primary_limit_reset() -> None:
    clock = Clock()
    reset = str(int(clock.now + 30))
    responses.get(
        f"{BASE}/x",
        status=403,
        json={"message": "API rate limit exceeded"},
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset},
    )
    responses.get(f"{BASE}/x", json=[])
    make_client(clock).get("/x")
    assert clock.slept == [31.0]


@responses.activate
def test_sleeps_before_the_next_request_when_the_budget_is_spent() -> None:
    clock = Clock()
    reset = str(int(clock.now + 10))
    responses.get(
        f"{BASE}/a", json=[], headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset}
    )
    responses.get(f"{BASE}/b", json=[])
    client = make_client(clock)
    client.get("/a")
    client.get("/b")
    assert clock.slept == [11.0]
    assert client.requests_made == 2


@responses.activate
def test_a_wait_longer_than_max_wait_stops_with_a_clear_error() -> None:
    clock = Clock()
    responses.get(f"{BASE}/x", status=429, headers={"Retry-After": "3600"})
    with pytest.raises(RateLimitStop) as caught:
        make_client(clock, max_wait=60).get("/x")
    assert "--max-wait 60" in caught.value.describe()
    assert "saved" in caught.value.describe()
    assert clock.slept == []


@responses.activate
def test_conditional_request_returns_not_modified() -> None:
    responses.get(
        f"{BASE}/x",
        status=304,
        match=[responses.matchers.header_matcher({"If-None-Match": 'W/"abc"'})],
    )
    client = make_client(Clock())
    response = client.get("/x", etag='W/"abc"')
    assert response.not_modified
    assert client.not_modified == 1


@responses.activate
def test_client_errors_go_through_the_platform_translator() -> None:
    responses.get(f"{BASE}/x", status=404, json={"message": "Not Found"})
    with pytest.raises(PlatformError, match="HTTP 404"):
        make_client(Clock()).get("/x")


@responses.activate
def test_malformed_json_is_retried_then_reported() -> None:
    for _ in range(2):
        responses.get(f"{BASE}/x", body='{"workflow_runs": [', content_type="application/json")
    with pytest.raises(MalformedResponse, match="not valid JSON"):
        make_client(Clock(), max_retries=1).get("/x")


@responses.activate
def test_a_body_that_is_not_json_is_retried_with_a_notice_then_read() -> None:
    responses.get(f"{BASE}/x", body="<html>502 Bad Gateway</html>", content_type="text/html")
    responses.get(f"{BASE}/x", json={"ok": True})
    notices: list[str] = []

    class Notices(SilentProgress):
        def notice(self, message: str) -> None:
            notices.append(message)

    clock = Clock()
    client = ApiClient(
        BASE,
        {},
        rate_headers=RATE,
        translate_error=_translate,
        policy=RetryPolicy(backoff_base=2.0),
        progress=Notices(),
        sleep=clock.sleep,
        clock=clock.time,
    )
    assert client.get("/x").body == {"ok": True}
    assert clock.slept == [2.0]
    assert notices == ["api.forge.test answered with a body that is not JSON, retry 1/5 in 2 s"]


@responses.activate
def test_timeouts_are_retried_and_the_token_never_appears_in_errors() -> None:
    responses.get(f"{BASE}/x", body=requests.ConnectTimeout("secret-token timed out"))
    responses.get(f"{BASE}/x", body=requests.ConnectTimeout("secret-token timed out"))
    with pytest.raises(PlatformError) as caught:
        make_client(Clock(), max_retries=1).get("/x")
    assert "secret-token" not in caught.value.describe()
    assert "api.forge.test" in caught.value.describe()


def test_parse_link_header() -> None:
    value = '<https://a.test/x?page=2>; rel="next", <https://a.test/x?page=9>; rel="last"'
    assert parse_link_header(value) == {
        "next": "https://a.test/x?page=2",
        "last": "https://a.test/x?page=9",
    }
    assert parse_link_header("") == {}


def test_environment_settings_are_read_once_for_the_api_host(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("NO_PROXY", "no_proxy", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.test:3128")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/corp-ca.pem")
    session = environment_session(BASE)
    assert session.trust_env is False  # nothing is looked up again per request
    assert session.proxies["https"] == "http://proxy.test:3128"
    assert session.verify == "/etc/corp-ca.pem"
    monkeypatch.setenv("NO_PROXY", "api.forge.test")
    assert "https" not in environment_session(BASE).proxies


@responses.activate
def test_a_netrc_entry_does_not_replace_the_token(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine api.forge.test login someone password other\n", encoding="utf-8")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    responses.get(f"{BASE}/x", json={})
    make_client(Clock()).get("/x")
    assert responses.calls[0].request.headers["Authorization"] == "Bearer secret-token"


@responses.activate
def test_every_request_names_pipeledger_as_its_user_agent() -> None:
    from pipeledger import __version__

    responses.get(
        f"{BASE}/x",
        json={},
        match=[responses.matchers.header_matcher({"User-Agent": f"pipeledger/{__version__}"})],
    )
    assert make_client(Clock()).get("/x").status == 200


def test_one_backoff_for_the_api_client_and_the_sinks() -> None:
    from pipeledger.http.client import RetryPolicy

    collecting, delivering = RetryPolicy(), RetryPolicy.for_sinks(timeout=5)
    assert [collecting.backoff(n) for n in (0, 1, 2, 6, 7)] == [1.0, 2.0, 4.0, 60.0, 60.0]
    assert [delivering.backoff(n) for n in (0, 1, 5, 6)] == [0.5, 1.0, 16.0, 30.0]
    assert (delivering.max_wait, delivering.timeout) == (120.0, 5)


@responses.activate
def test_a_redirect_without_a_location_is_an_error_not_an_empty_answer() -> None:
    responses.get(f"{BASE}/moved", status=302, body="")
    with pytest.raises(PlatformError, match="HTTP 302"):
        make_client(Clock()).get("/moved")
