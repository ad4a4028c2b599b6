"""The fake GitLab itself behaves like GitLab where the adapter depends on it: pagination
headers, keyset cursors, auth, tiers and faults, and it runs as a separate process."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from pathlib import Path

import requests

from pipeledger.cli.main import main
from tests.fakes.gitlab_api import DEFAULT_TOKEN, FakeGitLab
from tests.fakes.gitlab_generate import Size, expected_records, generate_group
from tests.paths import ROOT
from tests.plugins.pipeledger_gitlab.helpers import ledger_events, records

AUTH = {"PRIVATE-TOKEN": DEFAULT_TOKEN}


def test_offset_pagination_headers_like_gitlab() -> None:
    instance = generate_group(1, Size(subgroups=0, projects_per_group=1, pipelines=45))
    with FakeGitLab(instance, total_limit=40) as fake:
        url = f"{fake.api_url}/projects/{instance.projects[0].id}/pipelines"
        first = requests.get(url, params={"per_page": "20"}, headers=AUTH, timeout=5)
        assert (first.headers["X-Page"], first.headers["X-Per-Page"]) == ("1", "20")
        assert first.headers["X-Next-Page"] == "2"
        assert "X-Total" not in first.headers  # 45 > total_limit, as GitLab above 10,000
        assert 'rel="next"' in first.headers["Link"] and 'rel="last"' not in first.headers["Link"]
        last = requests.get(url, params={"per_page": "20", "page": "3"}, headers=AUTH, timeout=5)
        assert len(last.json()) == 5 and last.headers["X-Next-Page"] == ""
    with FakeGitLab(instance) as fake:
        url = f"{fake.api_url}/projects/{instance.projects[0].id}/pipelines"
        page = requests.get(url, headers=AUTH, timeout=5)
        assert (page.headers["X-Total"], page.headers["X-Total-Pages"]) == ("45", "3")
        for name in (
            "RateLimit-Limit",
            "RateLimit-Observed",
            "RateLimit-Remaining",
            "RateLimit-Reset",
        ):
            assert name in page.headers


def test_keyset_cursor_walks_audit_events(fake: FakeGitLab) -> None:
    group = fake.instance.root
    url = f"{fake.api_url}/groups/{group.id}/audit_events"
    params = {"pagination": "keyset", "order_by": "id", "sort": "asc", "per_page": "2"}
    seen: list[int] = []
    response = requests.get(url, params=params, headers=AUTH, timeout=5)
    while True:
        seen.extend(item["id"] for item in response.json())
        assert "X-Total" not in response.headers
        if "next" not in response.links:
            break
        response = requests.get(response.links["next"]["url"], headers=AUTH, timeout=5)
    assert seen == sorted(e.id for e in group.audit_events)


def test_auth_tiers_and_faults(fake: FakeGitLab) -> None:
    project = fake.instance.projects[0]
    base = f"{fake.api_url}/projects/{project.id}"
    assert requests.get(base, timeout=5).status_code == 401
    bearer = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}
    assert (
        requests.get(base, headers=bearer, timeout=5).json()["path_with_namespace"]
        == project.full_path
    )
    fake.fail_next(1, status=503, path_contains="/pipelines")
    assert requests.get(f"{base}/pipelines", headers=AUTH, timeout=5).status_code == 503
    fake.throttle_next(1, retry_after="3")
    throttled = requests.get(base, headers=AUTH, timeout=5)
    assert (throttled.status_code, throttled.headers["Retry-After"]) == (429, "3")
    fake.free_tier = True
    assert requests.get(f"{base}/audit_events", headers=AUTH, timeout=5).status_code == 403
    assert fake.counts()["projects.audit_events"] == 1


def test_runs_as_a_process_for_subprocess_tests(tmp_path: Path) -> None:
    port_file = tmp_path / "port"
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.gitlab_api", "--port-file", str(port_file)],
        cwd=ROOT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 20
        while not port_file.exists() or not port_file.read_text():
            assert server.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        remote_url = f"http://127.0.0.1:{port_file.read_text()}/api/v4"
        assert _collect_url(remote_url, tmp_path / "l.db") == 0
        # The process serves the default seed: the same data generate_group() builds here.
        held = records(ledger_events(tmp_path / "l.db"))
        assert held == expected_records(generate_group())
    finally:
        server.kill()
        server.wait(timeout=10)


def _collect_url(api_url: str, db: Path) -> int:
    argv = ["collect", "--platform", "gitlab", "--api-url", api_url, "--group", "acme",
            "--sink", f"sqlite:///{db}"]  # fmt: skip
    return main(argv, {"GITLAB_TOKEN": DEFAULT_TOKEN}, io.StringIO(), io.StringIO())
