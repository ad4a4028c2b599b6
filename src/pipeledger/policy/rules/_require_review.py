"""``require-review``: the deployed commit came through a merged pull request approved by
someone other than its author. Reviews of every pull/merge request containing the commit are
recorded, merged or not, so the finding says what is true: an approved but unmerged pull
request deployed from its branch is named as such."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pipeledger.events import AuditEvent
from pipeledger.policy.deployment_context import DeploymentContext
from pipeledger.policy.model import RuleSpec, Violation
from pipeledger.policy.rules.base import EvaluationEnv, Rule, links_of

# Review states that replace a reviewer's earlier verdict; comments do not.
VERDICTS = frozenset({"approved", "changes_requested", "dismissed"})


class RequireReviewRule(Rule):
    type_name = "require-review"
    default_remedy = (
        "Deploy only commits merged through a pull request that someone other than its author"
        " approved; protect the branch with required reviews."
    )

    def __init__(self, spec: RuleSpec) -> None:
        super().__init__(spec)
        self.minimum = int(spec.params.get("min_approvals", 1))

    def check_deployment(self, ctx: DeploymentContext, env: EvaluationEnv) -> Iterable[Violation]:
        by_pull: dict[str, list[AuditEvent]] = defaultdict(list)
        for review in ctx.reviews:
            by_pull[review.correlation.get("pull_request") or "?"].append(review)
        verdicts = [self._judge(pull, events, ctx) for pull, events in sorted(by_pull.items())]
        if any(ok for ok, _ in verdicts):
            return ()
        sha = (ctx.sha or "?")[:12]
        if not verdicts:
            message = (
                f"No pull or merge request containing the deployed commit {sha} has a recorded"
                " review."
            )
        else:
            message = f"The deployed commit {sha} lacks an independent review: " + "; ".join(
                reason for _, reason in verdicts
            )
        return [
            Violation(
                message=message,
                evidence=[*ctx.evidence_ids(), *(e.id for e in ctx.reviews)],
                links=links_of(ctx.deployment, ctx.run, *ctx.reviews),
            )
        ]

    def _judge(
        self, pull: str, events: Sequence[AuditEvent], ctx: DeploymentContext
    ) -> tuple[bool, str]:
        target = next((e.target for e in events if e.target), None) or {}
        name = _name(target, pull)
        author = str(target.get("author") or "").lower()
        merged = any(_merged(e.target or {}) for e in events)
        latest: dict[str, str] = {}
        for event in sorted(events, key=lambda e: e.occurred_at):
            if event.action in VERDICTS and event.actor.login:
                latest[event.actor.login.lower()] = event.action
        approvers = sorted(login for login, state in latest.items() if state == "approved")
        independent = [login for login in approvers if login != author]
        if not author:
            return False, f"{name} has no recorded author"
        if not merged:
            branch = _branch(target.get("head") or ctx.ref)
            where = f" from {branch}" if branch else ""
            if approvers:
                return (
                    False,
                    f"{name} was approved by {', '.join(approvers)} but deployed unmerged{where}",
                )
            return (
                False,
                f"{name} by {author} has no approving review and was deployed unmerged{where}",
            )
        if len(independent) >= self.minimum:
            return True, ""
        if approvers:
            return False, f"{name} was approved only by its author {author}"
        return False, f"{name} by {author} has no approving review"


def _name(target: Mapping[str, Any], number: str) -> str:
    """How each forge names it: ``PR #14`` on GitHub, ``MR !14`` on GitLab."""
    if target.get("type") == "merge_request":
        return f"MR !{target.get('number', number)}"
    return f"PR #{target.get('number', number)}"


def _merged(target: Mapping[str, Any]) -> bool:
    return bool(target.get("merged") or target.get("merged_at") or target.get("state") == "merged")


def _branch(ref: Any) -> str | None:
    if not isinstance(ref, str) or not ref:
        return None
    return ref.removeprefix("refs/heads/")
