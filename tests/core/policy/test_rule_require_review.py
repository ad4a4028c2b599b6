"""require-review: merged through a PR approved by someone other than its author."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeledger.policy.loader import LoadedPolicy
from tests.core.policy.builders import (
    deployment,
    judge,
    messages,
    policy_from,
    review,
    rule_yaml,
    run,
)

RULE = """
  - id: prod-review
    type: require-review
    match: {environments: [production]}
"""


@pytest.fixture
def policy(tmp_path: Path) -> LoadedPolicy:
    return policy_from(tmp_path, rule_yaml(RULE))


def test_approved_by_another_person_passes(policy: LoadedPolicy) -> None:
    assert judge(policy, [run(), deployment(), review("carol", author="bob")]).findings == []


def test_only_self_approved_fails(policy: LoadedPolicy) -> None:
    [text] = messages(judge(policy, [run(), deployment(), review("bob", author="bob")]))
    assert "approved only by its author bob" in text


def test_no_pull_request_fails(policy: LoadedPolicy) -> None:
    [text] = messages(judge(policy, [run(), deployment()]))
    assert "No pull or merge request containing the deployed commit" in text
    assert "has a recorded review" in text


def test_unmerged_pull_request_fails(policy: LoadedPolicy) -> None:
    # An open PR whose head is the deployed commit: reviewed, but never merged.
    head = "refs/heads/feature/x"
    events = [
        run(),
        deployment(),
        review("carol", sha=deployment().sha, merged=False, head=head, pull="14"),
    ]
    [text] = messages(judge(policy, events))
    assert "PR #14 was approved by carol but deployed unmerged from feature/x" in text
    assert "no pull request" not in text


def test_an_unmerged_pull_request_without_approval_says_so(policy: LoadedPolicy) -> None:
    commented = review("carol", "commented", sha=deployment().sha, merged=False, pull="14")
    events = [run(), deployment(), commented]
    [text] = messages(judge(policy, events))
    assert "PR #14 by bob has no approving review and was deployed unmerged" in text


def test_a_gitlab_merge_request_merged_by_state_alone_counts(policy: LoadedPolicy) -> None:
    # GitLab: state "merged" with no merged_at is merged.
    approved = review("carol", sha=deployment().sha, merged=False, pr_state="merged")
    object.__setattr__(approved, "target", {**(approved.target or {}), "type": "merge_request"})
    assert judge(policy, [run(), deployment(), approved]).findings == []


def test_changes_requested_after_approval_withdraws_it(policy: LoadedPolicy) -> None:
    events = [
        run(),
        deployment(),
        review("carol", at="2026-03-10T09:00:00Z"),
        review("carol", "changes_requested", at="2026-03-10T10:00:00Z"),
    ]
    assert "has no approving review" in messages(judge(policy, events))[0]


def test_a_comment_after_approval_keeps_it(policy: LoadedPolicy) -> None:
    events = [
        run(),
        deployment(),
        review("carol", at="2026-03-10T09:00:00Z"),
        review("carol", "commented", at="2026-03-10T10:00:00Z"),
    ]
    assert judge(policy, events).findings == []


def test_reviews_of_the_whole_pull_request_are_joined(policy: LoadedPolicy) -> None:
    # Only one review names the merge commit; the others belong to the same PR.
    linked = review("bob", "commented", at="2026-03-10T08:00:00Z")
    other = review("carol", merged=False, at="2026-03-10T09:00:00Z")
    object.__setattr__(other, "target", {**(other.target or {}), "author": "bob"})
    assert judge(policy, [run(), deployment(), linked, other]).findings == []


def test_reviews_for_another_commit_do_not_count(policy: LoadedPolicy) -> None:
    events = [run(), deployment(), review("carol", merge_sha="f" * 40)]
    assert judge(policy, events).findings


def test_min_approvals_two(tmp_path: Path) -> None:
    loaded = policy_from(tmp_path, rule_yaml(RULE + "    min_approvals: 2\n"))
    one = [run(), deployment(), review("carol")]
    assert judge(loaded, one).findings
    assert judge(loaded, [*one, review("dave")]).findings == []
