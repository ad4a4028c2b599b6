"""``require-review``: the deployed commit came through a merged pull request approved by
someone other than its author."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from pipeledger.events import AuditEvent
from pipeledger.policy.context import DeploymentContext
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
        verdicts = [self._judge(pull, events) for pull, events in sorted(by_pull.items())]
        if any(ok for ok, _ in verdicts):
            return ()
        sha = (ctx.sha or "?")[:12]
        if not verdicts:
            message = (
                f"The deployed commit {sha} came through no pull request with a recorded review."
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

    def _judge(self, pull: str, events: Sequence[AuditEvent]) -> tuple[bool, str]:
        target = next((e.target for e in events if e.target), None) or {}
        author = str(target.get("author") or "").lower()
        merged = any((e.target or {}).get("merged_at") for e in events)
        latest: dict[str, str] = {}
        for event in sorted(events, key=lambda e: e.occurred_at):
            if event.action in VERDICTS and event.actor.login:
                latest[event.actor.login.lower()] = event.action
        approvers = sorted(login for login, state in latest.items() if state == "approved")
        independent = [login for login in approvers if login != author]
        if not author:
            return False, f"pull request #{pull} has no recorded author"
        if not merged:
            return False, f"pull request #{pull} was not merged"
        if len(independent) >= self.minimum:
            return True, ""
        if approvers:
            return False, f"pull request #{pull} was approved only by its author {author}"
        return False, f"pull request #{pull} by {author} has no approving review"
