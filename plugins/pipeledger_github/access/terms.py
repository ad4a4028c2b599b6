"""GitHub's words for access and protection, as the snapshots and events of this adapter
record them: how much each role may do, and which way each protection setting guards. The
core applies them (``pipeledger.access_terms``); registered in the ``pipeledger.access_terms``
entry-point group as ``github``."""

from __future__ import annotations

from pipeledger.plugin import AccessTerms

ACCESS_TERMS = AccessTerms(
    role_ranks={
        "none": 0,
        # repository roles; the REST API's older names beside the current ones
        "read": 2,
        "pull": 2,
        "triage": 3,
        "write": 4,
        "push": 4,
        "maintain": 5,
        "admin": 6,
        # organization and team membership
        "member": 2,
        "maintainer": 5,
        "owner": 7,
    },
    # environments (wait timer) and branch protection (approving reviews)
    more_is_stronger=frozenset({"wait_timer", "required_approving_review_count"}),
    true_is_stronger=frozenset(
        {
            "prevent_self_review",
            "enforce_admins",
            "require_code_owner_reviews",
            "require_code_owner_review",
            "dismiss_stale_reviews",
            "dismiss_stale_reviews_on_push",
            "required_signatures",
            "required_linear_history",
            "require_last_push_approval",
            "required_review_thread_resolution",
            "required_conversation_resolution",
            "required_pull_request_reviews",
            "strict_required_status_checks",
            "lock_branch",
        }
    ),
    true_is_weaker=frozenset({"allow_force_pushes", "allow_deletions", "can_admins_bypass"}),
    # an environment's required reviewers and custom protection rules, a branch's checks
    fewer_is_weaker=frozenset({"required_reviewers", "required_status_checks", "custom_rules"}),
    # who may push to a protected branch, who bypasses a ruleset, which branches may deploy
    more_is_weaker=frozenset({"push_allowances", "bypass_actors", "branch_policies"}),
    open_values={"deployment_branches": "all"},
    # ruleset rules in force on a branch (``rule:pull_request``, ``rule:required_signatures``)
    rule_prefix="rule:",
    # an environment's required reviewers, by login (``user:alice``, ``team:sec``)
    approver_settings=frozenset({"required_reviewers"}),
    # maintain, a team's maintainer, admin, owner
    powerful_rank=5,
)
