"""One person, one identity: a GitLab audit event names its author by id and display name;
the ledger names them by username (display name in ``actor.name``), so ``events --actor``
finds what one person did on GitHub and on GitLab alike."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from pipeledger.cli.main import main
from tests.fakes.github_api import FakeGitHubServer
from tests.fakes.github_data import scenario_org
from tests.fakes.gitlab_api import FakeGitLab
from tests.plugins.pipeledger_gitlab.helpers import ledger_events
from tests.plugins.pipeledger_gitlab.snapshots.scenario import make_change_with_audit, timed_collect

pytestmark = pytest.mark.e2e

TOKEN = "test-token"


def events_of(db: Path, *args: str) -> list[dict[str, Any]]:
    out, err = io.StringIO(), io.StringIO()
    argv = ["events", "--sink", f"sqlite:///{db}", "--format", "json", *args]
    code = main(argv, environ={}, stdout=out, stderr=err)
    assert code == 0, err.getvalue()
    listed: list[dict[str, Any]] = json.loads(out.getvalue())
    return listed


def collect_github(db: Path) -> None:
    with FakeGitHubServer(scenario_org(), token=TOKEN) as server:
        argv = ["collect", "--platform", "github", "--api-url", server.base_url, "--org", "acme"]
        environ = {"GITHUB_TOKEN": TOKEN, "PIPELEDGER_GITHUB_INSTANCE": "github.com"}
        out, err = io.StringIO(), io.StringIO()
        code = main([*argv, "--sink", f"sqlite:///{db}"], environ=environ, stdout=out, stderr=err)
        assert code == 0, err.getvalue()


def test_a_display_name_never_becomes_a_login(fake: FakeGitLab, tmp_path: Path) -> None:
    db = tmp_path / "l.db"
    alice = next(u for u in fake.instance.users if u.username == "alice")
    assert alice.name == "Alice"  # what GitLab's audit events show as author_name
    timed_collect(fake, db)
    project = fake.instance.projects[0]
    _, audits = make_change_with_audit(fake, project, alice)
    with fake.lock:
        fake.log.clear()
    timed_collect(fake, db)

    native_ids = {str(audit.id) for audit in audits}
    by_alice = [e for e in ledger_events(db) if e.source.native_id.split("|")[0] in native_ids]
    assert len(by_alice) >= len(audits)  # and the facts merged from them
    for event in by_alice:
        assert (event.actor.login, event.actor.name, event.actor.id) == (
            "alice",
            "Alice",
            str(alice.id),
        )
    assert events_of(db, "--actor", "Alice") == []
    # alice is a member of the group, read before the project's audit events: her id was
    # never asked for; every id that was asked for, was asked once in the run.
    asked = [entry.path for entry in fake.log if entry.route == "users.get"]
    assert f"/users/{alice.id}" not in asked
    assert len(asked) == len(set(asked))


def test_events_actor_finds_one_person_on_both_forges(fake: FakeGitLab, tmp_path: Path) -> None:
    db = tmp_path / "l.db"
    collect_github(db)
    alice = next(u for u in fake.instance.users if u.username == "alice")
    timed_collect(fake, db)
    make_change_with_audit(fake, fake.instance.projects[0], alice)
    timed_collect(fake, db)
    found = events_of(db, "--actor", "alice")
    assert {event["platform"] for event in found} == {"github", "gitlab"}
    assert all(event["actor"]["login"] == "alice" for event in found)
    assert {event["actor"].get("name") for event in found if event["platform"] == "gitlab"} == {
        "Alice"
    }
