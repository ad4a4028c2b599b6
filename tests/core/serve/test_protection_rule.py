"""``serve`` as a GitHub deployment protection rule, end to end over real HTTP: a signed
``deployment_protection_rule`` delivery, the policy judged against the local fake GitHub API
with an App installation token, the ``gate.decision`` recorded and GitHub called back
(approve, reject, API down: fail closed and fail open)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jsonschema
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from pipeledger.events import EventKind
from pipeledger.sinks.contract import SinkSettings
from pipeledger_sqlite.sink import SqliteSink
from tests.core.policy.gate_cases import CASES, GateCase
from tests.core.serve.process import start_serve
from tests.e2e.test_github_check import RUN_ID, case_org
from tests.fakes.github_api import FakeGitHubServer, Response
from tests.paths import fixture

TOKEN = "ghs_installation_token_for_tests_42"
INSTALLATION = 77
APP = "123456"
POLICY = """version: 1
rules:
  - id: prod-approval
    type: require-approval
    severity: error
    match: {environments: ["prod*"]}
    min_approvals: 1
  - id: prod-refs
    type: allowed-refs
    severity: error
    match: {environments: ["prod*"]}
    refs: [refs/heads/main, "refs/tags/v*"]
"""

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PEM = KEY.private_bytes(
    serialization.Encoding.PEM,
    serialization.PrivateFormat.PKCS8,
    serialization.NoEncryption(),
).decode()


class AppGitHub(FakeGitHubServer):
    """The fake API plus the App's token endpoint, which checks the App's JWT."""

    token_requests = 0

    def handle(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes = b""
    ) -> Response:
        if method == "POST" and target == f"/app/installations/{INSTALLATION}/access_tokens":
            claims = jwt.decode(
                headers.get("Authorization", "").removeprefix("Bearer "),
                KEY.public_key(),
                algorithms=["RS256"],
            )
            assert claims["iss"] == APP
            self.token_requests += 1
            return Response(201, json.dumps({"token": TOKEN}).encode())
        return super().handle(method, target, headers, body)


class Callbacks:
    """A local stand-in for GitHub's deployment callback endpoint: records what it got."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.auth: list[str] = []
        callbacks = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                callbacks.bodies.append(json.loads(body))
                callbacks.auth.append(self.headers.get("Authorization", ""))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self) -> str:
        port = self.server.server_address[1]
        return f"http://127.0.0.1:{port}/repos/acme/web/actions/runs/{RUN_ID}/deployment_protection_rule"

    def wait(self, count: int) -> list[dict[str, Any]]:
        for _ in range(600):  # bounded: 60 s
            if len(self.bodies) >= count:
                return self.bodies
            time.sleep(0.1)
        raise AssertionError(f"expected {count} callbacks, got {self.bodies}")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def callbacks() -> Iterator[Callbacks]:
    recorder = Callbacks()
    yield recorder
    recorder.close()


