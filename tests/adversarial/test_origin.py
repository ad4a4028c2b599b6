"""Which URLs count as the API's own: scheme, host, port and path prefix, with the tricks a
hostile Link or Location header can play (relative, scheme-relative, dot segments, user info,
look-alike hosts)."""

from __future__ import annotations

import pytest

from pipeledger.http.origin import ApiOrigin, ForeignUrl

GHES = ApiOrigin.of("https://ghe.example.com/api/v3")


@pytest.mark.parametrize(
    "url",
    [
        "https://ghe.example.com/api/v3/repos/a/b?page=2",
        "https://GHE.example.com:443/api/v3/repos/a/b",
        "HTTPS://ghe.example.com/api/v3",
        "https://ghe.example.com/api/v3/projects/acme%2Fweb/pipelines",
    ],
)
def test_urls_under_the_root_are_its_own(url: str) -> None:
    assert GHES.contains(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example.net/api/v3/repos/a/b",  # another host
        "http://ghe.example.com/api/v3/repos",  # another scheme
        "https://ghe.example.com:8443/api/v3/repos",  # another port
        "https://ghe.example.com/api/v30/repos",  # a look-alike prefix
        "https://ghe.example.com/other/api/v3",  # outside the prefix
        "https://ghe.example.com/api/v3/../../admin",  # dot segments climbing out
        "https://ghe.example.com/api/v3/%2e%2e/admin",  # encoded dot segments
        "https://ghe.example.com/api/v3/a%5c..%5cb",  # backslashes some servers turn into /
        "https://ghe.example.com.evil.example.net/api/v3/repos",  # a look-alike host
        "https://ghe.example.com@evil.example.net/api/v3/repos",  # user info trick
        "https://user:pw@ghe.example.com/api/v3/repos",  # credentials of its own
        "https://ghe.example.com:notaport/api/v3",
        "/api/v3/repos",  # not absolute
        "javascript:alert(1)",
    ],
)
def test_anything_else_is_foreign(url: str) -> None:
    assert not GHES.contains(url)


def test_api_paths_resolve_under_the_root() -> None:
    assert GHES.resolve("/repos/a/b") == "https://ghe.example.com/api/v3/repos/a/b"


@pytest.mark.parametrize(
    "link",
    [
        "//evil.example.net/api/v3/repos?page=2",  # scheme-relative: another host
        "https://evil.example.net/api/v3/repos?page=2",
        "../../../../../admin?page=2",  # relative, climbing out of the prefix
    ],
)
def test_a_foreign_link_is_refused_naming_it(link: str) -> None:
    base = "https://ghe.example.com/api/v3/repos/a/b/deployments"
    with pytest.raises(ForeignUrl) as refused:
        GHES.resolve(link, base=base, what="the next page")
    message = refused.value.describe()
    assert "not requested" in message and "no credentials were sent" in message
    assert "next page" in message


def test_a_relative_link_on_the_same_root_is_followed() -> None:
    base = "https://ghe.example.com/api/v3/repos/a/b/deployments"
    assert GHES.resolve("?page=2", base=base).endswith("/api/v3/repos/a/b/deployments?page=2")


def test_a_foreign_url_in_an_error_is_redacted_and_on_one_line() -> None:
    with pytest.raises(ForeignUrl) as refused:
        GHES.resolve("https://evil.example.net/x?token=abcd1234\n::error::pwned")
    text = refused.value.describe()
    assert "abcd1234" not in text
    assert "\n" not in text


def test_only_paths_under_the_root_are_stored() -> None:
    assert GHES.relative("https://ghe.example.com/api/v3/repos/a?page=2") == "/repos/a?page=2"
    assert GHES.relative("https://evil.example.net/api/v3/repos/a?page=2") is None


def test_default_ports_are_the_same_origin() -> None:
    assert ApiOrigin.of("http://gitlab.test:80/api/v4").contains("http://gitlab.test/api/v4/x")
    assert ApiOrigin.of("http://127.0.0.1:8080").contains("http://127.0.0.1:8080/x")
    assert not ApiOrigin.of("http://127.0.0.1:8080").contains("http://127.0.0.1:8081/x")
    assert not ApiOrigin.of("http://127.0.0.1:8080").contains("http://localhost:8080/x")
