"""Run the GitLab component under gitlab-ci-local, a real GitLab CI interpreter (includes,
components with ``spec: inputs:``, ``extends``, rules, variables), with the shell executor.

``project()`` builds a throwaway GitLab project from the repository's example pipeline and
component: a git repository whose remote is ``gitlab.example.com/acme/web``, so the
example's ``include: component:`` is rewritten to this project's own component at the
current commit, which gitlab-ci-local resolves locally (``templates/<name>.yml``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.paths import ROOT

REQUIRE = "PIPELEDGER_REQUIRE_GITLAB_CI_LOCAL"
EXAMPLE = ROOT / "examples" / "gitlab" / ".gitlab-ci.yml"
COMPONENT = ROOT / "templates" / "pipeledger.yml"
POLICY = ROOT / "examples" / "policies" / "baseline.yml"
PUBLISHED = "$CI_SERVER_FQDN/my-group/pipeledger/pipeledger@"
LOCAL = "$CI_SERVER_FQDN/acme/web/pipeledger@$CI_COMMIT_SHA"
DEPLOY_SCRIPT = '#!/bin/sh\necho "deployed $1 by $GITLAB_USER_LOGIN" > deployed.txt\n'
TIMEOUT = 60


def gitlab_ci_local() -> Path:
    """The installed gitlab-ci-local; a skip without it, unless CI requires it."""
    candidates = [ROOT / ".ci-tools" / "bin" / "gitlab-ci-local"]
    on_path = shutil.which("gitlab-ci-local")
    if on_path:
        candidates.append(Path(on_path))
    found = next((path for path in candidates if path.is_file()), None)
    if found is not None:
        return found
    message = "gitlab-ci-local is not installed; run tools/ci/install-gitlab-ci-local.sh"
    if os.environ.get(REQUIRE):
        pytest.fail(f"{message} ({REQUIRE} is set, so these tests may not skip)")
    pytest.skip(message)


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@dataclass(frozen=True)
class Project:
    path: Path
    home: Path

    @property
    def sha(self) -> str:
        return git(self.path, "rev-parse", "HEAD").strip()

    def gcl(
        self,
        *args: str,
        variables: Mapping[str, str] | None = None,
        path_prefix: Sequence[Path] = (),
    ) -> Run:
        """gitlab-ci-local in this project; ``variables`` reach the jobs as CI variables."""
        argv = [str(gitlab_ci_local()), "--home", str(self.home), "--no-color", *args]
        for name, value in (variables or {}).items():
            argv += ["--variable", f"{name}={value}"]
        if variables:
            argv += ["--ignore-predefined-vars", ",".join(variables)]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GCL_", "CI_", "GITLAB"))}
        env["HOME"] = str(self.home)
        env["PATH"] = os.pathsep.join([*map(str, path_prefix), env.get("PATH", "")])
        done = subprocess.run(
            argv,
            cwd=self.path,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
        return Run(done.returncode, done.stdout, done.stderr)

    def preview(self, variables: Mapping[str, str] | None = None) -> dict[str, Any]:
        run = self.gcl("--preview", variables=variables)
        assert run.returncode == 0, run.output
        preview: dict[str, Any] = yaml.safe_load(run.stdout)
        return preview

    def job_dir(self, job: str) -> Path:
        """Where a --shell-isolation job ran: its own $CI_PROJECT_DIR."""
        return self.path / ".gitlab-ci-local" / "builds" / job


def git(cwd: Path, *args: str) -> str:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_AUTHOR_NAME": "Octo Cat",
        "GIT_AUTHOR_EMAIL": "octocat@example.com",
        "GIT_COMMITTER_NAME": "Octo Cat",
        "GIT_COMMITTER_EMAIL": "octocat@example.com",
    }
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


def project(tmp_path: Path, pipeline: str | None = None, branch: str = "main") -> Project:
    """A committed project with the example pipeline (or ``pipeline``), the component, the
    baseline policy and deploy/build scripts, checked out on ``branch``."""
    root = tmp_path / "web"
    files = {
        ".gitlab-ci.yml": pipeline or example_with_local_component(),
        "templates/pipeledger.yml": COMPONENT.read_text(encoding="utf-8"),
        ".gitlab/pipeledger/policy.yml": POLICY.read_text(encoding="utf-8"),
        "scripts/deploy.sh": DEPLOY_SCRIPT,
        "scripts/build.sh": "#!/bin/sh\necho built\n",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
        if name.endswith(".sh"):
            (root / name).chmod(0o755)
    git(root, "init", "-q", "-b", "main")
    git(root, "remote", "add", "origin", "git@gitlab.example.com:acme/web.git")
    git(root, "symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Add the deploy pipeline")
    if branch != "main":
        git(root, "checkout", "-q", "-b", branch)
    home = tmp_path / "home"
    home.mkdir()
    return Project(root, home)


def example_with_local_component() -> str:
    text = EXAMPLE.read_text(encoding="utf-8")
    start = text.index(PUBLISHED)
    end = text.index("\n", start)
    return text[:start] + LOCAL + text[end:]


def venv_bin() -> Path:
    """The directory of this test run's ``pipeledger`` (the worktree's virtualenv)."""
    return Path(sys.executable).parent
