"""The protection of a default branch costs nothing on a rerun: the protected-branch list
(ETag, 304) says whether to ask for it at all, since GitHub answers ``404 Branch not
protected`` without an ETag. Protecting, unprotecting and rulesets-only still read right."""

from __future__ import annotations

from pathlib import Path

from tests.fakes.github_access import FakeBranchProtection
from tests.fakes.github_api import FakeGitHubServer
from tests.plugins.pipeledger_github.snapshots.conftest import (
    access_events,
    collect,
    snapshot,
    summary,
)

WEB = ("--repo", "acme/web")


def branch_requests(server: FakeGitHubServer) -> list[tuple[str, int, bool]]:
    """(path with query, status, conditional) of each /branches request, in order."""
    return [
        (record.path.removeprefix("/repos/acme/web"), record.status, record.had_if_none_match)
        for record in server.requests
        if record.path.startswith("/repos/acme/web/branches")
    ]


def unprotect(server: FakeGitHubServer, *, keep_rules: bool = False) -> None:
    with server.org.lock:
        web = server.access.repo("web")
        web.protection = None
        if not keep_rules:
            web.rules = []


def protect(server: FakeGitHubServer) -> None:
    with server.org.lock:
        server.access.repo("web").protection = FakeBranchProtection()


def run(server: FakeGitHubServer, ledger: Path) -> list[tuple[str, int, bool]]:
    server.reset_log()
    result = collect(server, ledger, *WEB)
    assert result.code == 0, result.err
    return branch_requests(server)


LISTING = "/branches?per_page=100&protected=true"


def test_an_unprotected_branch_costs_one_listing_then_304s(
    server: FakeGitHubServer, ledger: Path
) -> None:
    unprotect(server)
    assert run(server, ledger) == [(LISTING, 200, False)]
    assert run(server, ledger) == [(LISTING, 304, True)]
    assert access_events(ledger) == []
    protect(server)
    assert run(server, ledger) == [(LISTING, 200, True), ("/branches/main/protection", 200, False)]
    (added,) = access_events(ledger)
    assert (added.action, added.attributes["strength"]) == ("added", "stronger")
    # Protected: its own ETag re-checks it (a push changes the list's, not the protection's).
    assert run(server, ledger) == [("/branches/main/protection", 304, True)]
    unprotect(server)
    assert run(server, ledger) == [("/branches/main/protection", 404, True)]
    removed = access_events(ledger)[-1]
    assert (removed.action, removed.attributes["strength"]) == ("removed", "weaker")
    assert "acme/web|branch:main" not in snapshot(ledger, "acme/web").protections
    assert run(server, ledger) == [(LISTING, 200, True)]  # the list changed since it was read
    assert run(server, ledger) == [(LISTING, 304, True)]
    assert len(access_events(ledger)) == 2


def test_a_branch_guarded_by_rulesets_only_is_asked_once(
    server: FakeGitHubServer, ledger: Path
) -> None:
    unprotect(server, keep_rules=True)  # listed as protected, but no classic protection
    not_protected = ("/branches/main/protection", 404, False)
    assert run(server, ledger) == [(LISTING, 200, False), not_protected]
    assert run(server, ledger) == [(LISTING, 304, True)]
    protect(server)  # the listing's protection summary changes with it
    assert run(server, ledger) == [(LISTING, 200, True), ("/branches/main/protection", 200, False)]
    assert [summary(e)[:3] for e in access_events(ledger)] == [
        ("protection.change", "added", "web")
    ]


def test_protection_refused_once_is_read_again_under_an_unchanged_listing(
    server: FakeGitHubServer, ledger: Path
) -> None:
    unprotect(server)
    run(server, ledger)
    protect(server)
    server.forbidden_paths = {r"/protection$": "administration=read"}
    refused = [(LISTING, 200, True), ("/branches/main/protection", 403, False)]
    assert run(server, ledger) == refused
    assert access_events(ledger) == []
    server.forbidden_paths = {}
    # The listing is unchanged, but the protection was never read under it: asked again.
    assert run(server, ledger) == [(LISTING, 304, True), ("/branches/main/protection", 200, False)]
    (added,) = access_events(ledger)
    assert added.action == "added"


def test_a_refused_listing_keeps_the_protection_as_it_was(
    server: FakeGitHubServer, ledger: Path
) -> None:
    unprotect(server)
    run(server, ledger)
    protect(server)
    server.forbidden_paths = {r"/branches$": "metadata=read"}
    server.reset_log()
    refused = collect(server, ledger, *WEB)
    assert len(refused.notices("cannot read protected branches")) == 1
    assert branch_requests(server) == [(LISTING, 403, True)]  # protection not asked for
    assert "acme/web|branch:main" not in snapshot(ledger, "acme/web").protections
    assert access_events(ledger) == []  # nothing inferred from what could not be read
    server.forbidden_paths = {}
    assert run(server, ledger) == [(LISTING, 200, True), ("/branches/main/protection", 200, False)]
    (added,) = access_events(ledger)
    assert added.action == "added"


def test_a_protected_branch_is_rechecked_through_its_protection_alone(
    server: FakeGitHubServer, ledger: Path
) -> None:
    assert run(server, ledger) == [(LISTING, 200, False), ("/branches/main/protection", 200, False)]
    assert run(server, ledger) == [("/branches/main/protection", 304, True)]
    with server.org.lock:
        protection = server.access.repo("web").protection
        assert protection is not None
        protection.enforce_admins = True
    assert run(server, ledger) == [("/branches/main/protection", 200, True)]
    (strengthened,) = access_events(ledger)
    assert summary(strengthened)[:4] == (
        "protection.change",
        "strengthened",
        "web",
        "main.enforce_admins",
    )
