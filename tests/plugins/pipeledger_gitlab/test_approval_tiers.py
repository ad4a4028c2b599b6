"""Whether a GitLab has deployment approvals is decided from what its API says, not from the
first deployment read: on Premium a deployment to an environment that requires no approval
carries no approval fields, and that must not drop every approval of the run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeledger.events import EventKind
from tests.fakes.gitlab_api import FakeGitLab
from tests.fakes.gitlab_data import FakeInstance
from tests.fakes.gitlab_generate import Size, generate_group
from tests.plugins.pipeledger_gitlab.helpers import collect, ledger_events

pytestmark = pytest.mark.e2e

NOTICE = "no deployment approvals"


def two_projects() -> FakeInstance:
    """Each project deploys staging (unprotected) first, then production (two approvals)."""
    size = Size(subgroups=0, projects_per_group=2, pipelines=3, deployments=4, audit_events=0)
    instance = generate_group(11, size)
    for project in instance.projects:
        first = min(project.deployments, key=lambda d: d.created_at)
        protected = {environment.name for environment in project.protected_environments}
        assert first.environment not in protected  # the case this file is about
    return instance


def expected_approvals(instance: FakeInstance) -> int:
    return sum(len(d.approvals) for p in instance.projects for d in p.deployments)


@pytest.fixture
def premium() -> Iterator[FakeGitLab]:
    with FakeGitLab(two_projects(), approval_fields_only_if_protected=True) as server:
        yield server


def approvals_in(db: Path) -> int:
    return sum(1 for e in ledger_events(db) if e.kind is EventKind.DEPLOYMENT_APPROVAL)


def test_a_first_deployment_to_an_unprotected_environment_drops_nothing(
    premium: FakeGitLab, tmp_path: Path
) -> None:
    db = tmp_path / "l.db"
    run = collect(premium, db, "--group", "acme", "--no-snapshots")
    assert run.code == 0, run.err
    assert NOTICE not in run.err
    assert approvals_in(db) == expected_approvals(premium.instance) > 0


@pytest.mark.parametrize("graphql", [True, False], ids=["graphql", "rest"])
def test_free_says_so_once_and_stops_asking_for_details(tmp_path: Path, graphql: bool) -> None:
    instance = two_projects()
    deployments = sum(len(p.deployments) for p in instance.projects)
    with FakeGitLab(instance, free_tier=True, graphql=graphql) as free:
        # Serial: with --concurrency N, up to N projects ask before the first answer is in.
        run = collect(
            free, tmp_path / "l.db", "--group", "acme", "--no-snapshots", "--concurrency", "1"
        )
        counts = free.counts()
        routes = [entry.route for entry in free.log]
    assert run.code == 0, run.err
    assert run.err.count(NOTICE) == 1
    assert approvals_in(tmp_path / "l.db") == 0
    first_list = routes.index("projects.deployments")
    if graphql:
        # One query for the first page (GitLab.com's Free answers empty approvals, which
        # proves nothing), then one question to the protected environments API; no more.
        assert counts["projects.deployment"] == 0
        assert routes[first_list + 1 : first_list + 3] == [
            "graphql",
            "projects.protected_environments",
        ]
        pipeline_queries = sum(-(-len(p.pipelines) // 20) for p in instance.projects)
        assert counts["graphql"] == pipeline_queries + 1  # the one deployment query
    else:
        # One detail, then one question to the protected environments API for the namespace.
        assert counts["projects.deployment"] == 1 < deployments
        first_detail = routes.index("projects.deployment")
        assert routes[first_detail + 1] == "projects.protected_environments"
