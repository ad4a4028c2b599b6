"""Where the GitLab gate runs decides what it can see: GitLab records a deployment's approvals
only once its job is blocked and runs the job only after them. ``pipeledger check`` before that
moment (a blocked deploy job, or a separate gate job in an earlier stage) refuses the deploy
and says so; inside the approved deploy job it judges the approval."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.e2e.test_gitlab_check import (
    CASES,
    JOB_ID,
    JOB_TOKEN,
    TOKEN,
    _decisions,
    approve_and_run,
    gate,
    job_environ,
    serve,
)
from tests.fakes.gitlab_data import FakeJob

pytestmark = pytest.mark.e2e
APPROVED = CASES[0]  # approved by a second person, from main: passes once approved
NOT_YET = (
    "this job's deployment to production has no approval yet:"
    " the gate must run inside the approved deploy job"
)
GATE_JOB_ID = JOB_ID - 1


def test_the_fake_blocks_a_deploy_job_until_it_is_approved() -> None:
    with serve(APPROVED, approve=False) as fake:
        deployment = fake.instance.projects[0].deployments[0]
        assert (deployment.status, deployment.approvals) == ("blocked", [])
        assert deployment.pending_approval_count == 1
        with pytest.raises(ValueError, match="still waits for approval"):
            fake.run_deploy_job(deployment, deployment.updated_at)
        approve_and_run(fake, APPROVED)
        assert (deployment.status, deployment.pending_approval_count) == ("running", 0)
        with pytest.raises(ValueError, match="not blocked"):
            fake.approve_deployment(deployment, deployment.user, deployment.updated_at)


def test_a_blocked_deploy_job_is_refused_with_where_the_gate_must_run(tmp_path: Path) -> None:
    db, junit = tmp_path / "l.db", tmp_path / "junit.xml"
    with serve(APPROVED, approve=False) as fake:
        environ = job_environ(fake.api_url, APPROVED)
        code, out, err = gate(environ, db, APPROVED, "--fail-open", "--output", f"junit={junit}")
        assert code == 1, out + err
        assert NOT_YET in err
        assert "deployment 5001 as blocked with 1 approval(s) pending" in err
        assert "Traceback" not in err and TOKEN not in err and JOB_TOKEN not in err
        assert NOT_YET in ET.parse(junit).getroot().find(".//error").get("message", "")  # type: ignore[union-attr]
        decisions = _decisions(db)
        assert [d.action for d in decisions] == ["fail"]
        assert NOT_YET in decisions[0].attributes["error"]
        # The same job once approved and started: now the gate judges the approval.
        approve_and_run(fake, APPROVED)
        code, out, err = gate(environ, db, APPROVED)
    assert code == 0, out + err
    assert json.loads(out)["decision"] == "pass"


@pytest.mark.parametrize("status", ["created", "blocked"])
def test_a_gate_job_before_the_deploy_job_is_refused(status: str, tmp_path: Path) -> None:
    """The old component's shape: a gate job in an earlier stage, the deploy job `needs:` it.
    The deploy job's deployment exists from the pipeline's start, unapproved."""
    db = tmp_path / "l.db"
    with serve(APPROVED, approve=False) as fake:
        project = fake.instance.projects[0]
        deployment = project.deployments[0]
        deployment.status = status
        gate_job = FakeJob(
            GATE_JOB_ID, "pipeledger-gate", "gate", deployment.pipeline, deployment.user
        )
        fake.job_token_job = (project, gate_job)
        environ = job_environ(fake.api_url, APPROVED)
        environ["CI_JOB_ID"] = str(GATE_JOB_ID)
        del environ["CI_ENVIRONMENT_NAME"]  # the gate job has no environment of its own
        code, out, err = gate(environ, db, APPROVED)
    assert code == 1, out + err
    assert NOT_YET in err
    assert f"This job ({GATE_JOB_ID}) is not the deploy job" in err
    assert f"belongs to job {JOB_ID}, which has not started ({status})" in err
    assert [d.action for d in _decisions(db)] == ["fail"]


def test_a_later_job_still_judges_the_finished_deployment_of_its_pipeline(tmp_path: Path) -> None:
    """A job after the deploy job (say, a post-deploy check) sees a started deployment: that
    is evidence, not a placement mistake."""
    with serve(APPROVED) as fake:
        project = fake.instance.projects[0]
        deployment = project.deployments[0]
        later = FakeJob(JOB_ID + 1, "verify", "verify", deployment.pipeline, deployment.user)
        fake.job_token_job = (project, later)
        environ = {**job_environ(fake.api_url, APPROVED), "CI_JOB_ID": str(JOB_ID + 1)}
        code, out, err = gate(environ, tmp_path / "l.db", APPROVED)
    assert code == 0, out + err
