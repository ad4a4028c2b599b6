"""Session-wide test setup: the sandbox guard (no file outside the repository, no network but
loopback; see tests/sandbox.py). Paths come from tests/paths.py (``ROOT``, ``fixture()``)."""

from __future__ import annotations

from collections.abc import Generator

import pytest

from tests.paths import ROOT
from tests.sandbox import install

__all__ = ["ROOT"]

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
