"""The GitLab component and example pipeline under gitlab-ci-local (a real GitLab CI
interpreter, shell executor): valid on every branch, and the deploy job runs the real
``pipeledger check`` first, after approval, against the fake GitLab API on 127.0.0.1 —
passing an approved deploy, stopping a bad one before its script, and leaving the code
quality and JUnit reports where the component declares them."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.ci.tools import split_component
from tests.core.policy.gate_cases import GateCase
from tests.e2e.test_gitlab_check import (
    CASES,
    JOB_ID,
    JOB_TOKEN,
    PIPELINE_ID,
    PROJECT_ID,
    TOKEN,
    USERS,
    approve_and_run,
    case_instance,
    username,
)
from tests.fakes.gitlab_api import FakeGitLab
from tests.gitlab_component import gcl
from tests.gitlab_component.gcl import COMPONENT, Project, project, venv_bin

pytestmark = pytest.mark.e2e
APPROVED = CASES[0]
SELF_APPROVED = next(c for c in CASES if c.name == "self-approved")
NOT_YET = (
    "this job's deployment to production has no approval yet:"
    " the gate must run inside the approved deploy job"
)
# The README's old snippet: a deploy job that `needs:` a gate job its rules exclude.
NEEDS_AN_EXCLUDED_JOB = """\
stages: [gate, deploy]
pipeledger-gate:
  stage: gate
  rules:
    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH
  script: [pipeledger check]
deploy-production:
  stage: deploy
  needs: [pipeledger-gate]
  environment: {name: production}
  script: [./scripts/deploy.sh production]
"""
OWN_IMAGE_WITH_PYTHON = """\
include:
  - component: $CI_SERVER_FQDN/acme/web/pipeledger@$CI_COMMIT_SHA
    inputs: {policy: .gitlab/pipeledger/policy.yml}
deploy-production:
  image: python:3.12-slim
  extends: .pipeledger-gate-pip
  environment: {name: production}
  script: [./scripts/deploy.sh production]
"""


def _jobs(run_csv: str) -> list[str]:
    lines = [line for line in run_csv.splitlines() if line.count(";") >= 3]
    rows = list(csv.DictReader(io.StringIO("\n".join(lines)), delimiter=";"))
    return sorted(row["name"] for row in rows)


@pytest.mark.parametrize(
    ("branch", "variables", "jobs"),
    [
        ("main", {}, ["build", "deploy-production"]),
        ("feature/login", {}, ["build"]),
        ("main", {"CI_PIPELINE_SOURCE": "schedule"}, ["pipeledger-backfill-audit"]),
    ],
    ids=["default branch", "feature branch", "schedule"],
)
def test_the_example_is_a_valid_pipeline(
    branch: str, variables: dict[str, str], jobs: list[str], tmp_path: Path
) -> None:
    web = project(tmp_path, branch=branch)
    listed = web.gcl("--list-csv", variables=variables)
    assert listed.returncode == 0, listed.output
    assert _jobs(listed.stdout) == jobs
    chain = web.gcl("--validate-dependency-chain", variables=variables)
    assert chain.returncode == 0, chain.output


def test_a_needs_on_a_job_its_rules_exclude_is_caught(tmp_path: Path) -> None:
    """The check above can fail: the old snippet breaks on a feature branch."""
    web = project(tmp_path, pipeline=NEEDS_AN_EXCLUDED_JOB, branch="feature/login")
    chain = web.gcl("--validate-dependency-chain")
    assert chain.returncode != 0
    assert "pipeledger-gate is when:never, but its needed by deploy-production" in chain.output


def test_the_deploy_job_runs_the_gate_first_in_the_released_image(tmp_path: Path) -> None:
    job = project(tmp_path).preview()["deploy-production"]
    version = (
        (tmp_path / "web" / "templates" / "pipeledger.yml")
        .read_text()
        .split("ghcr.io/pipeledger/pipeledger:")[1]
        .split()[0]
    )
    assert job["image"] == {"name": f"ghcr.io/pipeledger/pipeledger:{version}", "entrypoint": [""]}
    assert job["before_script"] == [
        "pipeledger check --format text"
        " --output gitlab=gl-code-quality-report.json --output junit=pipeledger-junit.xml"
    ]
    assert job["script"] == ["./scripts/deploy.sh production"]
    assert "needs" not in job
    assert job["variables"]["PIPELEDGER_POLICY"] == ".gitlab/pipeledger/policy.yml"
    assert job["variables"]["PIPELEDGER_ENVIRONMENT"] == "$CI_ENVIRONMENT_NAME"
    assert job["artifacts"]["when"] == "always"


def test_a_deploy_image_with_python_installs_the_gate_with_hashes(tmp_path: Path) -> None:
    job = project(tmp_path, pipeline=OWN_IMAGE_WITH_PYTHON).preview()["deploy-production"]
    assert job["image"] == {"name": "python:3.12-slim"}
    assert job["variables"]["PL_REQUIREMENTS"] == ".gitlab/pipeledger/requirements.txt"
    assert any("--require-hashes" in line for line in job["before_script"])
    assert job["before_script"][-1].startswith("pipeledger check")


# --- the deploy job, run: the real CLI against the fake GitLab ---------------------------------


@pytest.fixture
def web(tmp_path: Path) -> Project:
    return project(tmp_path)


def _fake(case: GateCase, sha: str, approve: bool = True) -> FakeGitLab:
    """The case's GitLab world on the project's real commit, its deploy job blocked until
    approved (``approve=False`` leaves it so)."""
    instance = case_instance(case)
    gitlab_project = instance.projects[0]
    gitlab_project.pipelines[0].sha = sha
    gitlab_project.merge_requests[0].merge_commit_sha = sha
    fake = FakeGitLab(instance, token=TOKEN, job_token=JOB_TOKEN)
    fake.job_token_job = (gitlab_project, gitlab_project.deployments[0])
    if approve:
        approve_and_run(fake, case)
    return fake


@pytest.fixture
def serve() -> Iterator[list[FakeGitLab]]:
    started: list[FakeGitLab] = []
    yield started
    for fake in started:
        fake.stop()


def _deploy(web: Project, fake: FakeGitLab, case: GateCase) -> str:
    """Run the example's deploy job as GitLab would give it this case's CI variables."""
    trigger = USERS[case.trigger]
    variables = {
        "GITLAB_CI": "true",
        "CI_API_V4_URL": fake.start(),
        "GITLAB_TOKEN": TOKEN,
        "CI_JOB_TOKEN": JOB_TOKEN,
        "CI_PROJECT_ID": str(PROJECT_ID),
        "CI_PIPELINE_ID": str(PIPELINE_ID),
        "CI_JOB_ID": str(JOB_ID),
        "GITLAB_USER_LOGIN": username(case.trigger),
        "GITLAB_USER_ID": str(trigger.id),
        "PIPELEDGER_NOW": case.now,
    }
    run = web.gcl(
        "deploy-production",
        "--force-shell-executor",
        "--shell-isolation",
        "--no-json-schema-validation",  # the pipeline's schema is checked by the tests above
        variables=variables,
        path_prefix=[venv_bin()],
    )
    assert TOKEN not in run.output.replace(f"GITLAB_TOKEN={TOKEN}", "")
    return run.output if run.returncode == 0 else f"FAILED\n{run.output}"


def _reports(web: Project) -> tuple[list[dict[str, object]], ET.Element]:
    """The reports at the paths the component declares, in the job's project dir."""
    jobs = yaml.safe_load(split_component(COMPONENT.read_text(encoding="utf-8"))[1])
    declared = jobs[".pipeledger-gate"]["artifacts"]["reports"]
    job_dir = web.job_dir("deploy-production")
    quality = json.loads((job_dir / declared["codequality"]).read_text(encoding="utf-8"))
    junit = ET.parse(job_dir / declared["junit"]).getroot()
    return quality, junit


