"""``allowed-refs``: deployments to matching environments only from matching refs."""

from __future__ import annotations

from collections.abc import Iterable

from pipeledger.policy.deployment_context import DeploymentContext
from pipeledger.policy.globs import GlobSet
from pipeledger.policy.model import RuleSpec, Violation
from pipeledger.policy.rules.base import EvaluationEnv, Rule, RuleProblem, links_of

_PREFIXES = ("refs/heads/", "refs/tags/")


class AllowedRefsRule(Rule):
    type_name = "allowed-refs"
    default_remedy = "Deploy from an allowed branch or tag: merge the change first, then deploy."

    def __init__(self, spec: RuleSpec) -> None:
        super().__init__(spec)
        patterns: list[str] = list(spec.params.get("refs") or [])
        for index, pattern in enumerate(patterns):
            if not pattern.startswith("refs/"):
                raise RuleProblem(
                    f"/refs/{index}",
                    f"the ref {pattern!r} is not a full ref",
                    f"Write refs/heads/{pattern} for a branch or refs/tags/{pattern} for a tag.",
                )
        self.refs = GlobSet(patterns)
        # A deployment that recorded only ``main`` is judged by the name after the prefix.
        self.short = GlobSet([_strip(p) for p in patterns])

    def check_deployment(self, ctx: DeploymentContext, env: EvaluationEnv) -> Iterable[Violation]:
        ref = ctx.ref
        if ref and (self.refs.matches(ref) if ref.startswith("refs/") else self.short.matches(ref)):
            return ()
        shown = ref or "an unknown ref"
        return [
            Violation(
                message=f"The deployment to {ctx.environment} is from {shown}, which is not one of"
                f" the allowed refs ({', '.join(self.refs.patterns)}).",
                evidence=ctx.evidence_ids(),
                links=links_of(ctx.deployment, ctx.run),
            )
        ]


def _strip(pattern: str) -> str:
    for prefix in _PREFIXES:
        if pattern.startswith(prefix):
            return pattern[len(prefix) :]
    return pattern
