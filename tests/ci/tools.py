"""Helpers for the CI-file tests: run zizmor and check-jsonschema offline, read CI YAML."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.paths import ROOT

__all__ = ["ROOT"]  # re-exported: the CI tests import it from here

SHA_PIN = re.compile(r"^[^@\s]+@[0-9a-f]{40}$")
TOOL_TIMEOUT = 60


@dataclass(frozen=True)
class ToolResult:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def _offline_env() -> dict[str, str]:
    """The environment minus every token, so no tool can reach an API even if it tried."""
    hidden = {"GH_TOKEN", "GITHUB_TOKEN", "ZIZMOR_GITHUB_TOKEN", "GITLAB_TOKEN"}
    env = {key: value for key, value in os.environ.items() if key not in hidden}
    env["NO_COLOR"] = "1"
    return env


def _run(argv: Sequence[str]) -> ToolResult:
    done = subprocess.run(
        list(argv),
        capture_output=True,
        text=True,
        timeout=TOOL_TIMEOUT,
        env=_offline_env(),
        check=False,
    )
    return ToolResult(done.returncode, done.stdout, done.stderr)


def zizmor_binary() -> Path:
    beside = Path(sys.executable).parent / "zizmor"
    found = beside if beside.is_file() else shutil.which("zizmor")
    if found is None:
        pytest.fail("zizmor is not installed; run `make .venv/.installed-dev` (dev extra).")
    return Path(found)


def zizmor(paths: Sequence[Path], *extra: str) -> tuple[ToolResult, list[dict[str, Any]]]:
    """zizmor (regular persona unless ``extra`` says otherwise), offline, ignoring any local
    config or ignore comments."""
    argv = [str(zizmor_binary()), "--offline", "--no-config", "--no-ignores", "--format", "json"]
    result = _run([*argv, *extra, *map(str, paths)])
    findings = json.loads(result.stdout) if result.stdout.strip() else []
    return result, findings


def check_jsonschema(schema: str, paths: Sequence[Path], *extra: str) -> ToolResult:
    """Validate against one of check-jsonschema's vendored (offline) SchemaStore schemas."""
    argv = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, *extra]
    return _run([*argv, *map(str, paths)])


def split_component(text: str) -> tuple[str, str]:
    """A GitLab component file: the ``spec:`` header document and the job document."""
    parts = re.split(r"^---[ \t]*$", text, maxsplit=1, flags=re.MULTILINE)
    if len(parts) != 2:
        raise ValueError("a component needs a spec header, a `---` line, then the jobs")
    return parts[0], parts[1]


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def triggers(workflow: dict[Any, Any]) -> Any:
    """``on:``, which YAML 1.1 (PyYAML) reads as the boolean True."""
    return workflow.get("on", workflow.get(True))


def iter_steps(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every step of a workflow's jobs or a composite action, with a readable location."""
    runs = document.get("runs") or {}
    for index, step in enumerate(runs.get("steps") or []):
        yield f"runs.steps[{index}]", step
    for job_name, job in (document.get("jobs") or {}).items():
        for index, step in enumerate(job.get("steps") or []):
            yield f"jobs.{job_name}.steps[{index}]", step


def expressions_in_scripts(document: dict[str, Any]) -> list[str]:
    """Locations of ``${{ }}`` inside ``run:``: the runner pastes those into the script."""
    return [where for where, step in iter_steps(document) if "${{" in str(step.get("run", ""))]


def inputs_not_passed_by_env(action: dict[str, Any]) -> list[str]:
    """Declared inputs that no step hands over as exactly ``env: NAME: ${{ inputs.x }}``."""
    passed: set[str] = set()
    for _where, step in iter_steps(action):
        for value in (step.get("env") or {}).values():
            match = re.fullmatch(r"\$\{\{\s*inputs\.([\w-]+)\s*\}\}", str(value))
            if match:
                passed.add(match.group(1))
    return sorted(set(action.get("inputs") or {}) - passed)


def unpinned_uses(document: dict[str, Any]) -> list[str]:
    """``uses:`` references that are neither local (``./``) nor a full 40-hex commit SHA."""
    found: list[str] = []
    for where, step in iter_steps(document):
        uses = step.get("uses")
        if uses and not uses.startswith("./") and not SHA_PIN.match(uses):
            found.append(f"{where}: {uses}")
    return found
