"""Where the GitHub API is and how to authenticate to it: a token from GITHUB_TOKEN/GH_TOKEN,
or a GitHub App installation token made with PyGithub from the PIPELEDGER_GITHUB_APP_* variables.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from pipeledger.plugin import PermissionDenied, PlatformError, UsageError, hold

DEFAULT_API_URL = "https://api.github.com"
TOKEN_VARIABLES = ("GITHUB_TOKEN", "GH_TOKEN")
APP_ID = "PIPELEDGER_GITHUB_APP_ID"
APP_KEY = "PIPELEDGER_GITHUB_APP_PRIVATE_KEY"
APP_KEY_PATH = "PIPELEDGER_GITHUB_APP_PRIVATE_KEY_PATH"
APP_INSTALLATION = "PIPELEDGER_GITHUB_APP_INSTALLATION_ID"
# The host name events are recorded under, for an API reached through a proxy or tunnel.
INSTANCE_OVERRIDE = "PIPELEDGER_GITHUB_INSTANCE"


@dataclass(frozen=True)
class Endpoint:
    api_url: str
    instance: str


def resolve_endpoint(api_url: str | None, environ: Mapping[str, str]) -> Endpoint:
    """``--api-url`` > GITHUB_API_URL > api.github.com; the instance is the web host."""
    url = (api_url or environ.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(
            f"--api-url {url!r} is not an http(s) URL.",
            "Use https://api.github.com, or https://HOST/api/v3 for GitHub Enterprise Server.",
        )
    return Endpoint(api_url=url, instance=environ.get(INSTANCE_OVERRIDE) or instance_of(url))


def instance_of(api_url: str) -> str:
    """``https://api.github.com`` → github.com; ``https://ghe.example.com/api/v3`` → its host."""
    parts = urlsplit(api_url)
    host = (parts.hostname or "").lower()
    if host == "api.github.com":
        return "github.com"
    if parts.port:
        return f"{host}:{parts.port}"
    return host


def resolve_token(environ: Mapping[str, str], api_url: str) -> str:
    """A token from the environment, or a GitHub App installation token; never from flags."""
    for name in TOKEN_VARIABLES:
        if environ.get(name):
            return str(hold(environ[name]))
    if environ.get(APP_ID):
        return app_installation_token(environ, api_url)
    raise UsageError(
        "No GitHub credentials: none of GITHUB_TOKEN, GH_TOKEN or PIPELEDGER_GITHUB_APP_ID is set.",
        "Set GITHUB_TOKEN (or GH_TOKEN) to a token that can read Actions, Deployments and Pull"
        f" requests, or set {APP_ID}, {APP_KEY} (or {APP_KEY_PATH}) and {APP_INSTALLATION}"
        " for a GitHub App.",
    )


def token_renewer(environ: Mapping[str, str], api_url: str) -> Callable[[], str] | None:
    """For a GitHub App, how to get a fresh installation token (they live one hour); a
    personal or workflow token cannot be renewed, so None."""
    if any(environ.get(name) for name in TOKEN_VARIABLES) or not environ.get(APP_ID):
        return None
    return lambda: app_installation_token(environ, api_url)


def app_installation_token(environ: Mapping[str, str], api_url: str) -> str:
    app_id = environ[APP_ID].strip()
    installation = _installation_id(environ)
    key = _private_key(environ)
    try:
        import jwt
        from github import Auth, GithubException, GithubIntegration
    except ImportError as error:  # pragma: no cover - PyGithub is a core dependency
        raise UsageError(
            f"GitHub App authentication needs PyGithub ({error}).",
            "Install it with: pip install 'PyGithub>=2.3'.",
        ) from None
    try:
        auth = Auth.AppAuth(app_id, key)
        auth.create_jwt()  # signs with the key: an unusable key fails here, before any request
    except (ValueError, TypeError, jwt.PyJWTError) as error:
        raise UsageError(
            f"Cannot sign in as GitHub App {app_id}: the private key is not usable"
            f" ({type(error).__name__}).",
            f"Put the app's PEM private key in {APP_KEY} or a file named by {APP_KEY_PATH}.",
        ) from None
    try:
        integration = GithubIntegration(auth=auth, base_url=api_url)
        return str(hold(str(integration.get_access_token(installation).token)))
    except GithubException as error:
        raise _app_refused(error.status, app_id, installation) from None
    except (ValueError, TypeError, KeyError, AttributeError):
        # PyGithub does not follow a 302/307 here: an empty answer is not a token.
        raise PlatformError(
            f"{api_url} did not answer the GitHub App installation token request with a"
            " token (a redirect, or a server that is not the GitHub API).",
            "Give --api-url as the API reports its own URLs; nothing was sent elsewhere.",
        ) from None
    except RuntimeError:
        # PyGithub refuses a redirect to another host (or path) rather than follow it with
        # the app's JWT; nothing was sent there.
        raise PlatformError(
            f"{api_url} redirected the GitHub App installation token request elsewhere; it"
            " was not followed and no credentials were sent there.",
            "Give --api-url as the API reports its own URLs (a proxy in front of it may"
            " rewrite them).",
        ) from None
    except OSError as error:
        raise PlatformError(
            f"Cannot reach {api_url} to get a GitHub App installation token"
            f" ({type(error).__name__}).",
            "Check the network and --api-url.",
        ) from None


