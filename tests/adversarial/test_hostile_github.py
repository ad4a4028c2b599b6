"""The real CLI collecting a fake GitHub org through a hostile server: foreign and relative
``Link`` headers, redirects to another origin, oversized and never-ending bodies, hostile
error messages, and a page URL on another host planted in a stored cursor. Each attack ends
with the same check: the foreign host heard nothing, no token or secret is in any output,
file or ledger, and no traceback."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from pipeledger.ledger.chain_check import verify_rows
from pipeledger.sinks.contract import SinkSettings
from pipeledger.sinks.fanout import SinkSet
from tests.adversarial.hostile import (
    ForeignHost,
    HostileProxy,
    answer,
    huge,
    redirect,
    trickle,
    with_next_link,
)
from tests.adversarial.hostile_env import GITHUB_TOKEN, Outcome, assert_nothing_leaked, run
from tests.e2e.github_expect import collected, expected
from tests.fakes.github_api import FakeGitHubServer

DEPLOYMENTS = r"^/repos/acme/web/deployments\?"
RUNS = r"^/repos/acme/web/actions/runs\?"
COLLABORATORS = r"^/repos/acme/web/collaborators\?"


def collect(proxy: HostileProxy, db: Path, *extra: str, snapshots: bool = False) -> Outcome:
    """``collect`` through the proxy; without snapshots unless asked (they cost time and
    only the cursor tests need them)."""
    argv = [
        "collect",
        "--platform",
        "github",
        "--api-url",
        proxy.base_url,
        "--org",
        "acme",
        "--since",
        "2025-01-01",
        "--sink",
        f"sqlite:///{db}",
        "--retries",
        "1",
        "--backoff",
        "0.01",
        "--max-wait",
        "1",
        *extra,
        *([] if snapshots else ["--no-snapshots"]),
    ]
    return run(argv, {"GITHUB_TOKEN": GITHUB_TOKEN})


def ledger_is_intact(db: Path) -> int:
    """The ledger's chain verifies; how many events it holds."""
    sinks = SinkSet.open([f"sqlite:///{db}"], SinkSettings(environ={}))
    try:
        assert verify_rows(sinks.ledger.rows()).ok
        return sinks.ledger.head_seq()
    finally:
        sinks.close()


def stored_cursors(db: Path) -> str:
    with sqlite3.connect(db) as conn:
        return "\n".join(value for (value,) in conn.execute("SELECT value FROM cursors"))


def test_through_the_proxy_alone_the_collection_is_complete(
    github: FakeGitHubServer, github_proxy: HostileProxy, foreign: ForeignHost, tmp_path: Path
) -> None:
    outcome = collect(github_proxy, tmp_path / "l.db", snapshots=True)
    assert outcome.code == 0, outcome.err
    assert collected(tmp_path / "l.db") == expected(github.org)
    assert_nothing_leaked(foreign, outcome, [GITHUB_TOKEN], tmp_path)


@pytest.mark.parametrize(
    "shape",
    ["absolute", "scheme-relative", "user-info", "other-host-name"],
)
def test_a_next_link_to_another_origin_is_refused_and_names_it(
    github_proxy: HostileProxy, foreign: ForeignHost, tmp_path: Path, shape: str
) -> None:
    path = "/repos/acme/web/actions/runs?per_page=100&page=2"
    target = {
        "absolute": f"{foreign.base_url}{path}",
        "scheme-relative": f"//127.0.0.1:{foreign.port}{path}",
        "user-info": f"http://127.0.0.1:{github_proxy.port}@127.0.0.1:{foreign.port}{path}",
        "other-host-name": f"http://localhost:{foreign.port}{path}",
    }[shape]
    github_proxy.on(RUNS, with_next_link(target), forward_first=True)
    outcome = collect(github_proxy, tmp_path / "l.db")
    assert outcome.code == 3
    assert f":{foreign.port}" in outcome.err and "not requested" in outcome.err
    assert_nothing_leaked(foreign, outcome, [GITHUB_TOKEN], tmp_path)
    assert ledger_is_intact(tmp_path / "l.db") > 0  # what came before is kept


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_to_another_origin_is_refused_not_followed(
    github_proxy: HostileProxy, foreign: ForeignHost, tmp_path: Path, status: int
) -> None:
    github_proxy.on(DEPLOYMENTS, redirect(status, f"{foreign.base_url}/deployments"))
    outcome = collect(github_proxy, tmp_path / "l.db")
    # Once a foreign 301 silently replaced the deployment list with the foreign host's [].
    assert outcome.code == 3
    assert f"a redirect (HTTP {status})" in outcome.err
    assert_nothing_leaked(foreign, outcome, [GITHUB_TOKEN], tmp_path)