def _failing_suites(junit: ET.Element) -> set[str]:
    return {
        str(suite.get("name"))
        for suite in junit.iter("testsuite")
        if suite.find(".//failure") is not None
    }


def test_an_approved_deploy_passes_the_gate_then_deploys(
    web: Project, serve: list[FakeGitLab]
) -> None:
    fake = _fake(APPROVED, web.sha)
    serve.append(fake)
    output = _deploy(web, fake, APPROVED)
    assert not output.startswith("FAILED"), output
    assert fake.counts()["job"] == 1  # the job was verified with CI_JOB_TOKEN
    deployed = web.job_dir("deploy-production") / "deployed.txt"
    assert deployed.read_text(encoding="utf-8") == "deployed production by octocat\n"
    quality, junit = _reports(web)
    assert [issue for issue in quality if issue.get("severity") != "info"] == []
    assert junit.get("tests") == "5" and _failing_suites(junit) == set()


def test_a_self_approved_deploy_is_stopped_before_its_script(
    web: Project, serve: list[FakeGitLab]
) -> None:
    fake = _fake(SELF_APPROVED, web.sha)
    serve.append(fake)
    output = _deploy(web, fake, SELF_APPROVED)
    assert output.startswith("FAILED"), output
    assert "prod-approval" in output
    assert not (web.job_dir("deploy-production") / "deployed.txt").exists()
    quality, junit = _reports(web)
    assert "prod-approval" in json.dumps(quality)
    assert _failing_suites(junit) == {"prod-approval"}


def test_a_gate_before_the_approval_says_where_it_must_run(
    web: Project, serve: list[FakeGitLab]
) -> None:
    fake = _fake(APPROVED, web.sha, approve=False)
    serve.append(fake)
    output = _deploy(web, fake, APPROVED)
    assert output.startswith("FAILED"), output
    assert NOT_YET in " ".join(output.split())
    assert not (web.job_dir("deploy-production") / "deployed.txt").exists()


def test_missing_gitlab_ci_local_skips_only_when_ci_does_not_require_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gcl, "ROOT", tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv(gcl.REQUIRE, raising=False)
    with pytest.raises(pytest.skip.Exception):
        gcl.gitlab_ci_local()
    monkeypatch.setenv(gcl.REQUIRE, "1")
    with pytest.raises(pytest.fail.Exception, match="may not skip"):
        gcl.gitlab_ci_local()
