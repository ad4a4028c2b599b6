"""Which deployments tell the gate it runs before the approval it must check (pure logic)."""

from __future__ import annotations

from typing import Any

import pytest

from pipeledger.errors import AwaitingApproval, ExitCode
from pipeledger_gitlab.awaiting import refuse_unapproved

THIS_JOB, DEPLOY_JOB = "9001", "9002"


def deployment(status: str, job: str, pending: Any = 0) -> dict[str, Any]:
    return {"id": 5001, "status": status, "deployable": {"id": int(job)}, **(
        {} if pending is None else {"pending_approval_count": pending}
    )}  # fmt: skip


@pytest.mark.parametrize(
    ("status", "job", "pending", "refused"),
    [
        ("running", THIS_JOB, 0, False),  # the approved deploy job, running
        ("running", THIS_JOB, None, False),  # GitLab Free: no approval fields
        ("blocked", THIS_JOB, 1, True),
        ("blocked", THIS_JOB, None, True),
        ("created", THIS_JOB, 2, True),  # approvals still missing
        ("created", DEPLOY_JOB, 0, True),  # a gate job before the deploy job
        ("blocked", DEPLOY_JOB, 1, True),
        ("running", DEPLOY_JOB, 0, False),  # a job after the deploy job started
        ("success", DEPLOY_JOB, 0, False),
        ("failed", THIS_JOB, 0, False),
    ],
)
def test_refused_exactly_while_the_approval_cannot_exist_yet(
    status: str, job: str, pending: Any, refused: bool
) -> None:
    subject = deployment(status, job, pending)
    if not refused:
        refuse_unapproved(subject, THIS_JOB, "production")
        return
    with pytest.raises(AwaitingApproval) as caught:
        refuse_unapproved(subject, THIS_JOB, "production")
    assert caught.value.message == (
        "this job's deployment to production has no approval yet: the gate must run inside"
        " the approved deploy job."
    )
    assert caught.value.exit_code is ExitCode.VIOLATIONS
    assert ".pipeledger-gate" in (caught.value.remedy or "")


def test_the_remedy_names_the_deploy_job_when_the_gate_is_another_job() -> None:
    with pytest.raises(AwaitingApproval) as caught:
        refuse_unapproved(deployment("created", DEPLOY_JOB), THIS_JOB, "staging")
    assert "deployment to staging has no approval yet" in caught.value.message
    assert f"This job ({THIS_JOB}) is not the deploy job" in caught.value.describe()
    assert f"belongs to job {DEPLOY_JOB}, which has not started (created)" in (
        caught.value.describe()
    )
