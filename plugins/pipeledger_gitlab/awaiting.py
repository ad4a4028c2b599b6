"""Whether the gate runs too early. GitLab records a deployment's approvals only once its job
is blocked waiting for them and starts the job only after they are given, so a gate that sees
its own deployment blocked, or another job's deployment not started yet, cannot judge the
approval: it refuses the deploy and says where it has to run instead."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipeledger.plugin import AwaitingApproval

Json = Mapping[str, Any]
# Statuses of a deployment whose job has not started: GitLab creates the deployment with the
# pipeline and blocks it when the job is due and approvals are missing.
NOT_STARTED = frozenset({"created", "blocked"})
MOVE_THE_GATE = (
    "Run the gate inside the deploy job, as its before_script (the deploy job extends the"
    " component's .pipeledger-gate), and drop any separate gate job and the needs: on it."
)


def refuse_unapproved(deployment: Json, job_id: str | None, environment: str) -> None:
    """Raise AwaitingApproval when ``deployment`` cannot have been approved by now."""
    status = str(deployment.get("status") or "")
    pending = _pending(deployment)
    deployable = deployment.get("deployable") or {}
    owner = None if deployable.get("id") is None else str(deployable["id"])
    if owner is not None and owner == job_id:
        if status != "blocked" and not pending:
            return
        where = f"GitLab shows this job's deployment {deployment.get('id')} as {status}"
    elif status in NOT_STARTED:
        where = (
            f"This job ({job_id or 'CI_JOB_ID unset'}) is not the deploy job: deployment"
            f" {deployment.get('id')} to {environment} belongs to job {owner}, which has not"
            f" started ({status})"
        )
    else:
        return
    pending_note = f" with {pending} approval(s) pending" if pending else ""
    raise AwaitingApproval(
        f"this job's deployment to {environment} has no approval yet: the gate must run"
        " inside the approved deploy job.",
        f"{where}{pending_note}; GitLab records approvals only while the deploy job is"
        f" blocked and runs it only after approval. {MOVE_THE_GATE}",
    )


def _pending(deployment: Json) -> int:
    value = deployment.get("pending_approval_count")
    return value if isinstance(value, int) and value > 0 else 0
