"""Requests and time for permission and protection snapshots of an organization, through
the real CLI against the local fake GitHub API: a first snapshot (one listing pass per
resource), an unchanged rerun (every request a 304) and a rerun after one change.

Each repository has 12 collaborators, two environments (one deploying from chosen branches),
classic branch protection and two rulesets; the organization has 50 members and 5 teams.
Repositories have no runs or deployments, so nearly every request is a snapshot's.
"""

from __future__ import annotations

import io
import re
import tempfile
import time
from pathlib import Path

from tests.fakes.github_access import (
    AccessState,
    FakeBranchProtection,
    FakeEnvironment,
    FakeRule,
)
from tests.fakes.github_api import FakeGitHubServer
from tests.fakes.github_data import FakeOrg, FakeRepo

from pipeledger.cli.main import main as cli

SIZES = (10, 50, 200)
TEAMS = 5
SNAPSHOT = re.compile(
    r"/collaborators$|/environments|/branches$|/protection$|/rules/branches/"
    r"|^/orgs/bench/(members|teams)"
)


def build(repos: int) -> tuple[FakeOrg, AccessState]:
    org = FakeOrg(login="bench")
    access = AccessState(audit_log_status=404)
    people = [f"dev{n:02}" for n in range(50)]
    access.members = {login: "admin" if n < 3 else "member" for n, login in enumerate(people)}
    for n in range(repos):
        name = f"service-{n:03}"
        org.add_repo(FakeRepo(name=name, id=10_000 + n))
        repo = access.repo(name)
        repo.collaborators = {
            people[(n + k) % 50]: ("write", "read", "admin")[k % 3] for k in range(12)
        }
        repo.environments = {
            "production": FakeEnvironment(
                reviewers=[("User", people[n % 50])], branches="protected"
            ),
            "staging": FakeEnvironment(branches="custom", patterns=["main", "release/*"]),
        }
        repo.protection = FakeBranchProtection()
        repo.rules = [
            FakeRule("deletion", 1, f"bench/{name}"),
            FakeRule("non_fast_forward", 2, "bench", "Organization"),
        ]
    for t in range(TEAMS):
        slug = f"team-{t}"
        org.teams[slug] = set(people[t * 10 : t * 10 + 10])
        org.team_maintainers[slug] = {people[t * 10]}
        access.team_repos[slug] = {f"service-{n:03}": "write" for n in range(t, repos, TEAMS)}
    return org, access


def collect(server: FakeGitHubServer, ledger: Path) -> float:
    environ = {"GITHUB_TOKEN": "test-token", "PIPELEDGER_GITHUB_INSTANCE": "github.com"}
    argv = ["collect", "--platform", "github", "--api-url", server.base_url, "--org", "bench"]
    argv += ["--sink", f"sqlite:///{ledger}"]
    server.reset_log()
    start = time.perf_counter()
    code = cli(argv, environ=environ, stdout=io.StringIO(), stderr=io.StringIO())
    assert code == 0
    return time.perf_counter() - start


def snapshot_requests(server: FakeGitHubServer) -> tuple[int, int]:
    chosen = [r for r in server.requests if SNAPSHOT.search(r.path.split("?")[0])]
    return len(chosen), sum(1 for r in chosen if r.status == 304)


def measure(repos: int, scratch: Path) -> list[str]:
    org, access = build(repos)
    ledger = scratch / f"snapshots-{repos}.db"
    rows = []
    with FakeGitHubServer(org, access=access) as server:
        for label in ("first snapshot", "unchanged rerun", "after one change"):
            if label == "after one change":
                with org.lock:
                    access.repo("service-000").collaborators["dev49"] = "admin"
            seconds = collect(server, ledger)
            made, not_modified = snapshot_requests(server)
            rows.append(
                f"| {repos} | {label} | {made} | {not_modified} | {made - not_modified}"
                f" | {seconds:.2f} s |"
            )
    return rows


def main() -> None:
    expected = (
        "org: 2 member lists + 1 team list + 3 per team; repository: 6 on the first snapshot,"
        " 5 after (a protected branch is re-checked through its protection alone)"
    )
    print(f"one listing pass per resource ({expected})")
    print("| repositories | run | snapshot requests | of which 304 | counted | wall time |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="pipeledger-bench-") as scratch:
        for repos in SIZES:
            for row in measure(repos, Path(scratch)):
                print(row, flush=True)


if __name__ == "__main__":
    main()
