"""Session-wide test setup: the sandbox guard (no file outside the repository, no network but
loopback; see tests/sandbox.py). Paths come from tests/paths.py (``ROOT``, ``fixture()``)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Generator
from pathlib import Path

import pytest

from tests.paths import ROOT
from tests.sandbox import install

__all__ = ["ROOT"]


def _temporary_folder_outside(root: Path) -> None:
    """pytest puts ``tmp_path`` under the system's temporary folder; should ``TMPDIR`` point
    into the repository, use the system default instead, for this process and the ones it
    starts (the sandbox would otherwise fail every test that writes to tmp_path)."""
    current = Path(tempfile.gettempdir()).resolve()
    if current == root or root in current.parents:
        os.environ.pop("TMPDIR", None)
        os.environ.pop("TEMP", None)
        os.environ.pop("TMP", None)
        tempfile.tempdir = None
        outside = Path(tempfile.gettempdir()).resolve()
        assert root not in outside.parents, f"no temporary folder outside {root}"


_temporary_folder_outside(ROOT.resolve())
SANDBOX = install(ROOT)


def _fail_on_violations(phase: str) -> None:
    found = SANDBOX.take()
    if found:
        listed = "\n".join(f"- {problem}" for problem in dict.fromkeys(found))
        pytest.fail(f"the test sandbox was breached during {phase}:\n{listed}", pytrace=False)


def pytest_collection_finish(session: pytest.Session) -> None:
    """A breach while importing test modules that the module swallowed still stops the run."""
    found = SANDBOX.take()
    if found:
        listed = "\n".join(f"- {problem}" for problem in dict.fromkeys(found))
        pytest.exit(f"the test sandbox was breached during collection:\n{listed}", returncode=1)


def _checked(phase: str) -> Generator[None, None, None]:
    """Run one phase; fail it if the sandbox recorded anything (unless it failed already)."""
    try:
        result = yield
    except BaseException:
        SANDBOX.take()  # the phase failed already, most likely with the SandboxViolation
        raise
    _fail_on_violations(phase)
    return result


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """The tests are over: pytest writes its own cache (``.pytest_cache``, created through a
    temporary folder in the repository root on a fresh clone), which the guard is not about."""
    SANDBOX.guarding = False


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    SANDBOX.take()  # anything before this test (collection, another test's teardown) is not its
    return (yield from _checked("setup"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    return (yield from _checked("the test"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, None, None]:
    return (yield from _checked("teardown"))
