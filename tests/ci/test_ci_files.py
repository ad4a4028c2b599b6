"""The CI wrappers are valid (SchemaStore schemas), clean under zizmor, and thin.

Every check here also runs once against a deliberately broken file, so a tool that silently
stopped checking would fail the suite instead of passing it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.ci.tools import (
    ROOT,
    check_jsonschema,
    expressions_in_scripts,
    inputs_not_passed_by_env,
    load_yaml,
    split_component,
    unpinned_uses,
    zizmor,
)

ACTION = ROOT / "action.yml"
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
GITHUB_EXAMPLES = sorted((ROOT / "examples" / "github").glob("*.yml"))
ALL_WORKFLOWS = WORKFLOWS + GITHUB_EXAMPLES
COMPONENT = ROOT / "templates" / "pipeledger.yml"
GITLAB_EXAMPLE = ROOT / "examples" / "gitlab" / ".gitlab-ci.yml"
INJECTABLE_WORKFLOW = """\
name: greet
on:
  issues:
    types: [opened]
permissions:
  contents: read
jobs:
  greet:
    name: greet
    runs-on: ubuntu-24.04
    steps:
      - run: echo "${{ github.event.issue.title }}"
"""


def _ids(paths: list[Path]) -> list[str]:
    return [str(path.relative_to(ROOT)) for path in paths]


def test_the_files_exist() -> None:
    assert ACTION.is_file()
    assert [path.name for path in WORKFLOWS] == ["ci.yml", "docs.yml", "release.yml"]
    assert [path.name for path in GITHUB_EXAMPLES] == ["backfill-audit.yml", "deploy.yml"]
    assert COMPONENT.is_file()
    assert GITLAB_EXAMPLE.is_file()


# --- check-jsonschema, with SchemaStore's schemas vendored in the package --------------------


def test_action_matches_the_github_actions_schema() -> None:
    result = check_jsonschema("vendor.github-actions", [ACTION])
    assert result.returncode == 0, result.output


def test_a_broken_action_is_rejected(tmp_path: Path) -> None:
    # A composite step with `run:` must name its shell; drop it from our own action.
    broken = ACTION.read_text(encoding="utf-8").replace("      shell: bash\n", "", 1)
    assert broken != ACTION.read_text(encoding="utf-8")
    (tmp_path / "action.yml").write_text(broken, encoding="utf-8")
    result = check_jsonschema("vendor.github-actions", [tmp_path / "action.yml"])
    assert result.returncode != 0
    assert "runs" in result.output


def test_workflows_match_the_github_workflows_schema() -> None:
    result = check_jsonschema("vendor.github-workflows", ALL_WORKFLOWS)
    assert result.returncode == 0, result.output


def test_a_broken_workflow_is_rejected(tmp_path: Path) -> None:
    broken = tmp_path / "deploy.yml"
    text = (ROOT / "examples" / "github" / "deploy.yml").read_text(encoding="utf-8")
    broken.write_text(text.replace("runs-on:", "run-on:", 1), encoding="utf-8")
    result = check_jsonschema("vendor.github-workflows", [broken])
    assert result.returncode != 0


def _component_documents(tmp_path: Path, text: str) -> list[Path]:
    # check-jsonschema reads one YAML document per file; a component has two. The schema
    # does not look inside hidden jobs, so each is also checked as the deploy job that
    # extends it sees it: a visible job with the hidden job's keys and a script.
    header, jobs = split_component(text)
    visible = {
        name.lstrip("."): {**job, "script": ["./deploy.sh"]}
        for name, job in yaml.safe_load(jobs).items()
    }
    paths = [tmp_path / "spec.yml", tmp_path / "jobs.yml", tmp_path / "as-deploy-jobs.yml"]
    paths[0].write_text(header, encoding="utf-8")
    paths[1].write_text(jobs, encoding="utf-8")
    paths[2].write_text(yaml.safe_dump(visible), encoding="utf-8")
    return paths


def test_component_matches_the_gitlab_ci_schema(tmp_path: Path) -> None:
    documents = _component_documents(tmp_path, COMPONENT.read_text(encoding="utf-8"))
    result = check_jsonschema("vendor.gitlab-ci", documents, "--data-transform", "gitlab-ci")
    assert result.returncode == 0, result.output


def test_a_broken_component_is_rejected(tmp_path: Path) -> None:
    text = COMPONENT.read_text(encoding="utf-8").replace("when: always", "when: sometimes")
    documents = _component_documents(tmp_path, text)
    result = check_jsonschema("vendor.gitlab-ci", documents, "--data-transform", "gitlab-ci")
    assert result.returncode != 0
    assert "sometimes" in result.output


def test_a_broken_component_header_is_rejected(tmp_path: Path) -> None:
    text = COMPONENT.read_text(encoding="utf-8").replace("type: boolean", "type: bool", 1)
    assert "type: bool\n" in text
    documents = _component_documents(tmp_path, text)
    result = check_jsonschema("vendor.gitlab-ci", documents[:1], "--data-transform", "gitlab-ci")
    assert result.returncode != 0


def test_gitlab_example_matches_the_gitlab_ci_schema() -> None:
    result = check_jsonschema("vendor.gitlab-ci", [GITLAB_EXAMPLE], "--data-transform", "gitlab-ci")
    assert result.returncode == 0, result.output


# --- zizmor, offline --------------------------------------------------------------------------


def test_zizmor_finds_nothing_in_the_action_and_workflows() -> None:
    result, findings = zizmor([ACTION, *ALL_WORKFLOWS])
    summary = [(finding["ident"], finding["desc"]) for finding in findings]
    assert findings == [], summary
    assert result.returncode == 0, result.output


def test_zizmor_flags_a_template_injection(tmp_path: Path) -> None:
    workflow = tmp_path / "greet.yml"
    workflow.write_text(INJECTABLE_WORKFLOW, encoding="utf-8")
    result, findings = zizmor([workflow])
    assert result.returncode != 0
    assert "template-injection" in {finding["ident"] for finding in findings}


def test_zizmor_flags_an_input_pasted_into_the_actions_script(tmp_path: Path) -> None:
    text = ACTION.read_text(encoding="utf-8")
    injected = text.replace(
        """run: '"$PL_CLI" check'""", """run: '"$PL_CLI" check --policy "${{ inputs.policy }}"'"""
    )
    assert injected != text
    (tmp_path / "action.yml").write_text(injected, encoding="utf-8")
    result, findings = zizmor([tmp_path / "action.yml"])
    assert result.returncode != 0
    assert "template-injection" in {finding["ident"] for finding in findings}


def test_zizmor_flags_persisted_checkout_credentials(tmp_path: Path) -> None:
    text = (ROOT / "examples" / "github" / "deploy.yml").read_text(encoding="utf-8")
    persisted = text.replace("        with:\n          persist-credentials: false\n", "")
    assert persisted != text
    (tmp_path / "deploy.yml").write_text(persisted, encoding="utf-8")
    result, findings = zizmor([tmp_path / "deploy.yml"])
    assert result.returncode != 0
    assert "artipacked" in {finding["ident"] for finding in findings}


# --- the action is a thin wrapper -------------------------------------------------------------


def test_action_scripts_contain_no_expressions() -> None:
    assert expressions_in_scripts(load_yaml(ACTION)) == []


def test_action_passes_every_input_through_env() -> None:
    action = load_yaml(ACTION)
    assert set(action["inputs"]) >= {"policy", "environment", "sinks", "fail-on", "token"}
    assert inputs_not_passed_by_env(action) == []


def test_the_env_only_checks_catch_violations() -> None:
    action = yaml.safe_load(
        """
        inputs: {policy: {required: true}, sinks: {default: ""}}
        runs:
          using: composite
          steps:
            - shell: bash
              env: {PIPELEDGER_POLICY: "${{ inputs.policy }}"}
              run: pipeledger check --sink "${{ inputs.sinks }}"
        """
    )
    assert expressions_in_scripts(action) == ["runs.steps[0]"]
    assert inputs_not_passed_by_env(action) == ["sinks"]


def test_action_maps_inputs_to_the_cli_settings() -> None:
    gate = _step(load_yaml(ACTION)["runs"]["steps"], "gate")
    assert gate["env"] == {
        "PL_CLI": "${{ steps.install.outputs.cli }}",
        "PIPELEDGER_POLICY": "${{ inputs.policy }}",
        "PIPELEDGER_ENVIRONMENT": "${{ inputs.environment }}",
        "PIPELEDGER_SINK": "${{ inputs.sinks }}",
        "PIPELEDGER_FAIL_ON": "${{ inputs.fail-on }}",
        "PIPELEDGER_FAIL_OPEN": "${{ inputs.fail-open }}",
        "PIPELEDGER_FORMAT": "${{ inputs.format }}",
        "PIPELEDGER_OUTPUT": "${{ inputs.reports }}",
        "GITHUB_TOKEN": "${{ inputs.token }}",
    }


def test_action_defaults_and_outputs() -> None:
    action = load_yaml(ACTION)
    inputs = action["inputs"]
    assert inputs["policy"]["required"] is True
    assert inputs["fail-on"]["default"] == "error"
    assert inputs["format"]["default"] == "github"
    assert inputs["fail-open"]["default"] == "false"
    assert inputs["token"]["default"] == "${{ github.token }}"
    assert action["outputs"]["decision"]["value"] == "${{ steps.gate.outputs.decision }}"
    assert action["outputs"]["violations"]["value"] == "${{ steps.gate.outputs.violations }}"
    assert set(action["branding"]) == {"icon", "color"}
    assert action["runs"]["using"] == "composite"


def test_action_installs_its_own_source_and_uses_no_other_action() -> None:
    steps = load_yaml(ACTION)["runs"]["steps"]
    assert all("uses" not in step for step in steps)
    install = _step(steps, "install")["run"]
    assert '"$GITHUB_ACTION_PATH"' in install
    assert "$RUNNER_TEMP" in install


def _step(steps: list[dict[str, Any]], step_id: str) -> dict[str, Any]:
    matches = [step for step in steps if step.get("id") == step_id]
    assert len(matches) == 1, f"no single step with id {step_id}"
    return matches[0]


# --- pinning and least privilege in the workflows ---------------------------------------------


@pytest.mark.parametrize("path", ALL_WORKFLOWS, ids=_ids(ALL_WORKFLOWS))
def test_actions_are_pinned_by_sha_with_a_version_comment(path: Path) -> None:
    assert unpinned_uses(load_yaml(path)) == []
    for line in path.read_text(encoding="utf-8").splitlines():
        if re.match(r"\s*(- )?uses: (?!\./)", line):
            assert re.search(r"@[0-9a-f]{40} # v\d", line), line


def test_unpinned_uses_are_caught() -> None:
    workflow = {"jobs": {"j": {"steps": [{"uses": "actions/checkout@v4"}, {"uses": "./"}]}}}
    assert unpinned_uses(workflow) == ["jobs.j.steps[0]: actions/checkout@v4"]


@pytest.mark.parametrize("path", ALL_WORKFLOWS, ids=_ids(ALL_WORKFLOWS))
def test_checkouts_do_not_persist_credentials(path: Path) -> None:
    for job in load_yaml(path)["jobs"].values():
        for step in job["steps"]:
            if str(step.get("uses", "")).startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False


@pytest.mark.parametrize("path", ALL_WORKFLOWS, ids=_ids(ALL_WORKFLOWS))
def test_workflow_scripts_contain_no_expressions(path: Path) -> None:
    assert expressions_in_scripts(load_yaml(path)) == []


# --- the release workflow and dependabot --------------------------------------------------------

RELEASE = ROOT / ".github" / "workflows" / "release.yml"
DEPENDABOT = ROOT / ".github" / "dependabot.yml"


def test_zizmor_auditor_persona_finds_nothing() -> None:
    result, findings = zizmor([ACTION, *ALL_WORKFLOWS, DEPENDABOT], "--persona", "auditor")
    assert findings == [], result.output


def test_dependabot_config_matches_its_schema() -> None:
    result = check_jsonschema("vendor.dependabot", [DEPENDABOT])
    assert result.returncode == 0, result.output
    ecosystems = {u["package-ecosystem"] for u in load_yaml(DEPENDABOT)["updates"]}
    assert ecosystems == {"github-actions", "pip", "docker", "npm"}


def test_release_publishes_with_trusted_publishing_and_least_privilege() -> None:
    workflow = load_yaml(RELEASE)
    assert workflow[True] == {"push": {"tags": ["v*"]}}  # YAML 1.1 reads `on:` as true
    assert workflow["permissions"] == {}
    jobs = workflow["jobs"]
    oidc = {name for name, job in jobs.items() if job["permissions"].get("id-token") == "write"}
    assert oidc == {"attest", "pypi", "image"}
    assert "id-token" not in jobs["build"]["permissions"]
    pypi = jobs["pypi"]["steps"][-1]
    assert pypi["uses"].startswith("pypa/gh-action-pypi-publish@") and "with" not in pypi
    uses = [s.get("uses", "") for job in jobs.values() for s in job["steps"]]
    assert sum(u.startswith("actions/attest-build-provenance@") for u in uses) == 2
    build = " ".join(s.get("run", "") for s in jobs["build"]["steps"])
    for needed in ('twine" check', "--require-hashes", 'pipeledger" demo', "--version"):
        assert needed in build, needed
