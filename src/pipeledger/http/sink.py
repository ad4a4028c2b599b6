"""What HTTP sinks share: a client that sends one request until it gets a final answer
(retrying timeouts, connection errors, 429 and 5xx with exponential backoff, honouring a
bounded ``Retry-After``), lazy batching by count and bytes, and errors that say what to fix.

Only the redacted URL ever appears in an error; the text of a requests exception never does,
because it carries the full URL.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import requests

from pipeledger.errors import SinkError
from pipeledger.held_secrets import hold
from pipeledger.http.client import USER_AGENT, RetryPolicy, retry_after_seconds
from pipeledger.http.fetch import (
    DEADLINE_PER_TIMEOUT,
    MAX_BODY_BYTES,
    OversizedResponse,
    read_body,
)
from pipeledger.printable import one_line
from pipeledger.redact import SecretMasker

T = TypeVar("T")
RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})
KEPT_IN_LEDGER = "The events stay in the ledger and are delivered on the next run."


@dataclass(frozen=True)
class Hints:
    """What to change, in the sink's own terms, for each kind of refusal."""

    credentials: str
    permission: str
    not_found: str
    too_large: str = "Lower batch_size or max_bytes in the sink URL."


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Mapping[str, str]
    content: bytes

    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.content) if self.content else None
        except ValueError:
            return None

    def retry_after(self, now: float) -> float | None:
        return retry_after_seconds(self.headers, now)


