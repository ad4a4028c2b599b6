"""A JSON REST client shared by platform plugins: retries with backoff on 5xx and timeouts,
waits that honour ``Retry-After`` and rate-limit reset headers (bounded by ``max_wait``),
conditional requests, and ``Link`` pagination.

Platforms differ only in header names and in how they explain a refusal, so those are
parameters; every failure leaves here as one of the project's own errors.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter

from pipeledger import __version__
from pipeledger.collect.progress import Progress, SilentProgress
from pipeledger.errors import MalformedResponse, PipeledgerError, PlatformError, RateLimitStop
from pipeledger.http._budget import SharedBudget
from pipeledger.http._errors import failure_reason, is_transient, request_error
from pipeledger.http.fetch import FetchLimits, fetch, limits_for
from pipeledger.http.origin import ApiOrigin
from pipeledger.http.progress import listing_page
from pipeledger.ledger.quarantine import valid_json_body

USER_AGENT = f"pipeledger/{__version__}"
RETRYABLE_STATUS = frozenset({500, 502, 503, 504})
SECONDARY_LIMIT_DEFAULT_WAIT = 60.0
# Connections kept open to the API: enough for every thread of collect --concurrency.
POOL_SIZE = 32
# With ``RetryPolicy.wait_through_reset``, a wait up to the announced reset plus this is taken.
RESET_MARGIN = 5.0


@dataclass(frozen=True)
class RateLimitHeaders:
    remaining: str
    reset: str


@dataclass(frozen=True)
class ApiResponse:
    status: int
    url: str
    headers: Mapping[str, str]
    body: Any

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    def next_url(self) -> str | None:
        """The ``rel="next"`` target, made absolute against this response's URL (a relative
        or scheme-relative target cannot pass for a path on the API's own host)."""
        target = parse_link_header(self.headers.get("link", "")).get("next")
        if target is None:
            return None
        try:
            return urljoin(self.url, target)
        except ValueError:  # not a URL at all; ApiClient.get says so
            return target


ErrorTranslator = Callable[[ApiResponse], PipeledgerError]


@dataclass(frozen=True)
class RetryPolicy:
    """How a request is retried: the platform APIs' client and the HTTP sinks share it (one
    backoff, one bound on a server's ``Retry-After``), with their own defaults."""

    max_retries: int = 5
    backoff_base: float = 1.0
    backoff_cap: float = 60.0
    # The longest wait honoured (Retry-After, a rate-limit reset); a longer one is an error.
    max_wait: float = 900.0
    timeout: float = 30.0
    # Unattended runs (no terminal, CI) wait as long as it takes to reach the next rate-limit
    # reset the API announced, even past max_wait: a scheduled backfill outlives a window.
    wait_through_reset: bool = False

    @classmethod
    def for_sinks(cls, timeout: float = 30.0) -> RetryPolicy:
        """Delivering to a SIEM, a webhook or storage: a quicker first retry and a shorter
        longest wait than a collection's — what fails stays in the ledger for the next run."""
        return cls(backoff_base=0.5, backoff_cap=30.0, max_wait=120.0, timeout=timeout)

    def backoff(self, failures: int) -> float:
        """The wait before retry ``failures + 1``: doubling from ``backoff_base``, at most
        ``backoff_cap``."""
        return float(min(self.backoff_base * 2**failures, self.backoff_cap))


