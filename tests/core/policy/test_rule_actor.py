"""actor: allow and deny lists; no bot deploys to production."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeledger.events import EventKind
from pipeledger.policy.loader import LoadedPolicy
from tests.core.policy.builders import (
    actor,
    deployment,
    judge,
    make,
    messages,
    policy_from,
    rule_yaml,
    run,
)

NO_BOTS = """
  - id: no-bots
    type: actor
    match: {environments: ["prod*"]}
    deny: {types: [bot, app]}
"""


@pytest.fixture
def no_bots(tmp_path: Path) -> LoadedPolicy:
    return policy_from(tmp_path, rule_yaml(NO_BOTS))


def test_human_deploy_passes(no_bots: LoadedPolicy) -> None:
    assert judge(no_bots, [run(trigger="alice"), deployment()]).findings == []


def test_bot_triggered_deploy_fails(no_bots: LoadedPolicy) -> None:
    events = [run(trigger="dependabot[bot]", trigger_type="bot"), deployment()]
    [text] = messages(judge(no_bots, events))
    assert "dependabot[bot] (bot) triggered the deployment to production" in text


def test_the_ci_app_creating_the_deployment_is_not_the_deployer(no_bots: LoadedPolicy) -> None:
    events = [run(trigger="alice"), deployment(creator="github-actions[bot]", creator_type="bot")]
    assert judge(no_bots, events).findings == []


def test_without_a_run_the_creator_is_judged(no_bots: LoadedPolicy) -> None:
    events = [deployment(run_id=None, creator="deploy-app", creator_type="app")]
    assert "deploy-app (app) created" in messages(judge(no_bots, events))[0]


def test_allow_list_by_team_and_deny_beats_allow(tmp_path: Path) -> None:
    loaded = policy_from(
        tmp_path,
        rule_yaml(
            "  - id: releasers\n    type: actor\n    allow: {teams: [release]}\n"
            "    deny: {users: [mallory]}\n"
        ),
    )
    teams = {"release": ["alice", "mallory"]}
    assert judge(loaded, [run(trigger="alice"), deployment()], teams).findings == []
    assert (
        "not on this rule's allow list"
        in messages(judge(loaded, [run(trigger="eve"), deployment()], teams))[0]
    )
    assert "deny list" in messages(judge(loaded, [run(trigger="mallory"), deployment()], teams))[0]


def test_rule_on_other_event_kinds(tmp_path: Path) -> None:
    loaded = policy_from(
        tmp_path,
        rule_yaml(
            "  - id: no-bot-grants\n    type: actor\n    match: {events: [permission.change]}\n"
            "    deny: {types: [bot]}\n"
        ),
    )
    grant = make(
        EventKind.PERMISSION_CHANGE,
        "g1",
        action="granted",
        at="2026-03-11T10:00:00Z",
        who=actor("renovate[bot]", "bot"),
        change={"from": None, "to": "write"},
    )
    result = judge(loaded, [grant, run(trigger="x", trigger_type="bot"), deployment()])
    assert [f.subject.kind for f in result.findings] == ["permission.change"]


def test_empty_actor_rule_is_a_policy_error(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="needs an allow or a deny list"):
        policy_from(tmp_path, rule_yaml("  - id: nothing\n    type: actor\n"))
