"""The serve examples say what the docs say: the compose file runs ``serve`` into PostgreSQL
with the secret from the environment; the App manifest asks for the documented permissions."""

from __future__ import annotations

import json

import yaml

from pipeledger.cli.main import build_parser
from tests.paths import ROOT

EXAMPLES = ROOT / "examples" / "serve"


def test_the_compose_file_runs_serve_into_postgresql() -> None:
    compose = yaml.safe_load((EXAMPLES / "compose.yaml").read_text(encoding="utf-8"))
    serve = compose["services"]["serve"]
    command = serve["command"]
    assert command[0] == "serve"
    assert command[command.index("--sink") + 1].startswith("postgresql://")
    secrets = ("PIPELEDGER_WEBHOOK_SECRET", "PIPELEDGER_GITLAB_WEBHOOK_TOKEN")
    assert set(secrets) | {"PIPELEDGER_GITLAB_STREAMING_TOKEN"} <= set(serve["environment"])
    assert serve["depends_on"]["ledger"]["condition"] == "service_healthy"
    parser, _ = build_parser()
    args = parser.parse_args(command)
    assert args.command == "serve" and args.listen == "0.0.0.0:8080"


def test_the_app_manifest_asks_for_the_documented_permissions_and_events() -> None:
    manifest = json.loads((EXAMPLES / "github-app-manifest.json").read_text(encoding="utf-8"))
    assert manifest["default_permissions"] == {
        "actions": "read",
        "deployments": "write",
        "metadata": "read",
        "pull_requests": "read",
        "members": "read",
    }
    assert {"deployment_protection_rule", "deployment_review", "workflow_run"} <= set(
        manifest["default_events"]
    )
    assert manifest["hook_attributes"]["url"].endswith("/webhooks/github")
