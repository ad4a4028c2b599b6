"""Run the action's own step scripts the way the runner does, with a stand-in CLI and Python,
to see what actually reaches the CLI and that hostile input values stay data."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.ci.tools import ROOT, load_yaml

EXPRESSION = re.compile(r"\$\{\{\s*([^}]+?)\s*\}\}")
RECORDER = f"""#!{sys.executable}
import json, os, sys
seen = {{k: v for k, v in os.environ.items() if k.startswith("PIPELEDGER_") or k == "GITHUB_TOKEN"}}
with open(os.environ["RECORD"], "a") as out:
    out.write(json.dumps({{"argv": sys.argv[1:], "env": seen}}) + "\\n")
sys.exit(int(os.environ.get("RECORDED_EXIT", "0")))
"""
# Stands in for `python3`: passes the version probe, makes a venv whose python records pip.
FAKE_PYTHON = """#!/bin/sh
case "$1" in
  -c) exit "${FAKE_TOO_OLD:-0}" ;;
  -m) mkdir -p "$3/bin" && cp "$0.venv-python" "$3/bin/python" ;;
esac
"""


def _steps() -> dict[str, dict[str, Any]]:
    return {step["id"]: step for step in load_yaml(ROOT / "action.yml")["runs"]["steps"]}


def _evaluate(value: str, inputs: dict[str, str], context: dict[str, str]) -> str:
    """The runner's expression substitution, for the few names the action uses."""

    def lookup(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("inputs."):
            return inputs[name.removeprefix("inputs.")]
        return context[name]

    return EXPRESSION.sub(lookup, value)


def _inputs(**given: str) -> dict[str, str]:
    declared = load_yaml(ROOT / "action.yml")["inputs"]
    values = {name: str(spec.get("default", "")) for name, spec in declared.items()}
    values["token"] = "job-token"  # what ${{ github.token }} evaluates to
    values.update({name.replace("_", "-"): value for name, value in given.items()})
    return values


def _run_step(
    step: dict[str, Any], inputs: dict[str, str], context: dict[str, str], extra: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ["PATH"], **extra}
    env.update({key: _evaluate(str(value), inputs, context) for key, value in step["env"].items()})
    assert step["shell"] == "bash"
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def _executable(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    path.chmod(0o755)
    return path


@pytest.fixture
def recorder(tmp_path: Path) -> Path:
    return _executable(tmp_path / "pipeledger", RECORDER)


def _records(tmp_path: Path) -> list[dict[str, Any]]:
    lines = (tmp_path / "record.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_gate_step_hands_inputs_to_the_cli_as_settings(tmp_path: Path, recorder: Path) -> None:
    inputs = _inputs(policy="policy.yml", environment="production", sinks="a b", fail_on="warning")
    context = {"steps.install.outputs.cli": str(recorder)}
    done = _run_step(_steps()["gate"], inputs, context, {"RECORD": str(tmp_path / "record.jsonl")})
    assert done.returncode == 0, done.stderr
    (record,) = _records(tmp_path)
    assert record["argv"] == ["check"]
    assert record["env"] == {
        "PIPELEDGER_POLICY": "policy.yml",
        "PIPELEDGER_ENVIRONMENT": "production",
        "PIPELEDGER_SINK": "a b",
        "PIPELEDGER_FAIL_ON": "warning",
        "PIPELEDGER_FAIL_OPEN": "false",
        "PIPELEDGER_FORMAT": "github",
        "PIPELEDGER_OUTPUT": "",
        "GITHUB_TOKEN": "job-token",
    }


def test_hostile_input_values_stay_data(tmp_path: Path, recorder: Path) -> None:
    hostile = f'x"; touch {tmp_path}/pwned; echo "$(touch {tmp_path}/pwned2)'
    inputs = _inputs(policy=hostile, environment="`touch pwned3`")
    context = {"steps.install.outputs.cli": str(recorder)}
    done = _run_step(_steps()["gate"], inputs, context, {"RECORD": str(tmp_path / "record.jsonl")})
    assert done.returncode == 0, done.stderr
    assert not list(tmp_path.glob("pwned*"))
    (record,) = _records(tmp_path)
    assert record["env"]["PIPELEDGER_POLICY"] == hostile


@pytest.mark.parametrize("code", [1, 2, 3])
def test_gate_step_fails_with_the_cli(tmp_path: Path, recorder: Path, code: int) -> None:
    context = {"steps.install.outputs.cli": str(recorder)}
    extra = {"RECORD": str(tmp_path / "record.jsonl"), "RECORDED_EXIT": str(code)}
    done = _run_step(_steps()["gate"], _inputs(policy="p.yml"), context, extra)
    assert done.returncode == code


def _install_env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "runner-temp").mkdir()
    return {
        "RUNNER_TEMP": str(tmp_path / "runner-temp"),
        "GITHUB_OUTPUT": str(tmp_path / "github-output"),
        "GITHUB_ACTION_PATH": "/actions/pipeledger/v1",
        "RECORD": str(tmp_path / "record.jsonl"),
    }


def test_install_step_installs_the_action_source(tmp_path: Path) -> None:
    python = _executable(tmp_path / "python3", FAKE_PYTHON)
    _executable(tmp_path / "python3.venv-python", RECORDER.replace('"argv"', '"pip"'))
    done = _run_step(_steps()["install"], _inputs(python=str(python)), {}, _install_env(tmp_path))
    assert done.returncode == 0, done.stderr
    locked, source = _records(tmp_path)
    assert locked["pip"][:3] == ["-m", "pip", "install"]
    assert {"--require-hashes", "--no-deps"} <= set(locked["pip"])
    assert locked["pip"][locked["pip"].index("--only-binary") + 1] == ":all:"
    assert "/actions/pipeledger/v1/requirements/runtime.txt" in locked["pip"]
    assert "/actions/pipeledger/v1/requirements/build.txt" in locked["pip"]
    assert {"--no-deps", "--no-build-isolation", "--no-index"} <= set(source["pip"])
    assert source["pip"][-1] == "/actions/pipeledger/v1"
    venv = tmp_path / "runner-temp" / "pipeledger-venv"
    output = (tmp_path / "github-output").read_text(encoding="utf-8")
    assert output == f"cli={venv}/bin/pipeledger\n"


def test_install_step_refuses_an_old_python(tmp_path: Path) -> None:
    python = _executable(tmp_path / "python3", FAKE_PYTHON)
    env = {**_install_env(tmp_path), "FAKE_TOO_OLD": "1"}
    done = _run_step(_steps()["install"], _inputs(python=str(python)), {}, env)
    assert done.returncode == 2
    assert "::error title=pipeledger::pipeledger needs Python 3.11 or newer" in done.stdout
    assert not (tmp_path / "github-output").exists()
