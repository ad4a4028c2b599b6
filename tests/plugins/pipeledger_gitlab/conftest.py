"""Fixtures for the GitLab adapter tests: the shared GitLab examples, the event schema, and a
running fake GitLab."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from pipeledger.events import AuditEvent
from tests.fakes.gitlab_api import FakeGitLab
from tests.fakes.gitlab_generate import generate_group
from tests.paths import ROOT, fixture

SCHEMA = json.loads((ROOT / "schemas" / "event.v1.schema.json").read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(
    SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
)


def gitlab_examples() -> Path:
    return fixture("gitlab")


def load_example(name: str) -> Any:
    return json.loads((gitlab_examples() / name).read_text(encoding="utf-8"))


def assert_valid(event: AuditEvent) -> None:
    errors = sorted(VALIDATOR.iter_errors(event.to_dict()), key=str)
    assert not errors, [e.message for e in errors]


@pytest.fixture
def fake() -> Iterator[FakeGitLab]:
    with FakeGitLab(generate_group()) as server:
        yield server
