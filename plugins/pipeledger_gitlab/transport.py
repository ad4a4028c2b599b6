"""python-gitlab on the core's HTTP client.

``gitlab.Gitlab`` builds every REST request — the URL, its query, and the next page of a list
through its ``GitlabList`` (offset and keyset pagination alike, ``keep_base_url`` so a next
link with GitLab's internal host is asked of the API root the user gave). It is handed an
:class:`AccountedSession` instead of a plain ``requests.Session``: each request python-gitlab
makes goes through :class:`pipeledger.plugin.ApiClient`, which keeps what python-gitlab
does not do for us — requests counted, one rate-limit budget shared by concurrent projects,
waits bounded by ``--max-wait`` and shown, retries with backoff, bodies read with a size
limit, credentials sent only under the API root, and every refusal turned into a
pipeledger error with a remedy. python-gitlab's own retries and rate-limit sleeps are off:
it only ever sees a successful answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import requests
from requests.structures import CaseInsensitiveDict

from pipeledger.plugin import ApiClient, ApiResponse

# python-gitlab's request options that would make it retry or sleep by itself.
NO_RETRIES: Mapping[str, Any] = {
    "obey_rate_limit": False,
    "retry_transient_errors": False,
    "max_retries": 0,
}


class AnsweredResponse(requests.Response):
    """A successful answer the core's client has already read and parsed (once, within its
    size limit); ``json()`` hands python-gitlab that parsed body."""

    def __init__(self, answer: ApiResponse, link: str | None) -> None:
        super().__init__()
        self.status_code = answer.status
        self.url = answer.url
        headers = dict(answer.headers)
        if link is not None:
            headers["link"] = link
        self.headers = CaseInsensitiveDict(headers)
        self._content = b""
        self._content_consumed = True
        self._answer = answer.body

    def json(self, **_: Any) -> Any:
        return self._answer


class AccountedSession(requests.Session):
    """The session python-gitlab talks through: a GET goes to the core's client, anything
    else is refused (pipeledger reads GitLab, it never writes to it). The headers, timeout and
    TLS settings python-gitlab passes are not used: the core's client holds the token, which
    it sends only under the API root, and its own limits."""

    def __init__(self, api: ApiClient) -> None:
        super().__init__()
        self._api = api

    def request(  # type: ignore[override]  # python-gitlab calls it with keywords only
        self, method: str, url: str, params: Mapping[str, Any] | None = None, **_: Any
    ) -> requests.Response:
        if method.upper() != "GET":
            raise ValueError(f"pipeledger does not send {method.upper()} requests to GitLab")
        query = _single_values(params or {})
        answer = self._api.get(url, query)
        return AnsweredResponse(answer, _link_from_next_page(answer, url, query))


def _single_values(params: Mapping[str, Any]) -> dict[str, str]:
    """python-gitlab gives a next link's own query as lists (``parse_qs``); GitLab's list
    parameters pipeledger uses each have one value."""
    flat: dict[str, str] = {}
    for name, value in params.items():
        values = value if isinstance(value, list) else [value]
        if len(values) != 1:
            raise ValueError(f"query parameter {name!r} has {len(values)} values")
        flat[name] = str(values[0])
    return flat


def _link_from_next_page(answer: ApiResponse, url: str, query: Mapping[str, str]) -> str | None:
    """A ``Link: rel="next"`` made from ``X-Next-Page`` when a proxy dropped GitLab's Link
    header (offset pages only; keyset pages always come with Link), so python-gitlab's list
    walks on; None when the answer needs none."""
    if answer.next_url() is not None:
        return None
    page = answer.headers.get("x-next-page", "").strip()
    if not page.isdigit():
        return None
    target = f"{url}?{urlencode({**query, 'page': page})}"
    existing = answer.headers.get("link", "").strip()
    return f'{existing + ", " if existing else ""}<{target}>; rel="next"'
