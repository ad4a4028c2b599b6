"""Credentials and endpoints: tokens from the environment only, GitHub App installation tokens,
GitHub Enterprise Server URLs."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest
import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from pipeledger.collect.adapter import AdapterSettings
from pipeledger.errors import ExitCode, PermissionDenied, UsageError
from pipeledger_github.adapter import GitHubAdapter
from pipeledger_github.auth import instance_of, resolve_endpoint, resolve_token

GHES = "https://ghe.example.com/api/v3"
NO_SUCH_KEY = Path(__file__).with_name(
    "no-such-app-key.pem"
)  # inside the repository, never created
# PyGithub spells out the port.
TOKEN_URL = re.compile(
    r"https://ghe\.example\.com(:443)?/api/v3/app/installations/77/access_tokens"
)


@cache
def private_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def app_environ(**extra: str) -> dict[str, str]:
    return {
        "PIPELEDGER_GITHUB_APP_ID": "4242",
        "PIPELEDGER_GITHUB_APP_PRIVATE_KEY": private_key(),
        "PIPELEDGER_GITHUB_APP_INSTALLATION_ID": "77",
    } | extra


@pytest.mark.parametrize(
    ("url", "instance"),
    [
        ("https://api.github.com", "github.com"),
        ("https://api.github.com/", "github.com"),
        (GHES, "ghe.example.com"),
        ("https://GHE.Example.com:8443/api/v3", "ghe.example.com:8443"),
    ],
)
def test_instance_is_the_web_host(url: str, instance: str) -> None:
    assert instance_of(url) == instance


def test_api_url_precedence() -> None:
    environ = {"GITHUB_API_URL": GHES}
    assert resolve_endpoint(None, environ).api_url == GHES
    assert resolve_endpoint("https://api.github.com/", environ).instance == "github.com"
    assert resolve_endpoint(None, {}).api_url == "https://api.github.com"
    override = {"PIPELEDGER_GITHUB_INSTANCE": "github.com"}
    assert resolve_endpoint("http://127.0.0.1:9999", override).instance == "github.com"


def test_api_url_must_be_http() -> None:
    with pytest.raises(UsageError, match="not an http"):
        resolve_endpoint("ghe.example.com", {})


def test_token_from_the_environment() -> None:
    assert resolve_token({"GITHUB_TOKEN": "a-token"}, GHES) == "a-token"
    assert resolve_token({"GH_TOKEN": "gh-token"}, GHES) == "gh-token"
    assert resolve_token({"GITHUB_TOKEN": "", "GH_TOKEN": "gh-token"}, GHES) == "gh-token"


def test_missing_credentials_say_what_to_set() -> None:
    with pytest.raises(UsageError) as missing:
        GitHubAdapter.create(AdapterSettings(api_url=None, environ={}))
    text = missing.value.describe()
    for name in ("GITHUB_TOKEN", "GH_TOKEN", "PIPELEDGER_GITHUB_APP_ID"):
        assert name in text
    assert missing.value.exit_code == ExitCode.USAGE


def test_adapter_for_enterprise_server() -> None:
    settings = AdapterSettings(api_url=GHES, environ={"GITHUB_TOKEN": "t0ken"})
    adapter = GitHubAdapter.create(settings)
    assert adapter.instance == "ghe.example.com"
    assert adapter.client.api.base_url == GHES


def test_github_app_installation_token() -> None:
    with responses.RequestsMock() as mock:
        mock.post(
            TOKEN_URL,
            json={"token": "ghs_installation", "expires_at": "2030-01-01T00:00:00Z"},
            status=201,
        )
        assert resolve_token(app_environ(), GHES) == "ghs_installation"
        sent = mock.calls[0].request.headers["Authorization"]
        assert sent.startswith("Bearer ")  # a JWT signed with the app's key


def test_github_app_key_from_a_file(tmp_path: Path) -> None:
    key_file = tmp_path / "app.pem"
    key_file.write_text(private_key())
    environ = app_environ(PIPELEDGER_GITHUB_APP_PRIVATE_KEY_PATH=str(key_file))
    del environ["PIPELEDGER_GITHUB_APP_PRIVATE_KEY"]
    with responses.RequestsMock() as mock:
        mock.post(
            TOKEN_URL,
            json={"token": "ghs_from_file", "expires_at": "2030-01-01T00:00:00Z"},
            status=201,
        )
        assert resolve_token(environ, GHES) == "ghs_from_file"


def test_github_app_refused() -> None:
    with responses.RequestsMock() as mock:
        mock.post(
            TOKEN_URL,
            json={"message": "A JSON web token could not be decoded"},
            status=401,
        )
        with pytest.raises(PermissionDenied, match="installation 77"):
            resolve_token(app_environ(), GHES)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"PIPELEDGER_GITHUB_APP_PRIVATE_KEY": "not a key"}, "private key is not usable"),
        ({"PIPELEDGER_GITHUB_APP_INSTALLATION_ID": ""}, "INSTALLATION_ID is not set"),
        ({"PIPELEDGER_GITHUB_APP_INSTALLATION_ID": "abc"}, "not a number"),
        ({"PIPELEDGER_GITHUB_APP_PRIVATE_KEY": ""}, "private key is not"),
        (
            {
                "PIPELEDGER_GITHUB_APP_PRIVATE_KEY": "",
                "PIPELEDGER_GITHUB_APP_PRIVATE_KEY_PATH": str(NO_SUCH_KEY),
            },
            "Cannot read",
        ),
    ],
)
def test_github_app_misconfiguration_is_a_usage_error(change: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError, match=message) as failed:
        resolve_token(app_environ(**change), GHES)
    assert private_key() not in failed.value.describe()


def test_an_expired_installation_token_is_renewed_once() -> None:
    """Installation tokens live an hour: a 401 mid-collection gets a new one, then carries on."""
    with responses.RequestsMock() as mock:
        mock.post(
            TOKEN_URL, json={"token": "ghs_first", "expires_at": "2030-01-01T00:00:00Z"}, status=201
        )
        mock.post(
            TOKEN_URL,
            json={"token": "ghs_second", "expires_at": "2030-01-01T01:00:00Z"},
            status=201,
        )
        repo = f"{GHES}/repos/acme/web"
        mock.get(
            repo,
            status=401,
            json={"message": "Bad credentials"},
            match=[responses.matchers.header_matcher({"Authorization": "Bearer ghs_first"})],
        )
        mock.get(
            repo,
            json={"full_name": "acme/web"},
            match=[responses.matchers.header_matcher({"Authorization": "Bearer ghs_second"})],
        )
        adapter = GitHubAdapter.create(AdapterSettings(api_url=GHES, environ=app_environ()))
        assert adapter.client.api.get("/repos/acme/web").body == {"full_name": "acme/web"}
        assert adapter.requests_made == 2


def test_a_personal_token_is_not_renewed_and_a_401_stays_an_error() -> None:
    from pipeledger_github.auth import token_renewer

    assert token_renewer({"GITHUB_TOKEN": "ghp_x"}, GHES) is None
    assert token_renewer({"GITHUB_TOKEN": "ghp_x", **app_environ()}, GHES) is None
    assert token_renewer(app_environ(), GHES) is not None
