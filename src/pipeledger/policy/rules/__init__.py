"""The built-in rule types, by the ``type`` a policy file names them with. Each type's module
is imported when a policy first uses it (the gate's policy seldom needs them all: the
expression rule brings JMESPath, the deploy window the time-zone database)."""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping

from pipeledger.policy.rules.base import Rule

# type name: (module under pipeledger.policy.rules, class). A type's module is private
# (_<name>) when only this table loads it; permission_change and protection_drift are
# public because the anomaly detectors use what they say about roles and protection.
_WHERE: dict[str, tuple[str, str]] = {
    "require-approval": ("_require_approval", "RequireApprovalRule"),
    "require-review": ("_require_review", "RequireReviewRule"),
    "allowed-refs": ("_allowed_refs", "AllowedRefsRule"),
    "deploy-window": ("_deploy_window", "DeployWindowRule"),
    "actor": ("_actor", "ActorRule"),
    "permission-change": ("permission_change", "PermissionChangeRule"),
    "protection-drift": ("protection_drift", "ProtectionDriftRule"),
    "expression": ("_expression", "ExpressionRule"),
}


class _RuleTypes(Mapping[str, type[Rule]]):
    """``RULE_TYPES[name]``: the rule class, its module imported on first use."""

    def __getitem__(self, name: str) -> type[Rule]:
        module, class_name = _WHERE[name]
        rule: type[Rule] = getattr(
            importlib.import_module(f"pipeledger.policy.rules.{module}"), class_name
        )
        return rule

    def __iter__(self) -> Iterator[str]:
        return iter(_WHERE)

    def __len__(self) -> int:
        return len(_WHERE)


RULE_TYPES: Mapping[str, type[Rule]] = _RuleTypes()
