"""What ``requests`` raises, told as the project's own errors with what to do about it.

A failure worth retrying (timeout, refused or dropped connection, a body cut off mid-way) is
``transient``; :class:`~pipeledger.http.client.ApiClient` retries those and says so. Anything else
(a URL that is not one, TLS that does not verify, a redirect loop) would fail the same way
again and leaves at once, never as a traceback.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import requests

from pipeledger.errors import MalformedResponse, PipeledgerError, PlatformError, UsageError

TRANSIENT: tuple[type[requests.RequestException], ...] = (
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
    requests.ConnectionError,
)
# Subclasses of ConnectionError that retrying cannot fix.
PERMANENT: tuple[type[requests.RequestException], ...] = (requests.exceptions.SSLError,)
CUT_SHORT = (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)
RESUME = "What was collected before is saved; a rerun resumes from there."


def is_transient(error: requests.RequestException) -> bool:
    return isinstance(error, TRANSIENT) and not isinstance(error, PERMANENT)


def host_of(url: str) -> str:
    try:
        return urlsplit(url).netloc or url
    except ValueError:
        return url


def failure_reason(error: requests.RequestException, url: str) -> str:
    """Short, for a retry notice: ``127.0.0.1:9 unreachable``."""
    host = host_of(url)
    if isinstance(error, requests.Timeout):
        return f"{host} did not answer in time"
    if isinstance(error, requests.exceptions.ProxyError):
        return f"the proxy to {host} failed"
    if isinstance(error, CUT_SHORT):
        return f"{host} cut its answer short"
    return f"{host} unreachable"


def request_error(error: requests.RequestException, url: str, base_url: str) -> PipeledgerError:
    """A failure that retrying will not fix, as an error that names the fix."""
    host = host_of(url)
    own_url = url.startswith(base_url)
    if isinstance(
        error,
        requests.exceptions.InvalidURL
        | requests.exceptions.MissingSchema
        | requests.exceptions.InvalidSchema,
    ):
        if own_url:
            return UsageError(
                f"The API URL {base_url!r} is not a usable URL ({type(error).__name__}).",
                "Pass --api-url as the API root, e.g. https://api.github.com or"
                " https://gitlab.example.com/api/v4.",
            )
        return MalformedResponse(
            f"The API at {host_of(base_url)} pointed to a URL that cannot be requested: {url!r}.",
            f"This is a fault of the API or a proxy in between. {RESUME}",
        )
    if isinstance(error, requests.exceptions.SSLError):
        return PlatformError(
            f"The TLS certificate of {host} could not be verified.",
            "If the server uses a private CA, point REQUESTS_CA_BUNDLE at its certificate"
            " bundle; otherwise check --api-url and any intercepting proxy.",
        )
    if isinstance(error, requests.TooManyRedirects):
        return PlatformError(
            f"{host} redirected too many times for {urlsplit(url).path}.",
            "Check --api-url: it should be the API root itself, not a page that redirects.",
        )
    if is_transient(error):
        return PlatformError(
            f"Giving up: {failure_reason(error, url)} ({type(error).__name__}).",
            f"Check the network and --api-url. {RESUME}",
        )
    return PlatformError(
        f"The request to {host} failed: {type(error).__name__}.",
        f"Check the network, any proxy and --api-url. {RESUME}",
    )
