"""What a release ships: the wheel (schemas, demo data, every plugin; installs and runs from
outside the source tree), the Dockerfile (lints, is pinned, runs as non-root, installs with
--require-hashes; builds where a Docker daemon is available) and one version everywhere."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
import tomllib
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

import pipeledger
from tests.paths import ROOT

DOCKERFILE = ROOT / "Dockerfile"
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["version"]
BIN = Path(sys.executable).parent


def _run(argv: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _install_wheel(wheel: Path, tmp_path: Path) -> tuple[Path, str]:
    """A fresh venv with the wheel installed non-editable; its dependencies are borrowed from
    this one (no index needed). Returns the venv and its site-packages."""
    venv = tmp_path / "venv"
    done = _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], tmp_path)
    assert done.returncode == 0, done.stderr
    python = venv / "bin" / "python"
    site = _run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp_path
    ).stdout.strip()
    # Dependencies only: a plain path entry, so this venv's editable pipeledger stays out.
    Path(site, "borrowed-dependencies.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8"
    )
    install = [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps"]
    done = _run([*install, "--no-index", "--quiet", str(wheel)], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    return venv, site


# --- one version ------------------------------------------------------------------------------


def test_the_version_comes_from_pyproject_everywhere() -> None:
    assert pipeledger.__version__ == VERSION  # importlib.metadata of the installed package
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    first = re.search(r"^## \[?(\d[^\]\s]*)", changelog, re.MULTILINE)
    assert first is not None and first.group(1) == VERSION, "CHANGELOG.md's top entry"
    component = (ROOT / "templates" / "pipeledger.yml").read_text(encoding="utf-8")
    assert f"ghcr.io/pipeledger/pipeledger:{VERSION}" in component
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "release.yml").read_text("utf-8"))
    tag_check = workflow["jobs"]["build"]["steps"][2]["run"]
    assert "pyproject.toml" in tag_check and '"v$version"' in tag_check


def test_the_release_runs_serve_in_the_image_before_pushing_it() -> None:
    """No Docker daemon here, so the workflow does it: the image it is about to push answers
    /healthz from ``pipeledger serve`` (the serve extra is in), and only then is pushed."""
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "release.yml").read_text("utf-8"))
    steps = workflow["jobs"]["image"]["steps"]
    names = [step.get("name", "") for step in steps]
    smoke = next(i for i, name in enumerate(names) if "runs pipeledger serve" in name)
    push = names.index("Build and push")
    assert smoke < push
    assert steps[smoke - 1]["with"]["load"] is True
    script = steps[smoke]["run"]
    assert " serve --listen" in script and "/healthz" in script and "curl -fsS" in script


# --- Dockerfile ---------------------------------------------------------------------------------


def _hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    binary = BIN / "hadolint"
    if not binary.is_file():
        pytest.fail("hadolint is not installed; run `make .venv/.installed-dev` (dev extra)")
    return _run([str(binary), "--no-color", str(path)], ROOT)


def test_the_dockerfile_lints_clean() -> None:
    done = _hadolint(DOCKERFILE)
    assert done.returncode == 0, done.stdout + done.stderr


def test_hadolint_flags_an_unpinned_root_image(tmp_path: Path) -> None:
    broken = tmp_path / "Dockerfile"
    broken.write_text("FROM python:latest\nRUN pip install pipeledger\n", encoding="utf-8")
    done = _hadolint(broken)
    assert done.returncode != 0 and "DL3007" in done.stdout and "DL3013" in done.stdout


def test_the_dockerfile_is_pinned_non_root_and_hash_checked() -> None:
    lines = [
        line.strip()
        for line in DOCKERFILE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    (base,) = [line for line in lines if line.startswith("FROM ")]
    assert re.fullmatch(r"FROM python:3\.1[1-9]-slim@sha256:[0-9a-f]{64}", base)
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in {"0", "root"}
    assert lines[-2] == 'ENTRYPOINT ["pipeledger"]'
    text = "\n".join(lines)
    assert "--require-hashes" in text and "--only-binary :all:" in text
    assert "COPY requirements/image.txt" in text and "-r /tmp/pipeledger/image.txt" in text
    assert "--hash=sha256:${WHEEL_SHA256}" in text


def _docker_daemon() -> str | None:
    docker = shutil.which("docker")
    if docker is None:
        return None
    done = _run([docker, "info", "--format", "{{.ServerVersion}}"], ROOT)
    return docker if done.returncode == 0 else None


# --- the wheel ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built once from this tree, offline (the dev extra's hatchling)."""
    out = tmp_path_factory.mktemp("dist")
    argv = [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out)]
    done = _run([*argv, str(ROOT)], ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    (built,) = out.glob("pipeledger-*-py3-none-any.whl")
    assert built.name == f"pipeledger-{VERSION}-py3-none-any.whl"
    return built


@pytest.mark.slow
def test_the_wheel_carries_schemas_demo_data_and_every_plugin(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for schema in (ROOT / "schemas").rglob("*.json"):
        assert f"pipeledger/schemas/{schema.relative_to(ROOT / 'schemas')}" in names, schema
    plugins = sorted(p.name for p in (ROOT / "plugins").iterdir() if (p / "__init__.py").is_file())
    for plugin in plugins:
        assert f"{plugin}/__init__.py" in names, plugin
    for demo in (ROOT / "plugins").glob("*/demo/*"):
        assert str(demo.relative_to(ROOT / "plugins")) in names, demo
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    registered = zipfile.ZipFile(wheel).read(entry_points).decode()
    for plugin in plugins:
        assert f"{plugin}." in registered, f"{plugin} registers no entry point"


@pytest.mark.slow
def test_the_wheel_installs_and_runs_from_outside_the_tree(wheel: Path, tmp_path: Path) -> None:
    """Installed non-editable into a fresh venv (its dependencies borrowed from this one, so no
    index is needed), then ``--version`` and the demo run from a folder outside the tree."""
    venv, site = _install_wheel(wheel, tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = _run(
        [str(venv / "bin" / "python"), "-c", "import pipeledger; print(pipeledger.__file__)"],
        elsewhere,
    )
    assert where.stdout.startswith(site), where.stdout + where.stderr
    cli = venv / "bin" / "pipeledger"
    version = _run([str(cli), "--version"], elsewhere)
    assert version.stdout.strip() == f"pipeledger {VERSION}", version.stdout + version.stderr
    demo = _run([str(cli), "demo"], elsewhere)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "hash chain verified" in demo.stdout
    assert not list(elsewhere.iterdir())  # the demo leaves nothing behind


@pytest.mark.slow
def test_the_installed_wheel_serves_both_receivers(wheel: Path, tmp_path: Path) -> None:
    """What the image's entry point runs: ``pipeledger serve`` from the installed wheel (not
    the tree) finds the GitHub and GitLab receivers through its entry points and answers."""
    venv, _ = _install_wheel(wheel, tmp_path)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    secrets = {
        "PIPELEDGER_WEBHOOK_SECRET": "s" * 32,
        "PIPELEDGER_GITLAB_WEBHOOK_TOKEN": "t" * 32,
        "PIPELEDGER_GITLAB_STREAMING_TOKEN": "u" * 32,
    }
    argv = [str(venv / "bin" / "pipeledger"), "serve", "--listen", f"127.0.0.1:{port}"]
    argv += ["--sink", f"sqlite:///{tmp_path / 'ledger.db'}"]
    server = subprocess.Popen(
        argv,
        cwd=tmp_path,
        env={**os.environ, **secrets},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        health = _wait_for_health(f"http://127.0.0.1:{port}/healthz", server)
    finally:
        server.terminate()
        server.wait(timeout=60)
    assert health["receivers"] == ["/streams/gitlab-audit", "/webhooks/github", "/webhooks/gitlab"]


def _wait_for_health(url: str, server: subprocess.Popen[bytes]) -> Any:
    for _ in range(300):  # bounded: 30 s
        assert server.poll() is None, server.stdout.read() if server.stdout else ""
        try:
            with urllib.request.urlopen(url, timeout=1) as answer:
                return json.loads(answer.read())
        except OSError:
            time.sleep(0.1)
    raise AssertionError("pipeledger serve did not answer /healthz")


@pytest.mark.slow
def test_the_image_builds_where_a_docker_daemon_runs(wheel: Path, tmp_path: Path) -> None:
    docker = _docker_daemon()
    if docker is None:
        pytest.skip(
            "no Docker daemon on this machine (docker info fails): the image is built "
            "by the release workflow; here only the Dockerfile's lint and structure run"
        )
    context = tmp_path / "context"
    shutil.copytree(ROOT / "requirements", context / "requirements")
    (context / "dist").mkdir()
    shutil.copy(wheel, context / "dist")
    shutil.copy(DOCKERFILE, context)
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    tag = f"pipeledger-test:{VERSION}"
    args = ["--build-arg", f"VERSION={VERSION}", "--build-arg", f"WHEEL_SHA256={digest}"]
    built = _run([docker, "build", "-t", tag, *args, str(context)], context)
    assert built.returncode == 0, built.stdout + built.stderr
    ran = _run([docker, "run", "--rm", tag, "--version"], context)
    assert ran.stdout.strip() == f"pipeledger {VERSION}"
