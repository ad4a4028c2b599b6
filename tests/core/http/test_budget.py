"""One rate-limit budget and one pause for every thread of a shared ApiClient."""

from __future__ import annotations

import threading

import pytest
import responses

from pipeledger.errors import PlatformError, RateLimitStop
from pipeledger.http._budget import SharedBudget
from pipeledger.http.client import ApiClient, ApiResponse, RateLimitHeaders, RetryPolicy

BASE = "https://api.forge.test"
RATE = RateLimitHeaders(remaining="x-ratelimit-remaining", reset="x-ratelimit-reset")
NOW = 1_700_000_000.0


class FrozenClock:
    """Time stands still; every sleep is recorded with the thread that slept."""

    def __init__(self) -> None:
        self.now = NOW
        self.slept: list[tuple[str, float]] = []
        self._lock = threading.Lock()

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append((threading.current_thread().name, seconds))


class Notices:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def update(self, **_: object) -> None:
        return None

    def expect(self, **_: object) -> None:
        return None

    def notice(self, message: str) -> None:
        self.lines.append(message)


def _client(clock: FrozenClock, notices: Notices, **policy: object) -> ApiClient:
    return ApiClient(
        BASE,
        {"Authorization": "Bearer secret-token"},
        rate_headers=RATE,
        translate_error=lambda response: PlatformError(f"HTTP {response.status}"),
        policy=RetryPolicy(**policy),  # type: ignore[arg-type]
        progress=notices,
        sleep=clock.sleep,
        clock=clock.time,
    )


def _in_thread(name: str, client: ApiClient, *paths: str) -> list[ApiResponse]:
    result: list[ApiResponse] = []
    thread = threading.Thread(
        target=lambda: result.extend(client.get(path) for path in paths), name=name
    )
    thread.start()
    thread.join()
    return result


@responses.activate
def test_a_rate_limit_met_by_one_thread_holds_the_others_announced_once() -> None:
    responses.get(f"{BASE}/a", status=429, headers={"Retry-After": "30"})
    responses.get(f"{BASE}/a", json={"ok": 1})
    responses.get(f"{BASE}/b", json={"ok": 2})
    clock, notices = FrozenClock(), Notices()
    client = _client(clock, notices)
    assert [r.body for r in _in_thread("worker-a", client, "/a")] == [{"ok": 1}]
    # The clock stood still: worker-b starts inside worker-a's pause and sits it out too,
    # once: its second request goes straight out.
    assert [r.body for r in _in_thread("worker-b", client, "/b", "/b")] == [{"ok": 2}] * 2
    assert clock.slept == [("worker-a", 30.0), ("worker-b", 30.0)]
    assert notices.lines == ["rate limit reached; waiting 30 s (until 22:13:50 UTC)"]


@responses.activate
def test_a_pause_longer_than_max_wait_stops_every_thread() -> None:
    responses.get(f"{BASE}/a", status=429, headers={"Retry-After": "3600"})
    responses.get(f"{BASE}/b", json={})
    client = _client(FrozenClock(), Notices(), max_wait=60.0)
    with pytest.raises(RateLimitStop):
        client.get("/a")
    errors: list[BaseException] = []

    def other() -> None:
        try:
            client.get("/b")
        except RateLimitStop as error:
            errors.append(error)

    thread = threading.Thread(target=other)
    thread.start()
    thread.join()
    assert len(errors) == 1 and "--max-wait 60 s" in errors[0].message
    assert len(responses.calls) == 1  # the other thread sent nothing


@responses.activate
def test_unattended_runs_wait_through_to_the_announced_reset() -> None:
    reset = NOW + 1800
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(reset))}
    responses.get(f"{BASE}/a", json={}, headers=headers)
    responses.get(f"{BASE}/a", json={}, headers=headers)
    responses.get(f"{BASE}/a", json={"after": "reset"})
    clock = FrozenClock()
    attended = _client(clock, Notices(), max_wait=900.0)
    attended.get("/a")
    with pytest.raises(RateLimitStop):
        attended.get("/a")  # 1801 s to wait is more than --max-wait 900
    unattended = _client(clock, Notices(), max_wait=900.0, wait_through_reset=True)
    unattended.get("/a")
    assert unattended.get("/a").body == {"after": "reset"}
    assert clock.slept[-1][1] == pytest.approx(1801.0)


def test_requests_in_flight_spend_the_budget_before_the_answer_says_so() -> None:
    clock = FrozenClock()
    budget = SharedBudget(clock.time)
    budget.observe(2, NOW + 100)
    assert budget.admit() and budget.admit()
    assert not budget.admit()  # two left, two in flight: the third waits for the reset
    pause = budget.pending()
    assert pause is not None and pause.until == NOW + 101 and pause.announce
    assert pause.reason == "rate limit used up"
    assert budget.pending() is None  # sat out once by this thread
    budget.release()
    budget.release()
    assert budget.admit()  # after the reset the next answer says what is left


def test_answers_out_of_order_cannot_raise_the_count_within_a_window() -> None:
    budget = SharedBudget(FrozenClock().time)
    budget.observe(10, NOW + 60)
    budget.observe(12, NOW + 60)  # an answer sent earlier, arriving later
    assert budget.remaining == 10
    budget.observe(5000, NOW + 3660)  # a new window
    assert budget.remaining == 5000