def test_a_redirect_on_the_api_itself_is_followed(
    github: FakeGitHubServer, github_proxy: HostileProxy, foreign: ForeignHost, tmp_path: Path
) -> None:
    moved = f"{github_proxy.base_url}/repos/acme/web/deployments?per_page=100&moved=1"
    github_proxy.on(DEPLOYMENTS + "per_page=100$", redirect(301, moved), times=1)
    outcome = collect(github_proxy, tmp_path / "l.db")
    assert outcome.code == 0, outcome.err
    assert collected(tmp_path / "l.db") == expected(github.org)
    assert any("moved=1" in seen.path for seen in github_proxy.seen)
    assert_nothing_leaked(foreign, outcome, [GITHUB_TOKEN], tmp_path)


def test_a_redirected_snapshot_page_is_never_stored_in_a_cursor(
    github_proxy: HostileProxy, foreign: ForeignHost, tmp_path: Path
) -> None:
    github_proxy.on(COLLABORATORS, redirect(301, f"{foreign.base_url}/collaborators"))
    outcome = collect(github_proxy, tmp_path / "l.db", snapshots=True)
    assert outcome.code == 3
    assert f":{foreign.port}" not in stored_cursors(tmp_path / "l.db")
    assert_nothing_leaked(foreign, outcome, [GITHUB_TOKEN], tmp_path)


def test_a_foreign_url_planted_in_a_stored_cursor_is_ignored_and_reported(
    github: FakeGitHubServer, github_proxy: HostileProxy, foreign: ForeignHost, tmp_path: Path
) -> None:
    db = tmp_path / "l.db"
    assert collect(github_proxy, db, snapshots=True).code == 0
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT key, value FROM cursors").fetchall()
        planted = 0
        for key, stored in rows:
            if '"/repos/acme/web/collaborators' in stored:
                value = stored.replace(
                    '"/repos/acme/web/collaborators', f'"{foreign.base_url}/repos/acme/web/collab'
                )
                conn.execute("UPDATE cursors SET value = ? WHERE key = ?", (value, key))
                planted += 1
    assert planted, "no stored page URL to plant into"
    outcome = collect(github_proxy, db, snapshots=True)
    assert outcome.code == 0, outcome.err
    assert "ignored a stored page URL" in outcome.err
    assert_nothing_leaked(foreign, outcome, [GITHUB_TOKEN], tmp_path)
    assert f":{foreign.port}" not in stored_cursors(db)  # replaced by the fresh reading
    assert collected(db) == expected(github.org)


@pytest.mark.parametrize("declared", [False, True])
def test_a_body_larger_than_any_page_is_not_read(
    github_proxy: HostileProxy, foreign: ForeignHost, tmp_path: Path, declared: bool
) -> None:
    github_proxy.on(DEPLOYMENTS, huge(65 * 1024 * 1024, declared=declared))
    outcome = collect(github_proxy, tmp_path / "l.db")
    assert outcome.code == 3
    assert "more than 64 MiB" in outcome.err
    assert_nothing_leaked(foreign, outcome, [GITHUB_TOKEN], tmp_path)
    assert ledger_is_intact(tmp_path / "l.db") > 0


def test_a_body_that_never_ends_is_given_up_on(
    github_proxy: HostileProxy, foreign: ForeignHost, tmp_path: Path
) -> None:
    # One blank every 50 ms keeps each read under --timeout; the deadline for a whole
    # response (10 timeouts) ends it.
    github_proxy.on(DEPLOYMENTS, trickle(0.05))
    outcome = collect(github_proxy, tmp_path / "l.db", "--timeout", "0.3", "--retries", "0")
    assert outcome.code == 3
    assert "Giving up" in outcome.err
    assert_nothing_leaked(foreign, outcome, [GITHUB_TOKEN], tmp_path)


@pytest.mark.parametrize("status", [403, 422, 500])
def test_a_hostile_error_message_cannot_write_workflow_commands_or_escapes(
    github_proxy: HostileProxy, foreign: ForeignHost, tmp_path: Path, status: int
) -> None:
    message = (
        "Nope\n::stop-commands::pwned\n::error::owned\r\n##[error]old syntax"
        " \x1b]0;retitled\x07 \x1b[31mred \u202eevil"
    )
    body = json.dumps({"message": message}).encode()
    github_proxy.on(DEPLOYMENTS, answer(status, body))
    outcome = collect(github_proxy, tmp_path / "l.db")
    assert outcome.code == 3
    assert "Nope" in outcome.err or status == 500
    assert "##[error]" not in outcome.err and "\u202e" not in outcome.err
    assert_nothing_leaked(foreign, outcome, [GITHUB_TOKEN], tmp_path)
