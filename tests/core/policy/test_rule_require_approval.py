"""require-approval: second-person approval, never the triggering actor or the author."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeledger.errors import ConfigError
from pipeledger.policy.loader import LoadedPolicy
from tests.core.policy.builders import (
    approval,
    deployment,
    judge,
    messages,
    policy_from,
    review,
    rule_yaml,
    run,
)

RULE = """
  - id: prod-approval
    type: require-approval
    match: {environments: ["prod*"]}
"""


@pytest.fixture
def policy(tmp_path: Path) -> LoadedPolicy:
    return policy_from(tmp_path, rule_yaml(RULE))


def test_second_person_approval_passes(policy: LoadedPolicy) -> None:
    result = judge(policy, [run(trigger="alice"), deployment(), approval("carol")])
    assert result.findings == []
    assert result.results[0].evaluated == 1


def test_self_approval_by_the_triggering_actor_fails(policy: LoadedPolicy) -> None:
    result = judge(policy, [run(trigger="alice"), deployment(), approval("alice")])
    assert len(result.findings) == 1
    assert "alice approved but triggered this run attempt" in result.findings[0].message


def test_the_change_author_never_counts(policy: LoadedPolicy) -> None:
    events = [run(trigger="alice"), deployment(), approval("bob"), review("carol", author="bob")]
    assert "bob approved but wrote the deployed change" in messages(judge(policy, events))[0]


def test_no_approval_fails(policy: LoadedPolicy) -> None:
    [text] = messages(judge(policy, [run(), deployment()]))
    assert "has 0" in text and "No approval was recorded" in text


def test_rerun_by_another_user_excludes_both_starter_and_rerunner(policy: LoadedPolicy) -> None:
    # alice pushed (attempt 1), bob re-ran (attempt 2); neither may approve attempt 2.
    base = [
        run(trigger="alice", attempt="1"),
        run(trigger="bob", initial="alice", attempt="2", at="2026-03-11T11:00:00Z"),
        deployment(attempt="2"),
    ]
    assert judge(policy, [*base, approval("alice", attempt="2")]).findings
    assert judge(policy, [*base, approval("bob", attempt="2")]).findings
    assert judge(policy, [*base, approval("carol", attempt="2")]).findings == []


def test_approval_of_an_earlier_attempt_does_not_carry_over(policy: LoadedPolicy) -> None:
    events = [
        run(trigger="alice", attempt="1"),
        run(trigger="bob", initial="alice", attempt="2"),
        deployment(attempt="2"),
        approval("carol", attempt="1"),
    ]
    assert judge(policy, events).findings


def test_approval_then_rejection_is_not_an_approval(policy: LoadedPolicy) -> None:
    events = [
        run(),
        deployment(),
        approval("carol", at="2026-03-11T10:01:00Z"),
        approval("carol", "rejected", at="2026-03-11T10:02:00Z"),
    ]
    [text] = messages(judge(policy, events))
    assert "has 0" in text and "rejected by carol" in text


def test_rejection_then_approval_by_the_same_reviewer_counts(policy: LoadedPolicy) -> None:
    events = [
        run(),
        deployment(),
        approval("carol", "rejected", at="2026-03-11T10:01:00Z"),
        approval("carol", at="2026-03-11T10:02:00Z"),
    ]
    assert judge(policy, events).findings == []


def test_a_rejection_by_anyone_fails_even_with_enough_approvals(policy: LoadedPolicy) -> None:
    events = [run(), deployment(), approval("carol"), approval("dave", "rejected")]
    assert "rejected by dave" in messages(judge(policy, events))[0]


def test_approval_for_another_environment_does_not_count(policy: LoadedPolicy) -> None:
    events = [run(), deployment(), approval("carol", environment="staging")]
    assert judge(policy, events).findings


def test_unmatched_environment_is_not_evaluated(policy: LoadedPolicy) -> None:
    result = judge(policy, [run(), deployment(environment="staging")])
    assert result.findings == [] and result.results[0].evaluated == 0


def test_environment_globs_ignore_case(policy: LoadedPolicy) -> None:
    assert judge(policy, [run(), deployment(environment="Production")]).findings


def test_status_events_of_one_deployment_are_judged_once(policy: LoadedPolicy) -> None:
    events = [
        run(),
        deployment(action="created"),
        deployment(action="in_progress", at="2026-03-11T10:06:00Z"),
        deployment(action="success", at="2026-03-11T10:09:00Z"),
    ]
    result = judge(policy, events)
    assert result.results[0].evaluated == 1 and len(result.findings) == 1


def test_allowed_approvers_by_team(tmp_path: Path) -> None:
    loaded = policy_from(
        tmp_path,
        rule_yaml(
            RULE + "    min_approvals: 2\n    approvers: {teams: [release], users: [ops-*]}\n"
        ),
    )
    teams = {"release": ["Carol"]}
    base = [run(), deployment(), approval("carol")]
    assert "has 1" in messages(judge(loaded, base, teams))[0]
    assert (
        "dave approved but is not an allowed approver"
        in messages(judge(loaded, [*base, approval("dave")], teams))[0]
    )
    assert judge(loaded, [*base, approval("ops-erin")], teams).findings == []


def test_more_approvals_required_than_approvers_listed_is_a_policy_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no deployment could ever pass"):
        policy_from(
            tmp_path, rule_yaml(RULE + "    min_approvals: 3\n    approvers: {users: [a, b]}\n")
        )


def test_finding_carries_evidence_links_remedy_and_docs(policy: LoadedPolicy) -> None:
    events = [run(), deployment(), approval("alice")]
    [finding] = judge(policy, events).findings
    assert set(finding.evidence) >= {events[0].id, events[1].id, events[2].id}
    assert finding.links == ("https://github.com/octo-org/octo-repo/actions/runs/100",)
    assert finding.remedy and finding.docs_url.endswith("/docs/policies/require-approval/")
    assert finding.rule_line == 4 and finding.rule_type == "require-approval"
    assert finding.fingerprint == judge(policy, events).findings[0].fingerprint
