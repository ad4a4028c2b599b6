"""Runs the real ``pipeledger serve`` in its own process on a loopback port, for tests."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

SECRET = "test-webhook-secret-0123456789"
GITLAB_TOKEN = "test-gitlab-hook-token-0123456789"
STREAMING_TOKEN = "test-gitlab-stream-token-0123456789"
GITLAB_ENV = {
    "PIPELEDGER_GITLAB_WEBHOOK_TOKEN": GITLAB_TOKEN,
    "PIPELEDGER_GITLAB_STREAMING_TOKEN": STREAMING_TOKEN,
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class ServeProcess:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def post(
        self,
        path: str,
        body: bytes,
        headers: Mapping[str, str],
    ) -> requests.Response:
        return requests.post(self.url + path, data=body, headers=dict(headers), timeout=30)

    def github(
        self, event: str, payload: Any, delivery: str, *, signature: str | None = "sign"
    ) -> requests.Response:
        body = json.dumps(payload).encode() if not isinstance(payload, bytes) else payload
        headers = {
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery,
            "Content-Type": "application/json",
        }
        if signature == "sign":
            headers["X-Hub-Signature-256"] = sign(body)
        elif signature is not None:
            headers["X-Hub-Signature-256"] = signature
        return self.post("/webhooks/github", body, headers)

    def gitlab(
        self, hook: str, payload: Any, uuid: str | None, *, token: str | None = GITLAB_TOKEN
    ) -> requests.Response:
        """A GitLab webhook as GitLab sends it: ``X-Gitlab-Event``, ``X-Gitlab-Event-UUID``
        and the hook's secret token in ``X-Gitlab-Token``."""
        headers = {"X-Gitlab-Event": hook, "Content-Type": "application/json"}
        if uuid is not None:
            headers["X-Gitlab-Event-UUID"] = uuid
        if token is not None:
            headers["X-Gitlab-Token"] = token
        return self.post("/webhooks/gitlab", _body(payload), headers)

    def gitlab_stream(
        self, payload: Any, *, token: str | None = STREAMING_TOKEN
    ) -> requests.Response:
        """A streamed audit event as GitLab sends it (its documented content type)."""
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if isinstance(payload, dict) and payload.get("event_type"):
            headers["X-Gitlab-Audit-Event-Type"] = str(payload["event_type"])
        if token is not None:
            headers["X-Gitlab-Event-Streaming-Token"] = token
        return self.post("/streams/gitlab-audit", _body(payload), headers)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=60)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def _body(payload: Any) -> bytes:
    return payload if isinstance(payload, bytes) else json.dumps(payload).encode()


def start_serve(
    tmp: Path,
    sinks: Sequence[str],
    environ: Mapping[str, str] | None = None,
    extra_args: Sequence[str] = (),
    port: int | None = None,
) -> ServeProcess:
    port = port or free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PIPELEDGER_", "GITHUB_", "GITLAB_", "CI"))
    }
    env |= {"PIPELEDGER_WEBHOOK_SECRET": SECRET, **(environ or {})}
    args = [sys.executable, "-m", "pipeledger", "serve", "--listen", f"127.0.0.1:{port}"]
    for sink in sinks:
        args += ["--sink", sink]
    log = tmp / f"serve-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*args, *extra_args], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=tmp
        )
    served = ServeProcess(process, f"http://127.0.0.1:{port}", log)
    _wait_until_up(served)
    return served


def _wait_until_up(served: ServeProcess) -> None:
    for _ in range(300):  # bounded: 30 s
        if served.process.poll() is not None:
            raise AssertionError(f"serve exited: {served.output()}")
        try:
            requests.get(served.url + "/healthz", timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    served.stop(signal.SIGKILL)
    raise AssertionError(f"serve did not come up: {served.output()}")
