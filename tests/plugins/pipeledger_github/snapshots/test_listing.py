"""Whole listings re-checked page by page: unchanged costs one 304 per page; a change on any
page, or an item added after a full last page, is seen."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pipeledger.collect.adapter import AdapterSettings
from pipeledger.collect.progress import SilentProgress
from pipeledger_github.client import GitHubClient
from pipeledger_github.listing import Listing, ListingReader, list_items
from tests.fakes.github_access import scenario_access
from tests.fakes.github_api import FakeGitHubServer
from tests.fakes.github_data import scenario_org

PATH = "/repos/acme/infra/collaborators"


@pytest.fixture
def server() -> Iterator[FakeGitHubServer]:
    with FakeGitHubServer(scenario_org(), access=scenario_access()) as fake:
        yield fake


def reader(server: FakeGitHubServer) -> ListingReader:
    settings = AdapterSettings(api_url=server.base_url, environ={}, max_retries=0)
    client = GitHubClient.build(server.base_url, "test-token", settings, SilentProgress())
    return ListingReader(client.api, lambda: None)


def read(server: FakeGitHubServer, stored: Listing | None = None) -> Listing:
    pages = stored.pages if stored else ()
    return reader(server).read(PATH, None, pages, list_items())


def add_collaborators(server: FakeGitHubServer, count: int, prefix: str = "user") -> None:
    with server.org.lock:
        people = server.access.repo("infra").collaborators
        people.update({f"{prefix}{n:03}": "read" for n in range(count)})


def logins(listing: Listing) -> list[str]:
    return [str(item["login"]) for item in listing.items or []]


def test_every_page_answers_304_when_nothing_changed(server: FakeGitHubServer) -> None:
    server.per_page_max = 2
    add_collaborators(server, 4)  # bob + 4: three pages
    first = read(server)
    assert len(first.pages) == 3 and len(logins(first)) == 5
    assert all(not page.url.startswith("http") for page in first.pages)  # relative to the root
    server.reset_log()
    again = read(server, first)
    assert again.unchanged
    assert [(r.status, r.had_if_none_match) for r in server.requests] == [(304, True)] * 3


def test_a_change_on_a_later_page_is_read_afresh(server: FakeGitHubServer) -> None:
    server.per_page_max = 2
    add_collaborators(server, 4)
    first = read(server)
    with server.org.lock:
        server.access.repo("infra").collaborators["user003"] = "admin"  # on the last page
    changed = read(server, first)
    assert not changed.unchanged
    assert logins(changed) == logins(first)
    assert len(changed.pages) == 3


def test_an_item_after_a_full_last_page_is_not_missed(server: FakeGitHubServer) -> None:
    add_collaborators(server, 99)  # bob + 99 = exactly one full page of 100
    first = read(server)
    assert len(first.pages) == 2  # the full page and the (empty) page after it
    add_collaborators(server, 1, prefix="zz")  # sorts last: page 1 is unchanged
    server.reset_log()
    changed = read(server, first)
    assert [r.status for r in server.requests[:2]] == [304, 200]
    assert "zz000" in logins(changed) and len(logins(changed)) == 101