class ApiClient:
    """Safe to share between threads: they spend one rate-limit budget, and a rate-limit
    answer to one pauses all (:mod:`pipeledger.http._budget`)."""

    def __init__(
        self,
        base_url: str,
        headers: Mapping[str, str],
        *,
        rate_headers: RateLimitHeaders,
        translate_error: ErrorTranslator,
        policy: RetryPolicy | None = None,
        progress: Progress | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        reauthenticate: Callable[[], Mapping[str, str]] | None = None,
        limits: FetchLimits | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        # Credentials go only under this root: see pipeledger.http.origin and .fetch.
        self.origin = ApiOrigin.of(self.base_url)
        headers = {"User-Agent": USER_AGENT, **headers}
        # Short-lived credentials (an app's installation token) are renewed once on a 401.
        self._reauthenticate = reauthenticate
        self._headers = dict(headers)
        self._rate_headers = rate_headers
        self._translate = translate_error
        self._policy = policy or RetryPolicy()
        self._limits = limits or limits_for(self._policy.timeout)
        self._progress = progress or SilentProgress()
        self._session = session or environment_session(self.base_url)
        self._sleep = sleep
        self._clock = clock
        self._budget = SharedBudget(clock)
        self._counts = threading.Lock()
        self._waits: dict[str, float] = {}  # a retry's reason -> when its wait ends
        self.requests_made = 0
        self.not_modified = 0

    def get(
        self, path: str, params: Mapping[str, str] | None = None, etag: str | None = None
    ) -> ApiResponse:
        """GET a JSON resource; 304 comes back as a response with ``not_modified``. ``path``
        is an API path or a URL the API gave, which must lie under the API root (else
        ForeignUrl, and nothing is sent)."""
        url = self.origin.resolve(path, what="a link")
        headers = dict(self._headers)
        if etag:
            headers["If-None-Match"] = etag
        return self._exchange(url, params, headers, None)

    def sibling(self, base_url: str, *, own_budget: bool = False) -> ApiClient:
        """A client for another API root on the same scheme, host and port (GitLab's
        ``/api/graphql`` beside ``/api/v4``): the same credentials and session, its own
        request count; the same rate-limit budget and pauses, or with ``own_budget`` its
        own (GitHub counts GraphQL in a pool of its own). A root elsewhere is refused, so
        the credentials never leave their host."""
        other = ApiOrigin.of(base_url)
        mine = self.origin
        if (other.scheme, other.host, other.port) != (mine.scheme, mine.host, mine.port):
            raise ValueError(f"{base_url} is not on the host of {self.base_url}")
        twin = copy.copy(self)
        twin.base_url, twin.origin = other.base_url, other
        twin.requests_made = twin.not_modified = 0
        if own_budget:
            twin._budget, twin._waits = SharedBudget(self._clock), {}
        return twin

    def post_json(self, path: str, document: Any) -> ApiResponse:
        """POST a JSON document that reads and changes nothing (a GraphQL query), retried
        and rate-limited exactly like a GET. ``path`` must lie under the API root."""
        url = self.origin.resolve(path, what="a link")
        headers = {**self._headers, "Content-Type": "application/json"}
        return self._exchange(url, None, headers, json.dumps(document).encode())

    def graphql(self, path: str, query: str, variables: Mapping[str, Any]) -> dict[str, Any] | None:
        """GraphQL's whole answer (``data``, ``errors``) to a read-only query at ``path``;
        None when it failed (after a GET's retries and waits) or is not a JSON object. For
        the adapters GraphQL is only a quicker way to read what REST reads: on None they read
        the same over REST."""
        document = {"query": query, "variables": dict(variables)}
        try:
            body = self.post_json(path, document).body
        except PlatformError:
            return None
        return body if isinstance(body, dict) else None

    def _exchange(
        self,
        url: str,
        params: Mapping[str, str] | None,
        headers: dict[str, str],
        body: bytes | None,
    ) -> ApiResponse:
        failures = 0
        renewed = False
        while True:
            self._sit_out_pause()
            if not self._budget.admit():
                continue  # the budget is spent: every thread now waits for the reset
            try:
                response = self._send(url, params, headers, failures, body)
            finally:
                self._budget.release()
            if response is None:
                failures += 1
                continue
            if response.status == 401 and self._reauthenticate is not None and not renewed:
                renewed = True
                fresh = self._reauthenticate()
                with self._counts:
                    self._headers.update(fresh)
                headers.update(fresh)
                continue
            wait = self._retry_wait(response, failures)
            if wait is None:
                return self._finish(response)
            failures += 1
            if response.status in RETRYABLE_STATUS:
                self._wait(wait, self._wait_reason(response, failures))
            else:  # a rate limit: it holds every thread, not just this one
                self._budget.pause(wait, "rate limit reached")

    @property
    def rate_remaining(self) -> int | None:
        """Requests left in the current window, as the API last said."""
        return self._budget.remaining

    def paginate(self, path: str, params: Mapping[str, str] | None = None) -> Iterator[ApiResponse]:
        """Every page of a list, following ``Link: rel="next"``."""
        response = self.get(path, params)
        yield response
        while (next_url := response.next_url()) is not None:
            response = self.get(next_url)
            yield response

    def _send(
        self,
        url: str,
        params: Mapping[str, str] | None,
        headers: dict[str, str],
        failures: int,
        body: bytes | None = None,
    ) -> ApiResponse | None:
        """One attempt; None means a timeout or connection error worth retrying."""
        with self._counts:
            self.requests_made += 1
        try:
            raw = fetch(
                self._session,
                self.origin,
                url,
                params=params,
                headers=headers,
                timeout=self._policy.timeout,
                limits=self._limits,
                body=body,
            )
        except requests.RequestException as error:
            if not is_transient(error):
                raise request_error(error, url, self.base_url) from None
            self._give_up_after(failures, f"could not reach {_host(url)} ({type(error).__name__})")
            self._wait(
                self._backoff(failures), self._retry_reason(failure_reason(error, url), failures)
            )
            return None
        return self._parse(raw, failures)

    def _parse(self, raw: requests.Response, failures: int) -> ApiResponse | None:
        headers = {key.lower(): value for key, value in raw.headers.items()}
        self._note_rate_limit(headers)
        body: Any = None
        if raw.status_code != 304 and raw.content:
            try:
                body = valid_json_body(raw.content, raw.json())
            except ValueError:
                if raw.status_code < 300:
                    self._give_up_malformed(raw.url, failures)
                    what = f"{_host(raw.url)} answered with a body that is not JSON"
                    self._wait(self._backoff(failures), self._retry_reason(what, failures))
                    return None
                body = {"message": raw.text[:200]}
        return ApiResponse(status=raw.status_code, url=raw.url, headers=headers, body=body)

    def _give_up_malformed(self, url: str, failures: int) -> None:
        if failures >= self._policy.max_retries:
            raise MalformedResponse(
                f"{_host(url)} answered {urlsplit(url).path} with a body that is not valid JSON"
                f" {failures + 1} times.",
                "This is a fault of the API or a proxy in between; what was collected before"
                " is saved, rerun later to resume.",
            )

    def _give_up_after(self, failures: int, what: str) -> None:
        if failures >= self._policy.max_retries:
            raise PlatformError(
                f"Giving up after {failures + 1} attempt{'s' if failures else ''}: {what}.",
                "Check the network and --api-url; what was collected before is saved and a"
                " rerun resumes from there.",
            )

    def _retry_wait(self, response: ApiResponse, failures: int) -> float | None:
        """Seconds to wait before retrying, or None when the response is final."""
        status = response.status
        if status < 400 or status == 304:
            return None
        retry_after = retry_after_seconds(response.headers, self._clock())
        if status in (403, 429) and self._is_rate_limited(response, retry_after):
            return self._rate_limit_wait(response, retry_after)
        if status in RETRYABLE_STATUS:
            self._give_up_after(failures, f"{_host(response.url)} answered HTTP {status}")
            return retry_after if retry_after is not None else self._backoff(failures)
        return None

    def _is_rate_limited(self, response: ApiResponse, retry_after: float | None) -> bool:
        if retry_after is not None or response.status == 429:
            return True
        if response.headers.get(self._rate_headers.remaining) == "0":
            return True
        message = str(response.body.get("message", "")) if isinstance(response.body, dict) else ""
        return "rate limit" in message.lower()

    def _rate_limit_wait(self, response: ApiResponse, retry_after: float | None) -> float:
        if retry_after is not None:
            return retry_after
        reset = _float(response.headers.get(self._rate_headers.reset))
        if response.headers.get(self._rate_headers.remaining) == "0" and reset is not None:
            return max(reset - self._clock(), 0.0) + 1.0
        return SECONDARY_LIMIT_DEFAULT_WAIT

    def _wait_reason(self, response: ApiResponse, failures: int) -> str:
        if response.status in RETRYABLE_STATUS:
            what = f"{_host(response.url)} answered HTTP {response.status}"
            return self._retry_reason(what, failures - 1)
        return "rate limit reached"

    def _retry_reason(self, what: str, failures: int) -> str:
        """``127.0.0.1:9 unreachable, retry 2/5``: the retry about to happen, of how many."""
        return f"{what}, retry {failures + 1}/{self._policy.max_retries}"

    def _wait(self, seconds: float, reason: str) -> None:
        self._refuse_longer_than_allowed(seconds, reason)
        if seconds >= 1 and self._first_to_wait(reason, seconds):
            self._progress.notice(_waiting(reason, seconds, self._clock()))
        self._sleep(seconds)

    def _first_to_wait(self, reason: str, seconds: float) -> bool:
        """Whether no other thread is sitting out the same wait (``… unreachable, retry 1/5``
        met by every request of a round at once): it is announced once."""
        now = self._clock()
        with self._counts:
            if self._waits.get(reason, 0.0) > now:
                return False
            self._waits[reason] = now + seconds
            return True

    def _sit_out_pause(self) -> None:
        """Wait out the shared pause (a rate limit any thread met), once per thread."""
        while (pause := self._budget.pending()) is not None:
            if pause.seconds <= 0:
                continue
            self._refuse_longer_than_allowed(pause.seconds, pause.reason)
            if pause.announce and pause.length >= 1:
                self._progress.notice(_waiting(pause.reason, pause.seconds, self._clock()))
            self._sleep(pause.seconds)

    def _longest_wait(self) -> float:
        longest = self._policy.max_wait
        to_reset = self._budget.seconds_to_reset()
        if self._policy.wait_through_reset and to_reset is not None:
            longest = max(longest, to_reset + RESET_MARGIN)
        return longest

    def _refuse_longer_than_allowed(self, seconds: float, reason: str) -> None:
        if seconds > self._longest_wait():
            until = datetime.fromtimestamp(self._clock() + seconds, UTC)
            raise RateLimitStop(
                f"{reason}: the API asks to wait {seconds:.0f} s (until"
                f" {until:%Y-%m-%d %H:%M:%S} UTC), longer than --max-wait"
                f" {self._policy.max_wait:.0f} s.",
                "Everything collected so far is saved; rerun after that time to resume, or"
                " raise --max-wait.",
            )

    def _note_rate_limit(self, headers: Mapping[str, str]) -> None:
        remaining = headers.get(self._rate_headers.remaining)
        if remaining is None or not remaining.isdigit():
            return
        reset = _float(headers.get(self._rate_headers.reset))
        self._budget.observe(int(remaining), reset)
        self._progress.update(rate_remaining=self._budget.remaining)
        if reset is not None:
            self._progress.expect(rate_reset=reset)

    def _finish(self, response: ApiResponse) -> ApiResponse:
        if response.not_modified:
            with self._counts:
                self.not_modified += 1
            return response
        if response.status >= 300:  # an error, or a redirect that was not followed
            raise self._translate(response)
        self._report_listing_page(response)
        return response

    def _report_listing_page(self, response: ApiResponse) -> None:
        links = parse_link_header(response.headers.get("link", ""))
        page = listing_page(response.url, response.headers, response.body, links)
        if page is not None:
            self._progress.expect(listing_page=page)

    def _backoff(self, failures: int) -> float:
        return self._policy.backoff(failures)


def environment_session(base_url: str) -> requests.Session:
    """A session that takes its proxy and CA-bundle settings from the environment once, for
    the API's host. Left to itself, requests re-reads the whole environment and looks for a
    ``.netrc`` on every request, a tenth of a collection's CPU; a ``.netrc`` entry would also
    replace the token with basic auth, so it is not read at all."""
    session = requests.Session()
    pooled = HTTPAdapter(pool_maxsize=POOL_SIZE)
    session.mount("https://", pooled)
    session.mount("http://", pooled)
    settings = session.merge_environment_settings(base_url, {}, None, None, None)
    session.trust_env = False
    session.proxies.update(settings["proxies"])
    session.verify = settings["verify"]
    return session


def parse_link_header(value: str) -> dict[str, str]:
    """``<url>; rel="next", <url>; rel="last"`` → {"next": url, "last": url}."""
    links: dict[str, str] = {}
    for part in value.split(","):
        if ";" not in part:
            continue
        target, *params = part.split(";")
        url = target.strip().strip("<>")
        for param in params:
            name, _, rel = param.strip().partition("=")
            if name == "rel":
                for each in rel.strip('"').split():
                    links[each] = url
    return links


def retry_after_seconds(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds a ``Retry-After`` header (lower-case key; delay or HTTP date) asks to wait."""
    value = headers.get("retry-after")
    if value is None:
        return None
    seconds = _float(value)
    if seconds is not None:
        return max(seconds, 0.0)
    try:
        from email.utils import parsedate_to_datetime

        return max(parsedate_to_datetime(value).timestamp() - now, 0.0)
    except (TypeError, ValueError):
        return None


def _float(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _waiting(reason: str, seconds: float, now: float) -> str:
    """A retry says ``… retry 2/5 in 4 s``; a rate-limit wait also says until when."""
    if ", retry " in reason:
        return f"{reason} in {seconds:.0f} s"
    until = datetime.fromtimestamp(now + seconds, UTC)
    return f"{reason}; waiting {seconds:.0f} s (until {until:%H:%M:%S} UTC)"


def _host(url: str) -> str:
    return urlsplit(url).netloc or url
