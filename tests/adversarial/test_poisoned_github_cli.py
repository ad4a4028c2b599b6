"""The values that once crashed ``collect`` (issue 15), each sent by a real HTTP server (the
hostile proxy in front of the fake GitHub) in a workflow run, a deployment, a deployment status
or an approval, through the CLI: text is repaired on the way in (exit 0); a record that
cannot be recorded is quarantined — kept raw with the reason, named once with its endpoint and
id, everything else stored, exit 3 — and the rerun is clean (exit 0, quarantined once)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.adversarial.hostile import HostileProxy, with_field
from tests.adversarial.hostile_env import GITHUB_TOKEN, assert_nothing_leaked
from tests.adversarial.test_hostile_github import collect
from tests.adversarial.test_poisoned_fields import ledger_state
from tests.fakes.github_api import FakeGitHubServer
from tests.fakes.github_data import scenario_org

RUNS = r"^/repos/acme/web/actions/runs\?"
DEPLOYMENTS = r"^/repos/acme/web/deployments\?"
STATUSES = r"^/repos/acme/web/deployments/5005/statuses"
APPROVALS = r"^/repos/acme/web/actions/runs/9007/approvals"
RUN_ENDPOINT = "/repos/{owner}/{repo}/actions/runs"
DEPLOYMENT_ENDPOINT = "/repos/{owner}/{repo}/deployments"
STATUS_ENDPOINT = "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses"
APPROVAL_ENDPOINT = "/repos/{owner}/{repo}/actions/runs/{run_id}/approvals"
YEAR_ONE = "0001-01-01T00:00:00+01:00"

# name: (path pattern, record id or None for all, field, value, quarantined as (endpoint, id))
CASES: dict[str, tuple[str, int | None, str, Any, tuple[str, str] | None]] = {
    "run: lone surrogate in the title": (RUNS, 9007, "display_title", "deploy \ud800", None),
    "run: lone surrogate in the name": (RUNS, 9007, "name", "\udfff", None),
    "run: year 1 with an offset": (RUNS, 9007, "created_at", YEAR_ONE, (RUN_ENDPOINT, "9007")),
    "run: a ref that is a number": (RUNS, 9007, "head_branch", 12345, None),
    "run: an empty status": (RUNS, 9007, "status", "", (RUN_ENDPOINT, "9007")),
    "deployment: lone surrogate": (DEPLOYMENTS, 5005, "description", "x\udfff", None),
    "deployment: year 1 with an offset": (
        DEPLOYMENTS,
        5005,
        "created_at",
        YEAR_ONE,
        (DEPLOYMENT_ENDPOINT, "5005"),
    ),
    "deployment: a ref that is a number": (DEPLOYMENTS, 5005, "ref", 12345, None),
    "status: an empty state": (STATUSES, 7008, "state", "", (STATUS_ENDPOINT, "5005/7008")),
    "status: year 1 with an offset": (
        STATUSES,
        7008,
        "created_at",
        YEAR_ONE,
        (STATUS_ENDPOINT, "5005/7008"),
    ),
    "approval: an empty state": (APPROVALS, None, "state", "", (APPROVAL_ENDPOINT, "9007")),
}


@pytest.fixture(scope="module")
def everything(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """The events of the same org collected with no poison."""
    db = tmp_path_factory.mktemp("clean") / "l.db"
    with (
        FakeGitHubServer(scenario_org(), token=GITHUB_TOKEN) as fake,
        HostileProxy(fake.base_url) as proxy,
    ):
        assert collect(proxy, db).code == 0
    return ledger_state(db)[0]


@pytest.mark.parametrize("name", list(CASES))
def test_a_poisoned_record_through_the_cli(
    name: str,
    github: FakeGitHubServer,
    github_proxy: HostileProxy,
    foreign: Any,
    tmp_path: Path,
    everything: list[dict[str, Any]],
) -> None:
    pattern, record, field, value, expected = CASES[name]
    github_proxy.on(pattern, with_field(record, (field,), value), forward_first=True)
    db = tmp_path / "l.db"
    first = collect(github_proxy, db)
    assert_nothing_leaked(foreign, first, [GITHUB_TOKEN], tmp_path)
    events, held = ledger_state(db)
    if expected is None:  # repaired on the way in: every event stored
        assert first.code == 0, first.err
        assert held == []
        assert len(events) == len(everything)
        assert "\\ud" not in str(events) and "\ud800" not in str(events)
    else:
        assert first.code == 3, first.err
        assert [(r.endpoint, r.native_id) for r in held] == [expected]
        endpoint, ident = expected
        assert f"quarantined github {endpoint} id {ident}" in first.err
        assert first.err.count(f"id {ident}:") == 2  # the notice, and the final error
        # Only the record's own events can be missing (a run fetched again by its own URL,
        # for a deployment it made, arrives clean and is stored).
        assert 0 < len(events) <= len(everything)
        assert held[0].reason and field in held[0].raw
    github_proxy.on(pattern, with_field(record, (field,), value), forward_first=True)
    rerun = collect(github_proxy, db)
    assert rerun.code == 0, rerun.err
    assert ledger_state(db)[1] == held


def test_the_scenario_has_the_records_poisoned() -> None:
    """The ids above exist in the fake org (a renamed fixture would make the cases vacuous)."""
    web = scenario_org().repos["web"]
    assert 9007 in web.runs and 9007 in web.approvals and 5005 in web.deployments
    assert 7008 in [status.id for status in web.deployments[5005].statuses]
