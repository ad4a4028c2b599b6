"""Tests for the fake GitHub REST API in ``tests/fakes`` (stdlib urllib as the client)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.github_api import FakeGitHubServer, created_predicate
from tests.fakes.github_data import (
    TEMPLATES,
    FakeOrg,
    FakeRun,
    expected_counts,
    generate_org,
    render_deployment,
    render_run,
    render_status,
    scenario_org,
)

AUTH = {"Authorization": "Bearer test-token"}
REPO_ROOT = Path(__file__).resolve().parents[1]


class Reply:
    """Status, headers and decoded body of one request."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = {k.lower(): v for k, v in headers.items()}
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body)

    def links(self) -> dict[str, str]:
        header = self.headers.get("link", "")
        return {rel: url for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', header)}


def get(url: str, headers: dict[str, str] | None = None) -> Reply:
    request = urllib.request.Request(url, headers=AUTH if headers is None else headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return Reply(resp.status, dict(resp.headers), resp.read())
    except urllib.error.HTTPError as err:
        return Reply(err.code, dict(err.headers), err.read())


@pytest.fixture(scope="module")
def scenario() -> Iterator[tuple[FakeGitHubServer, FakeOrg]]:
    org = scenario_org()
    with FakeGitHubServer(org) as server:
        yield server, org


@pytest.fixture(scope="module")
def big() -> Iterator[FakeGitHubServer]:
    """One repo with 1,200 runs (to cross the 1,000-result cap)."""
    with FakeGitHubServer(generate_org(repos=1, runs_per_repo=1200, seed=7)) as server:
        yield server


@pytest.fixture
def fresh() -> Iterator[FakeGitHubServer]:
    with FakeGitHubServer(scenario_org()) as server:
        yield server


def crawl(url: str) -> tuple[list[Any], int]:
    """Follow rel="next"; return all items and the number of pages."""
    items: list[Any] = []
    pages = 0
    next_url: str | None = url
    while next_url:
        reply = get(next_url)
        assert reply.status == 200, reply.body
        body = reply.json()
        items.extend(body["workflow_runs"] if isinstance(body, dict) else body)
        pages += 1
        next_url = reply.links().get("next")
    return items, pages


# ---- pagination -------------------------------------------------------------------------------


def test_pagination_links_and_counts(big: FakeGitHubServer) -> None:
    url = f"{big.base_url}/repos/acme/api/actions/runs?per_page=100&exclude_pull_requests=true"
    first = get(url)
    links = first.links()
    assert set(links) == {"next", "last"}
    assert "page=2" in links["next"] and "exclude_pull_requests=true" in links["next"]
    assert links["last"].endswith("page=12")
    middle = get(links["next"]).links()
    assert set(middle) == {"prev", "next", "last", "first"}
    runs, pages = crawl(url)
    assert pages == 12
    assert len(runs) == len({r["id"] for r in runs}) == first.json()["total_count"] == 1200
    created = [r["created_at"] for r in runs]
    assert created == sorted(created, reverse=True)


def test_per_page_default_and_max(big: FakeGitHubServer) -> None:
    base = f"{big.base_url}/repos/acme/api/actions/runs"
    assert len(get(base).json()["workflow_runs"]) == 30
    assert len(get(base + "?per_page=500").json()["workflow_runs"]) == 100
    last = get(base + "?per_page=100&page=12")
    assert set(last.links()) == {"prev", "first"}
    assert get(base + "?per_page=100&page=13").json()["workflow_runs"] == []


def test_other_lists_are_arrays_and_paginate(scenario: tuple[FakeGitHubServer, FakeOrg]) -> None:
    server, _ = scenario
    deployments, pages = crawl(f"{server.base_url}/repos/acme/api/deployments?per_page=1")
    assert [d["id"] for d in deployments] == [5004, 5003, 5002, 5001]
    assert pages == 4
    repos, _ = crawl(f"{server.base_url}/orgs/acme/repos?per_page=2")
    assert {r["name"] for r in repos} == {"api", "web", "infra"}


def test_links_by_repository_id_like_github() -> None:
    org = scenario_org()
    with FakeGitHubServer(org, link_by_repo_id=True) as server:
        first = get(f"{server.base_url}/repos/acme/api/actions/runs?per_page=2")
        assert first.links()["next"] == (
            f"{server.base_url}/repositories/101/actions/runs?per_page=2&page=2"
        )
        runs, pages = crawl(f"{server.base_url}/repos/acme/api/actions/runs?per_page=2")
        assert (len(runs), pages) == (5, 3)


# ---- created filter and the 1,000 cap ---------------------------------------------------------


def test_created_predicate_syntax() -> None:
    t = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)
    assert created_predicate(">=2026-01-02")(t)
    assert not created_predicate(">2026-01-02")(t)
    assert created_predicate("<=2026-01-02")(t)
    assert created_predicate("2026-01-02")(t)
    assert created_predicate("2026-01-01..2026-01-02")(t)
    assert created_predicate("2026-01-02T11:00:00Z..2026-01-02T13:00:00Z")(t)
    assert created_predicate("*..2026-01-02T12:00:00+00:00")(t)
    assert not created_predicate("<2026-01-02T12:00:00Z")(t)


def test_created_filter_counts(big: FakeGitHubServer) -> None:
    repo = big.org.repos["api"]
    cut = sorted(r.created_at for r in repo.runs.values())[300]
    stamp = cut.strftime("%Y-%m-%dT%H:%M:%SZ")
    reply = get(f"{big.base_url}/repos/acme/api/actions/runs?created=%3E%3D{stamp}&per_page=100")
    expected = sum(1 for r in repo.runs.values() if r.created_at >= cut)
    assert reply.json()["total_count"] == expected == 900
    runs, _ = crawl(
        f"{big.base_url}/repos/acme/api/actions/runs?created=%3E%3D{stamp}&per_page=100"
    )
    assert len(runs) == 900


def test_filtered_list_capped_at_1000(big: FakeGitHubServer) -> None:
    url = f"{big.base_url}/repos/acme/api/actions/runs?created=%3E%3D2025-01-01&per_page=100"
    first = get(url)
    assert first.json()["total_count"] == 1200
    assert first.links()["last"].endswith("page=10")
    runs, pages = crawl(url)
    assert (len(runs), pages) == (1000, 10)
    beyond = get(url + "&page=11").json()
    assert beyond["workflow_runs"] == [] and beyond["total_count"] == 1200
    unfiltered = get(f"{big.base_url}/repos/acme/api/actions/runs?per_page=100&page=11").json()
    assert len(unfiltered["workflow_runs"]) == 100


def test_bad_created_is_422(big: FakeGitHubServer) -> None:
    assert get(f"{big.base_url}/repos/acme/api/actions/runs?created=yesterday").status == 422


# ---- ETag / rate limit ------------------------------------------------------------------------


def test_etag_304_does_not_count(fresh: FakeGitHubServer) -> None:
    url = f"{fresh.base_url}/repos/acme/api/actions/runs"
    first = get(url)
    etag = first.headers["etag"]
    assert re.fullmatch(r'W/"[0-9a-f]{64}"', etag)
    remaining = int(first.headers["x-ratelimit-remaining"])
    again = get(url, {**AUTH, "If-None-Match": etag})
    assert again.status == 304 and again.body == b""
    assert int(again.headers["x-ratelimit-remaining"]) == remaining
    assert fresh.rate_remaining == remaining
    assert get(url, {**AUTH, "If-None-Match": 'W/"nope"'}).status == 200
    assert fresh.rate_remaining == remaining - 1


def test_etag_changes_when_data_changes(fresh: FakeGitHubServer) -> None:
    url = f"{fresh.base_url}/repos/acme/web/actions/runs"
    first = get(url)
    repo = fresh.org.repos["web"]
    template = repo.runs[9006]
    with fresh.org.lock:
        repo.add_run(
            FakeRun(
                id=9999,
                repo="web",
                name="CI",
                event="push",
                status="completed",
                conclusion="success",
                head_branch="main",
                head_sha="f" * 40,
                run_attempt=1,
                actor=template.actor,
                triggering_actor=template.actor,
                created_at=template.created_at + timedelta(days=1),
                updated_at=template.created_at + timedelta(days=1),
                run_started_at=template.created_at + timedelta(days=1),
            )
        )
    second = get(url, {**AUTH, "If-None-Match": first.headers["etag"]})
    assert second.status == 200
    assert second.json()["total_count"] == first.json()["total_count"] + 1
    assert second.json()["workflow_runs"][0]["id"] == 9999


def test_rate_limit_headers_and_exhaustion(fresh: FakeGitHubServer) -> None:
    url = f"{fresh.base_url}/user"
    reply = get(url)
    for name in ("limit", "remaining", "used", "reset", "resource"):
        assert f"x-ratelimit-{name}" in reply.headers
    assert reply.headers["x-ratelimit-resource"] == "core"
    now = [1_800_000_000.0]
    fresh.clock = lambda: now[0]
    fresh.set_rate_limit(remaining=1, reset=1_800_000_100)
    assert get(url).status == 200
    blocked = get(url)
    assert blocked.status == 403
    assert blocked.json()["message"].startswith("API rate limit exceeded for")
    assert blocked.headers["x-ratelimit-remaining"] == "0"
    assert blocked.headers["x-ratelimit-reset"] == "1800000100"
    assert get(f"{fresh.base_url}/rate_limit").json()["resources"]["core"]["remaining"] == 0
    now[0] = 1_800_000_100.0
    assert get(url).status == 200
    assert get(url).headers["x-ratelimit-remaining"] == "4998"


def test_secondary_limit(fresh: FakeGitHubServer) -> None:
    fresh.secondary_limit_on[fresh.request_number + 1] = 7
    reply = get(f"{fresh.base_url}/user")
    assert reply.status == 403 and reply.headers["retry-after"] == "7"
    assert "secondary rate limit" in reply.json()["message"]
    assert get(f"{fresh.base_url}/user").status == 200


# ---- auth / permissions -----------------------------------------------------------------------


def test_auth(fresh: FakeGitHubServer) -> None:
    url = f"{fresh.base_url}/repos/acme/api"
    assert get(url, {}).status == 401
    bad = get(url, {"Authorization": "Bearer wrong"})
    assert bad.status == 401 and bad.json()["message"] == "Bad credentials"
    assert get(url, {"Authorization": "token test-token"}).status == 200


def test_forbidden_permission(fresh: FakeGitHubServer) -> None:
    fresh.forbidden_paths = {r"/actions/runs$": None}
    reply = get(f"{fresh.base_url}/repos/acme/api/actions/runs?per_page=5")
    assert reply.status == 403
    assert reply.json()["message"] == "Resource not accessible by integration"
    assert reply.headers["x-accepted-github-permissions"] == "actions=read"
    assert get(f"{fresh.base_url}/repos/acme/api/deployments").status == 200


def test_not_found(fresh: FakeGitHubServer) -> None:
    reply = get(f"{fresh.base_url}/repos/acme/nope/actions/runs")
    assert reply.status == 404
    assert reply.json()["message"] == "Not Found"
    assert reply.json()["documentation_url"] == "https://docs.github.com/rest"
    assert get(f"{fresh.base_url}/orgs/acme/teams/release-managers/memberships/bob").status == 404
    member = get(f"{fresh.base_url}/orgs/acme/teams/release-managers/memberships/alice").json()
    assert member["state"] == "active" and member["role"] == "maintainer"


# ---- faults and the log -----------------------------------------------------------------------


def test_fault_injection(fresh: FakeGitHubServer) -> None:
    url = f"{fresh.base_url}/repos/acme/api/deployments"
    fresh.faults[fresh.request_number + 1] = 502
    assert get(url).status == 502
    assert get(url).status == 200
    fresh.fail_path(r"/deployments$", times=2, status=503)
    assert [get(url).status for _ in range(3)] == [503, 503, 200]
    fresh.malformed_on.add(r"/actions/runs$")
    broken = get(f"{fresh.base_url}/repos/acme/api/actions/runs")
    assert broken.status == 200
    with pytest.raises(json.JSONDecodeError):
        broken.json()


def test_request_log(fresh: FakeGitHubServer) -> None:
    fresh.reset_log()
    url = f"{fresh.base_url}/repos/acme/api/pulls/12/reviews?per_page=1"
    etag = get(url).headers["etag"]
    get(url, {**AUTH, "If-None-Match": etag})
    get(f"{fresh.base_url}/nope")
    records = fresh.requests
    assert [(r.method, r.status, r.had_if_none_match) for r in records] == [
        ("GET", 200, False),
        ("GET", 304, True),
        ("GET", 404, False),
    ]
    assert records[0].path == "/repos/acme/api/pulls/12/reviews?per_page=1"
    assert fresh.count(r"/reviews$") == 2
    assert fresh.count(r"per_page=1", status=304) == 1
    fresh.reset_log()
    assert fresh.count() == 0


def test_org_follows_its_template(scenario: tuple[FakeGitHubServer, FakeOrg]) -> None:
    server, org = scenario
    reply = get(f"{server.base_url}/orgs/{org.login}")
    assert reply.status == 200
    body = reply.json()
    assert list(body) == list(TEMPLATES["org_full"])
    assert (body["login"], body["id"]) == (org.login, org.id)
    assert body["repos_url"] == f"{server.base_url}/orgs/{org.login}/repos"
    assert get(f"{server.base_url}/orgs/someone-else").status == 404


def test_stats_endpoint_totals_the_log(fresh: FakeGitHubServer) -> None:
    fresh.reset_log()
    url = f"{fresh.base_url}/repos/acme/api/pulls/12/reviews"
    etag = get(url).headers["etag"]
    get(url, {**AUTH, "If-None-Match": etag})
    get(f"{fresh.base_url}/repos/acme/api/deployments?per_page=1")
    get(f"{fresh.base_url}/nope")
    stats = get(f"{fresh.base_url}/__stats", {}).json()
    assert stats.pop("cpu_seconds") > 0
    assert stats == {
        "requests": 4,
        "conditional": 1,
        "not_modified": 1,
        "graphql_points": 0,  # no GraphQL query was asked
        "by_status": {"200": 2, "304": 1, "404": 1},
        "by_endpoint": {"reviews": 2, "deployments": 1, "other": 1},
    }
    assert fresh.count() == 4  # asking for the totals is not itself logged


# ---- shapes and data --------------------------------------------------------------------------


def test_shapes_follow_templates(scenario: tuple[FakeGitHubServer, FakeOrg]) -> None:
    server, org = scenario
    repo = org.repos["api"]
    run = render_run(repo.runs[9005], repo, server.base_url)
    assert list(run) == list(TEMPLATES["run_list"])
    detail = get(f"{server.base_url}/repos/acme/api/actions/runs/9005").json()
    assert list(detail) == list(TEMPLATES["run_get"])
    assert detail["run_attempt"] == 2 and detail["triggering_actor"]["login"] == "carol"
    assert detail["previous_attempt_url"].endswith("/actions/runs/9005/attempts/1")
    first = get(f"{server.base_url}/repos/acme/api/actions/runs/9005/attempts/1").json()
    assert first["run_attempt"] == 1 and first["triggering_actor"]["login"] == "bob"
    deployment = render_deployment(repo.deployments[5004], repo, server.base_url)
    assert deployment["performed_via_github_app"]["slug"] == "github-actions"
    assert deployment["payload"] == {}
    assert deployment["url"] == f"{server.base_url}/repos/acme/api/deployments/5004"
    status = render_status(
        repo.deployments[5004].statuses[-1], repo.deployments[5004], repo, server.base_url
    )
    assert status["log_url"] == status["target_url"]
    assert re.fullmatch(r"https://github.com/acme/api/actions/runs/9005/job/\d+", status["log_url"])
    text = json.dumps([run, detail, deployment, status])
    for leftover in ("octocat", "Hello-World", "api.github.com"):
        assert leftover not in text


def test_scenario_crawl_matches_expected_counts(scenario: tuple[FakeGitHubServer, FakeOrg]) -> None:
    server, org = scenario
    base = server.base_url
    seen = {"runs": 0, "deployments": 0, "statuses": 0, "approvals": 0, "reviews": 0}
    pulls: set[tuple[str, int]] = set()
    for repo in crawl(f"{base}/orgs/acme/repos")[0]:
        name = repo["name"]
        runs = crawl(f"{base}/repos/acme/{name}/actions/runs")[0]
        seen["runs"] += len(runs)
        for run in runs:
            seen["approvals"] += len(
                get(f"{base}/repos/acme/{name}/actions/runs/{run['id']}/approvals").json()
            )
        for dep in crawl(f"{base}/repos/acme/{name}/deployments")[0]:
            seen["deployments"] += 1
            seen["statuses"] += len(crawl(dep["statuses_url"])[0])
            for pull in get(f"{base}/repos/acme/{name}/commits/{dep['sha']}/pulls").json():
                if (name, pull["number"]) not in pulls:
                    pulls.add((name, pull["number"]))
                    seen["reviews"] += len(crawl(f"{pull['url']}/reviews")[0])
    counts = expected_counts(org)
    assert seen == {k: counts[k] for k in seen}
    assert len(pulls) == counts["pulls"]


def test_generator_is_deterministic_and_shaped() -> None:
    a = generate_org(repos=3, runs_per_repo=200, seed=5)
    b = generate_org(repos=3, runs_per_repo=200, seed=5)
    assert expected_counts(a) == expected_counts(b)
    assert [r.id for r in a.repos["api"].sorted_runs()] == [
        r.id for r in b.repos["api"].sorted_runs()
    ]
    counts = expected_counts(a)
    assert counts["runs"] == 600 and counts["runs_with_deployments"] == 60
    assert counts["deployments"] >= 60 and counts["approvals"] >= 60
    runs = [r for repo in a.repos.values() for r in repo.runs.values()]
    assert {r.event for r in runs} == {"push", "pull_request", "workflow_dispatch", "schedule"}
    assert any(r.actor.type == "Bot" for r in runs)
    assert any(r.run_attempt == 2 and r.triggering_actor is not r.actor for r in runs)
    approvals = [
        (repo.runs[run_id], approval)
        for repo in a.repos.values()
        for run_id, items in repo.approvals.items()
        for approval in items
    ]
    assert any(ap.state == "rejected" for _, ap in approvals)
    assert any(ap.user is run.triggering_actor for run, ap in approvals)
    states = {
        st.state
        for repo in a.repos.values()
        for d in repo.deployments.values()
        for st in d.statuses
    }
    assert {"in_progress", "success", "failure"} <= states


def test_field_assignment_refreshes_rendering(fresh: FakeGitHubServer) -> None:
    url = f"{fresh.base_url}/repos/acme/infra/actions/runs/9010"
    assert get(url).json()["status"] == "in_progress"
    with fresh.org.lock:
        run = fresh.org.repos["infra"].runs[9010]
        run.status, run.conclusion = "completed", "success"
    assert get(url).json()["conclusion"] == "success"


# ---- separate process -------------------------------------------------------------------------


def test_main_serves_until_sigterm(tmp_path: Path) -> None:
    port_file = tmp_path / "port"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.fakes.github_api",
            "--generate",
            "repos=2,runs=40,deploy=0.1,seed=1",
            "--port",
            "0",
            "--port-file",
            str(port_file),
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not port_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        port = int(port_file.read_text())
        reply = get(f"http://127.0.0.1:{port}/repos/acme/web/actions/runs")
        assert reply.status == 200 and reply.json()["total_count"] == 40
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
