"""A running fake GitLab serving the small snapshot-test group."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.gitlab_api import FakeGitLab
from tests.plugins.pipeledger_gitlab.snapshots.scenario import small_group


@pytest.fixture
def fake() -> Iterator[FakeGitLab]:
    with FakeGitLab(small_group()) as server:
        yield server
