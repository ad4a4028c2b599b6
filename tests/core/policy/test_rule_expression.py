"""expression: custom JMESPath conditions over deployments and events."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeledger.errors import ConfigError
from tests.core.policy.builders import (
    approval,
    deployment,
    judge,
    messages,
    policy_from,
    rule_yaml,
    run,
)

RULE = """
  - id: custom
    type: expression
    match: {{environments: [production]}}
    condition: "{condition}"
    message: custom says no
"""


def verdict(tmp_path: Path, condition: str, events: list) -> list[str]:  # type: ignore[type-arg]
    loaded = policy_from(tmp_path, rule_yaml(RULE.format(condition=condition)))
    return messages(judge(loaded, events))


def test_condition_over_the_deployment_document(tmp_path: Path) -> None:
    events = [run(trigger="alice"), deployment(), approval("carol")]
    assert verdict(tmp_path, "length(approvals) > `0` && deployer.type == 'user'", events) == []
    assert verdict(tmp_path, "run.actor.login == 'bob'", events) == ["custom says no"]
    assert verdict(tmp_path, "starts_with(ref, 'refs/heads/')", events) == []


def test_null_and_empty_are_false(tmp_path: Path) -> None:
    assert verdict(tmp_path, "run.attributes.nothing", [run(), deployment()]) == ["custom says no"]
    assert verdict(tmp_path, "approvals", [run(), deployment()]) == ["custom says no"]


def test_runtime_type_error_becomes_a_finding(tmp_path: Path) -> None:
    [text] = verdict(tmp_path, "length(`1`) > `0`", [run(), deployment()])
    assert "could not be evaluated" in text


def test_event_subjects(tmp_path: Path) -> None:
    loaded = policy_from(
        tmp_path,
        rule_yaml(
            "  - id: runs-on-main\n    type: expression\n    match: {events: [pipeline.run]}\n"
            "    condition: \"ref == 'refs/heads/main'\"\n"
        ),
    )
    result = judge(loaded, [run(ref="refs/heads/x"), run("101"), deployment()])
    assert [f.subject.kind for f in result.findings] == ["pipeline.run"]
    # Two runs judged as single events, one of them also the deployment's run, and the
    # deployment: three distinct events.
    assert result.events == 3


def test_syntax_error_is_a_policy_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid JMESPath"):
        policy_from(tmp_path, rule_yaml(RULE.format(condition="deployer.type == ")))
