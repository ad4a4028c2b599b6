"""requirements/runtime.txt and requirements/build.txt are the hash-pinned locks of what
pyproject.toml asks for (``make lock`` writes them; tools/lock.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from tools import lock

from tests.paths import ROOT

PIN = re.compile(r"^([A-Za-z0-9_.-]+)==([^ ;\\]+)")


def _pins(path: Path) -> dict[str, tuple[str, int]]:
    """name -> (version, number of hashes) for every requirement in a lock."""
    pins: dict[str, tuple[str, int]] = {}
    current = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if match := PIN.match(line):
            current = match.group(1).lower().replace("_", "-")
            pins[current] = (match.group(2), 0)
        elif current and line.strip().startswith("--hash=sha256:"):
            version, hashes = pins[current]
            pins[current] = (version, hashes + 1)
    return pins


@pytest.mark.parametrize("kind", sorted(lock.LOCKS))
def test_the_lock_matches_pyproject(kind: str) -> None:
    path = lock.LOCKS[kind]
    assert lock.recorded_fingerprint(path) == lock.fingerprint(kind), (
        f"{path.relative_to(ROOT)} does not match pyproject.toml's {kind} requirements: "
        "run `make lock`"
    )


@pytest.mark.parametrize("kind", sorted(lock.LOCKS))
def test_every_requirement_is_pinned_with_hashes(kind: str) -> None:
    pins = _pins(lock.LOCKS[kind])
    assert pins and all(hashes > 0 for _version, hashes in pins.values()), pins
    for line in lock.inputs(kind):
        requirement = Requirement(line)
        name = requirement.name.lower().replace("_", "-")
        assert name in pins, f"{name} is not in the {kind} lock: run `make lock`"
        assert requirement.specifier.contains(pins[name][0], prereleases=True), (
            f"{name}=={pins[name][0]} does not satisfy {requirement}: run `make lock`"
        )


def test_a_changed_dependency_makes_the_lock_stale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pyproject = tmp_path / "pyproject.toml"
    text = lock.PYPROJECT.read_text(encoding="utf-8")
    pyproject.write_text(text.replace('"jmespath>=1.0"', '"jmespath>=1.1"'), encoding="utf-8")
    before = lock.fingerprint("runtime")
    monkeypatch.setattr(lock, "PYPROJECT", pyproject)
    assert lock.fingerprint("runtime") != before
    assert lock.fingerprint("build") == lock.fingerprint("build")


def test_the_image_lock_is_the_runtime_lock_with_the_serve_and_postgres_extras() -> None:
    """The container image installs requirements/image.txt alone: it pins everything the
    runtime lock pins, at the same versions, and what ``pipeledger serve`` into PostgreSQL
    needs besides."""
    runtime, image = _pins(lock.LOCKS["runtime"]), _pins(lock.LOCKS["image"])
    assert {name: pin[0] for name, pin in runtime.items()} == {
        name: image[name][0] for name in runtime
    }
    for needed in ("uvicorn", "httptools", "uvloop", "prometheus-client", "psycopg"):
        assert needed in image, f"{needed} is not in the image lock"
