"""allowed-refs: production only from main or a release tag."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeledger.errors import ConfigError
from pipeledger.policy.loader import LoadedPolicy
from tests.core.policy.builders import deployment, judge, messages, policy_from, rule_yaml, run

RULE = """
  - id: prod-refs
    type: allowed-refs
    match: {environments: ["prod*"]}
    refs: [refs/heads/main, "refs/tags/v*"]
"""


@pytest.fixture
def policy(tmp_path: Path) -> LoadedPolicy:
    return policy_from(tmp_path, rule_yaml(RULE))


@pytest.mark.parametrize(
    ("run_ref", "deployment_ref", "allowed"),
    [
        ("refs/heads/main", "main", True),
        ("refs/tags/v1.4.0", "v1.4.0", True),
        ("refs/heads/feature/login", "feature/login", False),
        ("refs/tags/release-1", "release-1", False),
        # A branch called like a tag is still a branch when the run says so.
        ("refs/heads/v2", "v2", False),
        ("refs/pull/12/merge", "refs/pull/12/merge", False),
    ],
)
def test_run_refs(policy: LoadedPolicy, run_ref: str, deployment_ref: str, allowed: bool) -> None:
    result = judge(policy, [run(ref=run_ref), deployment(ref=deployment_ref)])
    assert (result.findings == []) is allowed


def test_short_ref_without_a_run_is_judged_by_name(policy: LoadedPolicy) -> None:
    assert judge(policy, [deployment(run_id=None, ref="main")]).findings == []
    [text] = messages(judge(policy, [deployment(run_id=None, ref="topic-branch")]))
    assert "from topic-branch" in text


def test_unknown_ref_fails(policy: LoadedPolicy) -> None:
    assert "an unknown ref" in messages(judge(policy, [deployment(run_id=None, ref=None)]))[0]


def test_a_short_pattern_is_a_policy_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="Write refs/heads/main"):
        policy_from(tmp_path, rule_yaml(RULE.replace("refs/heads/main", "main")))
