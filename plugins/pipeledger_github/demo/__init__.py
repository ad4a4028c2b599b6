"""Recorded GitHub API responses for ``pipeledger demo``: two repositories of an ``acme``
organization, built from the shapes of GitHub's own API examples (see tools/demo_github.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib import resources

from pipeledger.plugin import CollectRequest, DemoScenario

# The demo records events as if they came from github.com, whatever port serves them.
DEMO_ENVIRON = {"GITHUB_TOKEN": "demo-not-a-real-token", "PIPELEDGER_GITHUB_INSTANCE": "github.com"}


def scenario() -> DemoScenario:
    responses: dict[str, object] = {}
    for entry in sorted(resources.files(__name__).iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            responses.update(json.loads(entry.read_text(encoding="utf-8")))
    # No recorded collaborators or protection rules yet: permission snapshots are left out.
    request = CollectRequest(
        owners=("acme",), since=datetime(2026, 5, 1, tzinfo=UTC), snapshots=False
    )
    return DemoScenario(
        request=request, responses=responses, environ=DEMO_ENVIRON, next_steps=NEXT_STEPS
    )


NEXT_STEPS = """Run it on your GitHub organization:
  export GITHUB_TOKEN=...   # fine-grained: Actions, Deployments, Pull requests, Metadata: read
  pipeledger collect --platform github --org YOUR_ORG --since 30d
  pipeledger events --kind deployment --environment production
  pipeledger audit --policy examples/policies/baseline.yml --since 30d
  pipeledger verify"""