def payload(callback_url: str, sha: str, ref: str) -> dict[str, Any]:
    """A ``deployment_protection_rule.requested`` delivery, built from octokit's example
    objects and checked against the payload schema GitHub describes."""
    deployment = json.loads(
        fixture("octokit-webhooks", "deployment", "01-created.json").read_text(encoding="utf-8")
    )
    repository = {**deployment["repository"], "full_name": "acme/web", "name": "web"}
    body = {
        "action": "requested",
        "environment": "production",
        "event": "push",
        "sha": sha,
        "ref": ref,
        "deployment_callback_url": callback_url,
        "deployment": {**deployment["deployment"], "environment": "production", "sha": sha},
        "pull_requests": [],
        "repository": repository,
        "installation": {"id": INSTALLATION, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uNzc="},
        "sender": deployment["sender"],
    }
    schema = json.loads(
        fixture(
            "octokit-openapi-webhooks", "deployment-protection-rule-requested.schema.json"
        ).read_text(encoding="utf-8")
    )
    jsonschema.validate(body, schema)
    return body


def run_rule(
    tmp_path: Path,
    case: GateCase,
    callbacks: Callbacks,
    *,
    api_down: bool = False,
    extra: tuple[str, ...] = (),
) -> tuple[dict[str, Any], list[Any], AppGitHub]:
    from tests.fakes.github_data import fake_sha

    (tmp_path / "policy.yml").write_text(POLICY, encoding="utf-8")
    ledger = tmp_path / "ledger.db"
    sha = fake_sha("gate", case.name)
    with AppGitHub(case_org(case), token=TOKEN) as api:
        if api_down:
            api.fail_path(r"/repos/.*", times=1000, status=503)
        environ = {
            "PIPELEDGER_GITHUB_APP_ID": APP,
            "PIPELEDGER_GITHUB_APP_PRIVATE_KEY": PEM,
        }
        served = start_serve(
            tmp_path,
            [f"sqlite:///{ledger}"],
            environ,
            [
                "--api-url",
                api.base_url,
                "--policy",
                "policy.yml",
                "--decision-timeout",
                "20",
                *extra,
            ],
        )
        try:
            answer = served.github(
                "deployment_protection_rule", payload(callbacks.url(), sha, case.ref), "dpr-1"
            )
            assert answer.status_code == 200, answer.text
            (body,) = callbacks.wait(1)
            again = served.github(
                "deployment_protection_rule", payload(callbacks.url(), sha, case.ref), "dpr-1"
            )
            assert again.status_code == 200
            time.sleep(0.5)
        finally:
            served.stop()
        assert "Traceback" not in served.output()
        assert TOKEN not in served.output()
    sink = SqliteSink.open(f"sqlite:///{ledger}", SinkSettings(environ={}))
    try:
        decisions = [r.event for r in sink.records() if r.event.kind is EventKind.GATE_DECISION]
    finally:
        sink.close()
    assert len(callbacks.bodies) == 1, "a redelivery must not answer GitHub twice"
    assert callbacks.auth == [f"Bearer {TOKEN}"]
    return body, decisions, api


def case_named(name: str) -> GateCase:
    return next(case for case in CASES if case.name == name)


def test_a_deployment_the_policy_allows_is_approved(tmp_path: Path, callbacks: Callbacks) -> None:
    body, decisions, _ = run_rule(
        tmp_path, case_named("approved by a second person from main"), callbacks
    )
    assert body["state"] == "approved"
    assert body["environment_name"] == "production"
    (decision,) = decisions
    assert decision.action == "pass"
    assert decision.correlation["run_id"] == str(RUN_ID)
    assert decision.attributes["gate"] == "github-deployment-protection-rule"


def test_a_deployment_from_a_feature_branch_is_rejected_naming_the_rule(
    tmp_path: Path, callbacks: Callbacks
) -> None:
    body, decisions, _ = run_rule(tmp_path, case_named("from a feature branch"), callbacks)
    assert body["state"] == "rejected"
    assert "prod-refs" in body["comment"]
    assert "https://pipeledger.dev/docs/serve/" in body["comment"]
    assert [d.action for d in decisions] == ["fail"]


def test_with_the_api_down_it_fails_closed(tmp_path: Path, callbacks: Callbacks) -> None:
    case = case_named("approved by a second person from main")
    body, decisions, _ = run_rule(tmp_path, case, callbacks, api_down=True)
    assert body["state"] == "rejected"
    assert "could not judge" in body["comment"]
    assert [d.action for d in decisions] == ["error"]


def test_with_the_api_down_and_fail_open_it_approves_with_a_warning(
    tmp_path: Path, callbacks: Callbacks
) -> None:
    case = case_named("approved by a second person from main")
    body, decisions, _ = run_rule(tmp_path, case, callbacks, api_down=True, extra=("--fail-open",))
    assert body["state"] == "approved"
    assert "fails open" in body["comment"]
    assert [d.action for d in decisions] == ["error"]