class HttpSinkClient:
    def __init__(
        self,
        display_url: str,
        hints: Hints,
        *,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        secrets: Sequence[str] = (),
        policy: RetryPolicy | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.display_url = display_url
        self.hints = hints
        self.policy = policy or RetryPolicy.for_sinks()
        self._session = session or requests.Session()
        self._session.headers.update({"User-Agent": USER_AGENT, **(headers or {})})
        if auth is not None:
            self._session.auth = auth
        self._masker = SecretMasker([s for s in secrets if s])
        for secret in secrets:
            hold(secret)
        if auth is not None:
            hold(auth[1])
        self.sleep = sleep
        self._clock = clock
        self.requests_made = 0
        self.retries = 0

    def send(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        accept: frozenset[int] = frozenset(),
    ) -> Reply:
        """Send until the answer is final. 2xx and ``accept`` come back; other answers raise
        SinkError with the remedy."""
        attempt = 0
        while True:
            reply, trouble = self._attempt(method, url, body, headers)
            if reply is not None and reply.status not in RETRYABLE_STATUS:
                if reply.status < 300 or reply.status in accept:
                    return reply
                raise self.refusal(reply)
            retry_after = reply.retry_after(self._clock()) if reply is not None else None
            self.pause(attempt, trouble, retry_after)
            attempt += 1

    def pause(self, attempt: int, trouble: str, retry_after: float | None = None) -> None:
        """Wait before retry number ``attempt + 1``, or give up when retries are spent."""
        if attempt >= self.policy.max_retries:
            raise SinkError(
                f"Giving up on {self.display_url} after {attempt + 1} attempts: {trouble}.",
                KEPT_IN_LEDGER,
            )
        if retry_after is not None and retry_after > self.policy.max_wait:
            raise SinkError(
                f"{self.display_url} asks to wait {retry_after:.0f} s before retrying"
                f" ({trouble}), longer than the {self.policy.max_wait:.0f} s allowed.",
                KEPT_IN_LEDGER,
            )
        backoff = self.policy.backoff(attempt)
        self.retries += 1
        self.sleep(retry_after if retry_after is not None else backoff)

    def refusal(self, reply: Reply, detail: str | None = None) -> SinkError:
        """The error for a final non-success answer."""
        status = reply.status
        said = detail if detail is not None else self._snippet(reply)
        message = f"{self.display_url} answered HTTP {status}" + (f": {said}" if said else "")
        remedies = {
            401: self.hints.credentials,
            403: self.hints.permission,
            404: self.hints.not_found,
            413: self.hints.too_large,
        }
        if 300 <= status < 400:
            # Redirects are not followed: requests would replay POST bodies as GETs and pass
            # custom credential headers (DD-API-KEY, Splunk tokens) on to the new host.
            message = f"{self.display_url} answered HTTP {status} (a redirect)"
            remedies[status] = "Put the final URL (the Location it redirects to) in the sink."
        remedy = remedies.get(status, "Check the sink URL and the service's logs.")
        return SinkError(f"{message}.", f"{remedy} {KEPT_IN_LEDGER}")

    def close(self) -> None:
        self._session.close()

    def _attempt(
        self, method: str, url: str, body: bytes | None, headers: Mapping[str, str] | None
    ) -> tuple[Reply | None, str]:
        """One request: the reply, or None and what went wrong when it is worth retrying."""
        self.requests_made += 1
        deadline = time.monotonic() + DEADLINE_PER_TIMEOUT * self.policy.timeout
        try:
            raw = self._session.request(
                method,
                url,
                data=body,
                headers=headers,
                timeout=self.policy.timeout,
                allow_redirects=False,
                stream=True,
            )
            # A reply is read within bounds: a hostile or broken endpoint cannot make the
            # collector hold gigabytes or wait forever (pipeledger.http.fetch).
            read_body(raw, MAX_BODY_BYTES, deadline)
        except OversizedResponse:
            raise SinkError(
                f"{self.display_url} answered with more than 64 MiB; no sink's reply is that"
                " large, so it was not read.",
                "Check that the sink URL points at the service itself. " + KEPT_IN_LEDGER,
            ) from None
        except requests.exceptions.SSLError:
            raise SinkError(
                f"The TLS certificate of {self.display_url} was not accepted.",
                "Point REQUESTS_CA_BUNDLE at the CA bundle that signed it. " + KEPT_IN_LEDGER,
            ) from None
        except requests.Timeout:
            return None, f"no answer within {self.policy.timeout:.0f} s"
        except requests.ConnectionError:
            return None, "could not connect (check the host and port, and that the service is up)"
        except requests.RequestException as error:
            raise SinkError(
                f"Cannot send to {self.display_url} ({type(error).__name__}).",
                "Check the sink URL.",
            ) from None
        headers_lower = {key.lower(): value for key, value in raw.headers.items()}
        reply = Reply(status=raw.status_code, headers=headers_lower, content=raw.content)
        return reply, f"HTTP {raw.status_code}"

    def _snippet(self, reply: Reply) -> str:
        text = reply.content[:300].decode("utf-8", "replace").strip()
        return one_line(self._masker.mask(" ".join(text.split())))


@dataclass(frozen=True)
class BatchLimits:
    """How much one request may carry: URL options ``batch_size`` and ``max_bytes``, capped
    by what the service accepts."""

    count: int
    size: int

    @classmethod
    def from_options(
        cls,
        options: Callable[[str, int, int, int], int],
        default: BatchLimits,
        ceiling: BatchLimits,
    ) -> BatchLimits:
        return cls(
            count=options("batch_size", default.count, 1, ceiling.count),
            size=options("max_bytes", default.size, 1024, ceiling.size),
        )


def batched(
    pieces: Iterable[tuple[T, bytes]], limits: BatchLimits, overhead: int = 1
) -> Iterator[list[tuple[T, bytes]]]:
    """Groups (item, serialized piece) pairs into batches within ``limits``, lazily, so
    pieces are serialized only as batches are needed. An item larger than ``limits.size``
    travels alone (the server decides about it); ``overhead`` is each piece's separator."""
    batch: list[tuple[T, bytes]] = []
    size = 0
    for item, piece in pieces:
        cost = len(piece) + overhead
        if batch and (len(batch) >= limits.count or size + cost > limits.size):
            yield batch
            batch, size = [], 0
        batch.append((item, piece))
        size += cost
    if batch:
        yield batch