def _installation_id(environ: Mapping[str, str]) -> int:
    raw = environ.get(APP_INSTALLATION, "").strip()
    if not raw.isdigit():
        raise UsageError(
            f"{APP_INSTALLATION} is {'not set' if not raw else 'not a number'}.",
            "Set it to the installation id shown in the app's installation URL"
            " (…/settings/installations/<id>).",
        )
    return int(raw)


def _private_key(environ: Mapping[str, str]) -> str:
    if environ.get(APP_KEY):
        return str(hold(environ[APP_KEY].replace("\\n", "\n")))
    path = environ.get(APP_KEY_PATH)
    if not path:
        raise UsageError(
            f"{APP_ID} is set but the app's private key is not.",
            f"Set {APP_KEY} to the PEM text or {APP_KEY_PATH} to the .pem file.",
        )
    try:
        return str(hold(Path(path).read_text(encoding="utf-8")))
    except OSError as error:
        raise UsageError(
            f"Cannot read the GitHub App private key file {path} ({error.strerror}).",
            f"Point {APP_KEY_PATH} at the app's .pem file.",
        ) from None


def _app_refused(status: int, app_id: str, installation: int) -> PermissionDenied | PlatformError:
    if status in (401, 403, 404):
        return PermissionDenied(
            f"GitHub refused an installation token for app {app_id}, installation"
            f" {installation} (HTTP {status}).",
            f"Check {APP_ID}, {APP_INSTALLATION} and that the private key belongs to that app"
            " and is not revoked.",
        )
    return PlatformError(
        f"GitHub answered HTTP {status} when asked for an installation token of app {app_id}.",
        "Try again later; check https://www.githubstatus.com.",
    )


def app_jwt(environ: Mapping[str, str], now: float | None = None) -> str:
    """The GitHub App's own JSON Web Token (RS256, valid 9 minutes, issued a minute in the
    past against clock drift): what asks GitHub for installation tokens."""
    import time

    import jwt

    app_id = environ.get(APP_ID, "").strip()
    if not app_id:
        raise UsageError(
            f"{APP_ID} is not set.",
            f"Set {APP_ID}, and {APP_KEY} (or {APP_KEY_PATH}), to the GitHub App's id and key.",
        )
    issued = int(now if now is not None else time.time()) - 60
    try:
        return jwt.encode(
            {"iat": issued, "exp": issued + 600, "iss": app_id},
            _private_key(environ),
            algorithm="RS256",
        )
    except (ValueError, TypeError, jwt.PyJWTError) as error:
        raise UsageError(
            f"Cannot sign in as GitHub App {app_id}: the private key is not usable"
            f" ({type(error).__name__}).",
            f"Put the app's PEM private key in {APP_KEY} or a file named by {APP_KEY_PATH}.",
        ) from None


def installation_token(
    environ: Mapping[str, str], api_url: str, installation: int, timeout: float = 30.0
) -> str:
    """An installation token of the App for ``installation`` (from a delivery's
    ``installation.id``), via ``POST /app/installations/{id}/access_tokens``."""
    import requests

    from pipeledger.plugin import environment_session

    url = f"{api_url.rstrip('/')}/app/installations/{installation}/access_tokens"
    headers = {
        "Authorization": f"Bearer {app_jwt(environ)}",
        "Accept": "application/vnd.github+json",
    }
    try:
        answer = environment_session(api_url).post(url, headers=headers, timeout=timeout)
    except requests.RequestException as error:
        raise PlatformError(
            f"Cannot reach {api_url} to get a GitHub App installation token"
            f" ({type(error).__name__}).",
            "Check the network and --api-url.",
        ) from None
    if answer.status_code not in (200, 201):
        raise _app_refused(answer.status_code, environ.get(APP_ID, "?"), installation)
    try:
        token = answer.json()["token"]
    except (ValueError, KeyError, TypeError):
        token = None
    if not isinstance(token, str) or not token:
        raise PlatformError(
            f"GitHub answered the installation token request of {api_url} without a token."
        )
    return token
