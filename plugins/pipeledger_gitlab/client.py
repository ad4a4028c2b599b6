"""GitLab REST v4 through python-gitlab on the core's ApiClient (:mod:`.transport`): token
headers, GitLab's refusals turned into errors that name the missing scope, and both of
GitLab's pagination styles."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlsplit

from pipeledger.plugin import (
    ApiClient,
    ApiResponse,
    MalformedResponse,
    PermissionDenied,
    PipeledgerError,
    PlatformError,
    Progress,
    RateLimitHeaders,
    RetryPolicy,
    UsageError,
    environment_session,
    hold,
    one_line,
)
from pipeledger_gitlab.transport import NO_RETRIES

if TYPE_CHECKING:
    import gitlab

DEFAULT_API_URL = "https://gitlab.com/api/v4"
# GitLab serves GraphQL at /api/graphql, beside the REST root /api/v4.
REST_ROOT_SUFFIX = "/v4"
GRAPHQL_PATH = "/graphql"
PER_PAGE = 100
RATE_HEADERS = RateLimitHeaders(remaining="ratelimit-remaining", reset="ratelimit-reset")
READ_API_REMEDY = (
    "Set GITLAB_TOKEN to a personal, group or project access token with the read_api scope"
    " (read_repository or read_user are not enough)."
)

# How GitLab takes each kind of token: a job token has a header of its own.
BEARER = "Authorization"
JOB_TOKEN_HEADER = "JOB-TOKEN"  # noqa: S105 (a header name, not a secret)
PRIVATE_TOKEN_HEADER = "PRIVATE-TOKEN"  # noqa: S105 (a header name, not a secret)

JsonObject = dict[str, Any]
JsonItem = Mapping[str, Any]
Params = Mapping[str, str]


class GitLabNotFound(PlatformError):
    """GitLab answered 404: the thing does not exist or the token cannot see it."""


@dataclass(frozen=True)
class Credentials:
    """Which token is used and how GitLab expects it: a job token has its own header.
    ``variable`` names where it came from, for messages; ``verify`` is how the instance's
    certificate is checked when a python-gitlab configuration says so (False, or a CA
    bundle's path), None for the environment's settings."""

    variable: str
    header: str
    value: str
    verify: bool | str | None = None

    @property
    def is_job_token(self) -> bool:
        return self.header == JOB_TOKEN_HEADER


def find_credentials(environ: Mapping[str, str]) -> Credentials | None:
    """GITLAB_TOKEN first (any token GitLab accepts as Bearer), else the CI job token."""
    token = environ.get("GITLAB_TOKEN", "").strip()
    hold(token)
    if token:
        return Credentials("GITLAB_TOKEN", BEARER, f"Bearer {token}")
    return job_token_credentials(environ)


def job_token_credentials(environ: Mapping[str, str]) -> Credentials | None:
    """The running job's own token, which alone can say which job is running (GET /job)."""
    job_token = environ.get("CI_JOB_TOKEN", "").strip()
    hold(job_token)
    return Credentials("CI_JOB_TOKEN", JOB_TOKEN_HEADER, job_token) if job_token else None


def resolve_api_url(api_url: str | None, environ: Mapping[str, str]) -> str:
    """--api-url, else CI_API_V4_URL (inside GitLab CI), else gitlab.com."""
    url = (api_url or environ.get("CI_API_V4_URL") or DEFAULT_API_URL).rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(
            f"--api-url {url!r} is not an http(s) URL.",
            "Give the API root as GitLab CI exposes it in CI_API_V4_URL, e.g."
            " https://gitlab.example.com/api/v4.",
        )
    return url


def instance_of(api_url: str) -> str:
    """The host (with a non-default port) that identifies the GitLab instance in events."""
    parts = urlsplit(api_url)
    host = (parts.hostname or "").lower()
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return f"{host}:{parts.port}" if parts.port and parts.port != default else host


def encode_path(path_or_id: str | int) -> str:
    """A project or group for a URL: a numeric id as-is, a full path URL-encoded."""
    return quote(str(path_or_id).strip("/"), safe="")


def graphql_root(api_url: str) -> str | None:
    """``https://HOST/api`` for ``https://HOST/api/v4``; None for a root elsewhere (a proxy's
    own path), where GraphQL's address is unknown."""
    url = api_url.rstrip("/")
    return url[: -len(REST_ROOT_SUFFIX)] if urlsplit(url).path.endswith("/api/v4") else None


class GitLabClient:
    """GET requests against one GitLab API root, made by python-gitlab and sent by the core's
    client, and read-only GraphQL queries beside it; every failure leaves as a pipeledger
    error."""

    def __init__(
        self,
        api_url: str,
        credentials: Credentials,
        policy: RetryPolicy,
        progress: Progress | None = None,
        *,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.credentials = credentials
        extra: dict[str, Any] = {}
        if sleep is not None:
            extra["sleep"] = sleep
        if clock is not None:
            extra["clock"] = clock
        if credentials.verify is not None:
            session = environment_session(self.api_url)
            session.verify = credentials.verify
            extra["session"] = session
        self._api = ApiClient(
            self.api_url,
            {credentials.header: credentials.value, "Accept": "application/json"},
            rate_headers=RATE_HEADERS,
            translate_error=ErrorTranslator(self.api_url, credentials),
            policy=policy,
            progress=progress,
            **extra,
        )
        self._gitlab = _python_gitlab(self.api_url, self._api)
        # A job token cannot use GraphQL; it stays on REST.
        root = None if credentials.is_job_token else graphql_root(self.api_url)
        self._graphql = self._api.sibling(root) if root else None

    @property
    def requests_made(self) -> int:
        graphql = self._graphql.requests_made if self._graphql else 0
        return self._api.requests_made + graphql

    @property
    def speaks_graphql(self) -> bool:
        """False for a job token and for an API root not at ``/api/v4``."""
        return self._graphql is not None

    def graphql(self, query: str, variables: Mapping[str, Any]) -> JsonObject | None:
        """GraphQL's answer, or None (no GraphQL here — a 404 —, any other failure, an answer
        that is not an object): see ``ApiClient.graphql``."""
        return self._graphql.graphql(GRAPHQL_PATH, query, variables) if self._graphql else None

    def page(self, path: str, params: Params | None = None) -> list[JsonItem]:
        """One page of a list at per_page=100 (the caller decides what comes next)."""
        return _items(self._listing(path, params, get_all=False), path)

    def get_object(self, path: str, params: Params | None = None) -> JsonObject:
        answer = self._gitlab.http_request(
            "get", self._url(path), query_data=dict(params or {}), **NO_RETRIES
        )
        body = answer.json()
        if not isinstance(body, dict):
            raise _malformed(path, "an object")
        return body

    def pages(self, path: str, params: Params | None = None) -> Iterator[list[JsonItem]]:
        """Every item of a list in pages of 100, as python-gitlab walks it: ``Link:
        rel="next"`` (offset and keyset alike), else ``X-Next-Page`` when a proxy dropped the
        Link header. Each page is yielded before the next is asked for."""
        page: list[JsonItem] = []
        for item in _checked(self._listing(path, params, iterator=True), path):
            page.append(item)
            if len(page) == PER_PAGE:
                yield page
                page = []
        if page:
            yield page

    def list_all(self, path: str, params: Params | None = None) -> list[JsonItem]:
        return _items(self._listing(path, params, iterator=True), path)

    def _listing(self, path: str, params: Params | None, **how: Any) -> Iterable[Any]:
        """python-gitlab's list at per_page=100: ``iterator=True`` walks every page,
        ``get_all=False`` reads the first only."""
        query = {**(params or {}), "per_page": str(PER_PAGE)}
        return self._gitlab.http_list(self._url(path), query, **how, **NO_RETRIES)

    def _url(self, path: str) -> str:
        """The whole URL, so python-gitlab adds no root of its own (the API root may be a
        proxy's path); a URL GitLab gave is passed on, and the core's client refuses it
        unless it lies under the API root."""
        return path if "://" in path else f"{self.api_url}{path}"


def _python_gitlab(api_url: str, api: ApiClient) -> gitlab.Gitlab:
    """python-gitlab for this API root, talking through the core's client. Imported here, so
    only a GitLab run pays for it."""
    import gitlab

    from pipeledger_gitlab.transport import AccountedSession

    instance = api_url.removesuffix("/api/v4")
    return gitlab.Gitlab(
        instance,
        session=AccountedSession(api),
        keep_base_url=True,
        retry_transient_errors=False,
    )


def _checked(listing: Iterable[Any], path: str) -> Iterator[JsonItem]:
    """The items of a list as python-gitlab walks it, each an object; a page that is not a
    list (python-gitlab indexes it) is malformed."""
    try:
        for item in listing:
            if not isinstance(item, dict):
                raise _malformed(path, "a list of objects")
            yield item
    except (KeyError, TypeError):
        raise _malformed(path, "a list of objects") from None


def _items(listing: Iterable[Any], path: str) -> list[JsonItem]:
    return list(_checked(listing, path))


def _malformed(path: str, expected: str) -> MalformedResponse:
    return MalformedResponse(
        f"GitLab answered {unquote(path)} with something that is not {expected}.",
        "Check that --api-url is the API root (https://HOST/api/v4), not the web address.",
    )


class ErrorTranslator:
    """Turns a refusal into an error saying which token, which resource and what to change."""

    def __init__(self, api_url: str, credentials: Credentials) -> None:
        self._base_path = urlsplit(api_url).path.rstrip("/")
        self._credentials = credentials

    def __call__(self, response: ApiResponse) -> PipeledgerError:
        what = self.describe(response.url)
        status = response.status
        detail = _message(response.body)
        if detail.startswith(str(status)):
            detail = ""  # GitLab's "403 Forbidden" says nothing the status does not
        if self._credentials.is_job_token and status in (401, 403, 404):
            return _job_token_refused(what, status)
        if status == 401:
            return self._unauthorized(what)
        if status == 403:
            return self._forbidden(what, detail, response.body)
        if status == 404:
            return self._not_found(what)
        return PlatformError(
            f"GitLab answered HTTP {status} for {what}{': ' + detail if detail else ''}.",
            "If this persists, check the GitLab status page; what was collected before is"
            " saved and a rerun resumes from there.",
        )

    def describe(self, url: str) -> str:
        path = unquote(urlsplit(url).path)
        if self._base_path and path.startswith(self._base_path):
            path = path[len(self._base_path) :]
        return path or "/"

    def _unauthorized(self, what: str) -> PipeledgerError:
        return PermissionDenied(
            f"GitLab rejected {self._credentials.variable} (401 Unauthorized) when reading {what}.",
            "The token is invalid, expired or revoked, or --api-url points at another"
            f" instance. {READ_API_REMEDY}",
        )

    def _forbidden(self, what: str, detail: str, body: Any) -> PipeledgerError:
        scope = body.get("error") == "insufficient_scope" if isinstance(body, dict) else False
        if scope:
            return PermissionDenied(
                f"{self._credentials.variable} lacks the read_api scope needed for {what}.",
                READ_API_REMEDY,
            )
        return PermissionDenied(
            f"GitLab refused {what} (403 Forbidden{': ' + detail if detail else ''}).",
            "The token needs the read_api scope and a role that can see it: Reporter for"
            " pipelines, deployments and merge requests; audit events also need GitLab"
            " Premium or Ultimate and the Maintainer (project) or Owner (group) role.",
        )

    def _not_found(self, what: str) -> PipeledgerError:
        return GitLabNotFound(
            f"GitLab found nothing at {what} (404).",
            "Check the project or group path and --api-url; GitLab also answers 404 when"
            f" {self._credentials.variable} cannot see a private project or group.",
        )


def _job_token_refused(what: str, status: int) -> PermissionDenied:
    # GitLab answers 401, 403 or 404 to a job token outside its short list of endpoints.
    return PermissionDenied(
        f"GitLab does not accept CI_JOB_TOKEN for {what} ({status}).",
        "A job token reaches only a few endpoints (its own job, deployments); pipelines,"
        " merge request approvals and audit events need a token with read_api. Add"
        " GITLAB_TOKEN as a masked CI/CD variable (a project access token with read_api and"
        " the Reporter role).",
    )


def _message(body: Any) -> str:
    if not isinstance(body, dict):
        return ""
    for key in ("message", "error_description", "error"):
        value = body.get(key)
        if isinstance(value, str) and value:
            return one_line(value, 200)
    return ""
