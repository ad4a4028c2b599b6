"""The built-in rule types, by the ``type`` a policy file names them with."""

from __future__ import annotations

from pipeledger.policy.rules.actor import ActorRule
from pipeledger.policy.rules.allowed_refs import AllowedRefsRule
from pipeledger.policy.rules.base import Rule
from pipeledger.policy.rules.deploy_window import DeployWindowRule
from pipeledger.policy.rules.expression import ExpressionRule
from pipeledger.policy.rules.permission_change import PermissionChangeRule
from pipeledger.policy.rules.protection_drift import ProtectionDriftRule
from pipeledger.policy.rules.require_approval import RequireApprovalRule
from pipeledger.policy.rules.require_review import RequireReviewRule

RULE_TYPES: dict[str, type[Rule]] = {
    rule.type_name: rule
    for rule in (
        RequireApprovalRule,
        RequireReviewRule,
        AllowedRefsRule,
        DeployWindowRule,
        ActorRule,
        PermissionChangeRule,
        ProtectionDriftRule,
        ExpressionRule,
    )
}
