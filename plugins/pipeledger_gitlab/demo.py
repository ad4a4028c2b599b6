"""The GitLab part of ``pipeledger demo``: recorded responses of a small group, built from
GitLab's own documentation examples (see demo/README.md)."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from pipeledger.plugin import CollectRequest, DemoScenario, parse_time


def scenario() -> DemoScenario:
    document: dict[str, Any] = json.loads(
        resources.files("pipeledger_gitlab").joinpath("demo/responses.json").read_text("utf-8")
    )
    request = CollectRequest(
        owners=(str(document["group"]),),
        since=parse_time(document["since"]),
        until=parse_time(document["until"]),
    )
    # The recorded server ignores credentials; the adapter still wants a token to send.
    return DemoScenario(
        request, document["responses"], {"GITLAB_TOKEN": "demo-offline"}, next_steps=NEXT_STEPS
    )


NEXT_STEPS = """Run it on your GitLab group:
  export GITLAB_TOKEN=...   # a personal, group or project access token with read_api
  pipeledger collect --platform gitlab --group YOUR_GROUP --since 30d
  pipeledger events --kind deployment.approval"""
