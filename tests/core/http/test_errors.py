"""Every ``requests`` failure leaves the API client as the project's own error with a remedy,
and every wait before a retry is announced."""

from __future__ import annotations

import pytest
import requests
import responses

from pipeledger.errors import MalformedResponse, PlatformError, UsageError
from pipeledger.http.client import ApiClient, RateLimitHeaders, RetryPolicy

BASE = "https://api.forge.test"
RATE = RateLimitHeaders(remaining="x-ratelimit-remaining", reset="x-ratelimit-reset")


class Notices:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.slept: list[float] = []

    def update(self, **_: object) -> None:
        return None

    def notice(self, message: str) -> None:
        self.lines.append(message)

    def expect(self, **_: object) -> None:
        return None

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


def client(notices: Notices, base: str = BASE, retries: int = 3) -> ApiClient:
    return ApiClient(
        base,
        {"Authorization": "Bearer t0ken"},
        rate_headers=RATE,
        translate_error=lambda r: PlatformError(f"HTTP {r.status}"),
        policy=RetryPolicy(max_retries=retries, backoff_base=2.0),
        progress=notices,
        sleep=notices.sleep,
        clock=lambda: 1_700_000_000.0,
    )


@responses.activate
def test_an_unreachable_host_is_retried_and_each_wait_announced() -> None:
    notices = Notices()
    responses.get(f"{BASE}/x", body=requests.ConnectionError("refused"))
    responses.get(f"{BASE}/x", body=requests.ConnectionError("refused"))
    responses.get(f"{BASE}/x", json={"ok": True})
    assert client(notices).get("/x").body == {"ok": True}
    assert notices.lines == [
        "api.forge.test unreachable, retry 1/3 in 2 s",
        "api.forge.test unreachable, retry 2/3 in 4 s",
    ]
    assert notices.slept == [2.0, 4.0]


@responses.activate
def test_a_server_error_retry_is_announced_too() -> None:
    notices = Notices()
    responses.get(f"{BASE}/x", status=502, json={})
    responses.get(f"{BASE}/x", json=[])
    client(notices).get("/x")
    assert notices.lines == ["api.forge.test answered HTTP 502, retry 1/3 in 2 s"]


@responses.activate
def test_a_body_cut_short_is_retried_then_given_up_with_a_remedy() -> None:
    notices = Notices()
    for _ in range(4):
        responses.get(f"{BASE}/x", body=requests.exceptions.ChunkedEncodingError("cut"))
    with pytest.raises(PlatformError) as raised:
        client(notices).get("/x")
    assert "Giving up after 4 attempts" in raised.value.message
    assert "rerun resumes" in raised.value.describe()
    assert notices.lines[0] == "api.forge.test cut its answer short, retry 1/3 in 2 s"


@responses.activate
def test_tls_that_does_not_verify_is_not_retried_and_names_the_ca_bundle() -> None:
    notices = Notices()
    responses.get(f"{BASE}/x", body=requests.exceptions.SSLError("certificate verify failed"))
    with pytest.raises(PlatformError) as raised:
        client(notices).get("/x")
    assert "TLS certificate of api.forge.test could not be verified" in raised.value.message
    assert "REQUESTS_CA_BUNDLE" in raised.value.describe()
    assert notices.slept == []


@responses.activate
def test_a_redirect_loop_says_to_check_the_api_url() -> None:
    responses.get(f"{BASE}/x", body=requests.TooManyRedirects("30 redirects"))
    with pytest.raises(PlatformError) as raised:
        client(Notices()).get("/x")
    assert "redirected too many times" in raised.value.message
    assert "--api-url" in raised.value.describe()


@pytest.mark.parametrize(
    "error",
    [requests.exceptions.InvalidURL("bad"), requests.exceptions.InvalidSchema("no adapter")],
)
@responses.activate
def test_an_api_root_that_is_no_url_is_a_usage_error(error: Exception) -> None:
    responses.get(f"{BASE}/x", body=error)
    with pytest.raises(UsageError) as raised:
        client(Notices()).get("/x")
    assert f"The API URL {BASE!r} is not a usable URL" in raised.value.message


@responses.activate
def test_a_next_page_link_that_is_no_url_is_the_api_s_fault() -> None:
    responses.get(f"{BASE}/x", json=[1], headers={"Link": '<http://[bad>; rel="next"'})
    pages = client(Notices()).paginate("/x")
    assert next(pages).body == [1]
    with pytest.raises(MalformedResponse) as raised:
        next(pages)
    assert "pointed to a URL that cannot be requested" in raised.value.message
