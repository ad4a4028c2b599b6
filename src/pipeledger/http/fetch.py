"""One API GET as a hostile server cannot abuse it.

- Redirects are followed here, not by requests, and only on the API's own root
  (:mod:`pipeledger.http.origin`): a redirect elsewhere is refused before anything is sent
  there. requests would follow it and strip only ``Authorization``, passing GitLab's
  ``PRIVATE-TOKEN`` and ``JOB-TOKEN`` headers on to the other host.
- The body is read in chunks, at most ``max_body`` bytes after decompression (a gzip bomb
  stops there too) and within ``deadline`` seconds for the whole response, so a server that
  trickles a byte every few seconds cannot hold a run forever (each read alone is bounded
  by the request timeout).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

from pipeledger.errors import MalformedResponse, PlatformError
from pipeledger.http.origin import ApiOrigin

MAX_BODY_BYTES = 64 * 1024 * 1024
# A whole response may take this many request timeouts (300 s at the default 30 s).
DEADLINE_PER_TIMEOUT = 10
MAX_REDIRECTS = 5
REDIRECT_STATUS = frozenset({301, 302, 303, 307, 308})
KEEPS_BODY = frozenset({307, 308})  # redirects a POST may follow with its body
CHUNK = 64 * 1024


@dataclass(frozen=True)
class FetchLimits:
    max_body: int = MAX_BODY_BYTES
    deadline: float = 300.0  # seconds for one response, request to last byte


def limits_for(timeout: float) -> FetchLimits:
    return FetchLimits(deadline=DEADLINE_PER_TIMEOUT * timeout)


class DeadlineExceeded(requests.Timeout):
    """The response took longer than the deadline; retried like a timeout."""


class TruncatedBody(requests.ConnectionError):
    """The connection broke inside the body; retried like a connection error."""


class OversizedResponse(MalformedResponse):
    """A body larger than any page the API sends; not retried (exit 3)."""


def fetch(
    session: requests.Session,
    origin: ApiOrigin,
    url: str,
    *,
    params: Mapping[str, str] | None,
    headers: Mapping[str, str],
    timeout: float,
    limits: FetchLimits,
    clock: Callable[[], float] = time.monotonic,
    body: bytes | None = None,
) -> requests.Response:
    """GET ``url`` (already checked to lie under ``origin``), or POST ``body`` to it; the
    response's ``url`` is the last one requested and its ``content`` is already read. A POST
    follows only the redirects that keep its method and body (307, 308)."""
    deadline = clock() + limits.deadline
    for _ in range(MAX_REDIRECTS + 1):
        raw = session.request(
            "GET" if body is None else "POST",
            url,
            params=params,
            data=body,
            headers=headers,
            timeout=timeout,
            allow_redirects=False,
            stream=True,
        )
        location = raw.headers.get("location")
        follows = REDIRECT_STATUS if body is None else KEEPS_BODY
        if raw.status_code not in follows or not location:
            read_body(raw, limits.max_body, deadline, clock)
            return raw
        raw.close()
        what = f"a redirect (HTTP {raw.status_code}) of {urlsplit(raw.url).path}"
        url = origin.resolve(location, base=raw.url, what=what)
        params = None  # the Location carries its own query
    raise PlatformError(
        f"The API at {origin.base_url} redirected {urlsplit(url).path} more than"
        f" {MAX_REDIRECTS} times.",
        "A proxy in front of the API loops; check its configuration and --api-url.",
    )


def read_body(
    raw: requests.Response,
    max_body: int,
    deadline: float,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Read a ``stream=True`` response into ``raw.content``: at most ``max_body`` bytes
    (else OversizedResponse) before ``deadline`` (else DeadlineExceeded, a Timeout)."""
    declared = raw.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_body:
        raw.close()
        raise _oversized(raw, max_body)
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in raw.iter_content(CHUNK):
            size += len(chunk)
            if size > max_body:
                raw.close()
                raise _oversized(raw, max_body)
            if clock() > deadline:
                raw.close()
                raise DeadlineExceeded(f"{_host(raw)} did not finish its answer in time")
            chunks.append(chunk)
    except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError):
        raw.close()
        raise TruncatedBody(f"{_host(raw)} broke off its answer") from None
    raw._content = b"".join(chunks)
    raw.close()  # the body is consumed: this returns the connection to the pool


def _oversized(raw: requests.Response, max_body: int) -> OversizedResponse:
    return OversizedResponse(
        f"{_host(raw)} answered {urlsplit(raw.url).path} with more than {_size(max_body)};"
        " no API page is that large, so it was not read.",
        "A proxy or a server that is not the API answered; check --api-url. What was"
        " collected before is saved.",
    )


def _size(count: int) -> str:
    mib = 1024 * 1024
    return f"{count // mib} MiB" if count % mib == 0 else f"{count:,} bytes"


def _host(raw: requests.Response) -> str:
    return urlsplit(raw.url).netloc or "the API"
