"""Shared fixtures: the repository root and the shared API examples beside the checkout."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def api_examples_dir() -> Path:
    override = os.environ.get("PIPELEDGER_API_EXAMPLES")
    return Path(override) if override else ROOT.parent / "shared" / "api-examples"


@pytest.fixture
def api_examples() -> Path:
    path = api_examples_dir()
    if not path.is_dir():
        pytest.fail(f"shared API examples not found at {path}; set PIPELEDGER_API_EXAMPLES")
    return path
