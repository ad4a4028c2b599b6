"""GitLab's words for access and protection, as the snapshots and events of this adapter
record them: how much each membership or rule role may do, and which way each protection
setting guards. The core applies them (``pipeledger.access_terms``); registered in the
``pipeledger.access_terms`` entry-point group as ``gitlab``."""

from __future__ import annotations

from pipeledger.plugin import AccessTerms

ACCESS_TERMS = AccessTerms(
    role_ranks={
        # membership levels (normalize.access.MEMBER_ROLES)
        "none": 0,
        "minimal_access": 0,
        "guest": 1,
        "planner": 1,
        "reporter": 2,
        "developer": 4,
        "maintainer": 5,
        "owner": 7,
        # protected branch and environment rules (normalize.access.RULE_ROLES)
        "no_one": 0,
        "admin": 6,
    },
    # a protected environment's approvals, an approval rule's count
    more_is_stronger=frozenset({"required_approvals", "required_approval_count"}),
    true_is_stronger=frozenset({"code_owner_approval_required"}),
    true_is_weaker=frozenset({"allow_force_push"}),
    # a protected environment's approval rules (approver -> approvals it must give)
    fewer_is_weaker=frozenset({"approval_rules"}),
    # who may deploy, push, merge or unprotect
    more_is_weaker=frozenset(
        {
            "deploy_access_levels",
            "push_access_levels",
            "merge_access_levels",
            "unprotect_access_levels",
        }
    ),
    # a protected environment's approval rules, naming users by id (``user:7``)
    approver_settings=frozenset({"approval_rules"}),
    approvers_by_id=True,
    # maintainer, owner, administrators
    powerful_rank=5,
)
