"""``pipeledger collect --platform gitlab`` end to end against the fake GitLab on 127.0.0.1:
the ledger holds exactly the fake's data, whatever pagination, faults and tiers it meets."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from pipeledger.events import format_time
from pipeledger_gitlab.deployment_details import BATCH as DEPLOYMENT_BATCH
from pipeledger_gitlab.pipeline_details import BATCH as PIPELINE_BATCH
from tests.fakes.gitlab_api import DEFAULT_TOKEN, FakeGitLab
from tests.fakes.gitlab_data import FakeInstance, FakePipeline
from tests.fakes.gitlab_generate import Size, expected_records, generate_group
from tests.plugins.pipeledger_gitlab.conftest import assert_valid
from tests.plugins.pipeledger_gitlab.helpers import collect, ledger_events, records

pytestmark = pytest.mark.e2e


def test_group_collect_equals_the_fake_data(fake: FakeGitLab, tmp_path: Path) -> None:
    run = collect(fake, tmp_path / "l.db", "--group", "acme")
    assert run.code == 0, run.err
    events = ledger_events(tmp_path / "l.db")
    assert records(events) == expected_records(fake.instance)
    assert len(events) == len(expected_records(fake.instance))  # nothing twice
    for event in events:
        assert_valid(event)
        assert event.instance == f"127.0.0.1:{fake.port}"
    assert f"{len(events)} new" in run.out
    assert DEFAULT_TOKEN not in run.out + run.err


def test_a_review_is_dated_when_its_approver_approved(fake: FakeGitLab, tmp_path: Path) -> None:
    # GitLab's approvals list dates each approval (approved_at); the fake renders each
    # approver 30, 29, … minutes before the merge.
    assert collect(fake, tmp_path / "l.db", "--group", "acme").code == 0
    approved = {
        (mr.project_id, mr.iid, user.username): mr.merged_at - timedelta(minutes=30 - index)
        for project in fake.instance.projects
        for mr in project.merge_requests
        for index, user in enumerate(mr.approvers)
    }
    reviews = [e for e in ledger_events(tmp_path / "l.db") if e.kind.value == "change.review"]
    assert reviews
    for event in reviews:
        project_id = int(event.source.native_id.split("!", 1)[0])
        key = (project_id, event.target["number"], event.actor.login)  # type: ignore[index]
        assert format_time(event.occurred_at) == format_time(approved[key])


def test_rerun_adds_nothing_and_fetches_no_details(fake: FakeGitLab, tmp_path: Path) -> None:
    assert collect(fake, tmp_path / "l.db", "--group", "acme").code == 0
    first, before = fake.requests, fake.counts()
    run = collect(fake, tmp_path / "l.db", "--group", "acme")
    assert (run.code, "0 new" in run.out) == (0, True)
    after = fake.counts()
    for detail in ("graphql", "users.get"):
        assert after[detail] == before[detail] > 0
    assert after["projects.deployment"] == before["projects.deployment"]  # 0: over GraphQL
    rerun_requests = fake.requests - first
    projects, groups = len(fake.instance.projects), len(fake.instance.groups)
    # resolve the group (3 lists) + per project 3 lists and 3 snapshot lists (members,
    # protected environments, protected branches) + per group 1 audit and 1 members list
    assert rerun_requests == 3 + 6 * projects + 2 * groups


def test_changes_after_a_run_are_collected_once(fake: FakeGitLab, tmp_path: Path) -> None:
    assert collect(fake, tmp_path / "l.db", "--group", "acme").code == 0
    project = fake.instance.projects[0]
    running = next(p for p in project.pipelines if p.status == "running")
    newest = max(p.updated_at for p in project.pipelines)
    with fake.lock:
        running.status, running.updated_at = "success", newest + timedelta(minutes=5)
        project.pipelines.append(
            FakePipeline(
                99999,
                999,
                project.id,
                "main",
                "f" * 40,
                "failed",
                "push",
                fake.instance.users[1],
                newest,
                newest + timedelta(minutes=6),
            )
        )
    run = collect(fake, tmp_path / "l.db", "--group", "acme")
    assert "2 new" in run.out
    added = records(ledger_events(tmp_path / "l.db"))
    assert (("pipeline.run", f"{running.id}/success", running.user.username, "success")) in added
    assert added == expected_records(fake.instance) | {
        ("pipeline.run", f"{running.id}/running", running.user.username, "running")
    }


def test_5xx_and_429_are_retried_without_loss(fake: FakeGitLab, tmp_path: Path) -> None:
    fake.fail_next(2, status=502, path_contains="/pipelines")
    fake.fail_next(1, status=503, path_contains="/deployments/")
    fake.throttle_next(3, retry_after="0")
    fake.fail_next(1, status=500, path_contains="/audit_events", retry_after=None)
    run = collect(fake, tmp_path / "l.db", "--group", "acme")
    assert run.code == 0, run.err
    assert records(ledger_events(tmp_path / "l.db")) == expected_records(fake.instance)
    statuses = [entry.status for entry in fake.log]
    assert statuses.count(429) == 3 and statuses.count(502) == 2


@pytest.mark.parametrize("link_headers", [True, False])
def test_many_pages_with_and_without_link_headers(tmp_path: Path, link_headers: bool) -> None:
    instance = generate_group(
        3, Size(subgroups=0, projects_per_group=1, pipelines=230, deployments=3)
    )
    # X-Total and rel="last" disappear above total_limit, as GitLab does above 10,000.
    with FakeGitLab(instance, link_headers=link_headers, total_limit=50) as fake:
        run = collect(fake, tmp_path / "l.db", "--project", instance.projects[0].full_path)
        assert run.code == 0, run.err
        assert records(ledger_events(tmp_path / "l.db")) == expected_records(
            _only_projects(instance)
        )
        pipeline_lists = [e for e in fake.log if e.route == "projects.pipelines"]
        assert len(pipeline_lists) == 3  # 230 pipelines, per_page=100
        assert all(e.query.get("per_page") == "100" for e in pipeline_lists)


def test_free_tier_says_so_once_and_collects_the_rest(tmp_path: Path) -> None:
    with FakeGitLab(generate_group(), free_tier=True) as fake:
        # Serial: with --concurrency N, up to N projects ask before the first answer is in.
        run = collect(fake, tmp_path / "l.db", "--group", "acme", "--concurrency", "1")
        assert run.code == 0, run.err
        assert run.err.count("audit events are not available") == 1
        assert run.err.count("no deployment approvals") == 1
        held = records(ledger_events(tmp_path / "l.db"))
        assert held == expected_records(fake.instance, free_tier=True)
        counts = fake.counts()
        assert counts["projects.audit_events"] + counts["groups.audit_events"] == 1
        # One GraphQL query for the first page of deployments, then no more deployment details.
        pipelines = [len(p.pipelines) for p in fake.instance.projects]
        pipeline_queries = sum(-(-count // PIPELINE_BATCH) for count in pipelines)  # one page each
        assert (counts["graphql"], counts["projects.deployment"]) == (pipeline_queries + 1, 0)


def test_one_project_within_a_window(fake: FakeGitLab, tmp_path: Path) -> None:
    project = fake.instance.projects[2]
    times = sorted(p.updated_at for p in project.pipelines)
    since, until = times[3], times[8]
    run = collect(
        fake,
        tmp_path / "l.db",
        "--project",
        project.full_path,
        "--since",
        format_time(since),
        "--until",
        format_time(until),
    )
    assert run.code == 0, run.err
    runs = {
        e.source.native_id
        for e in ledger_events(tmp_path / "l.db")
        if e.kind.value == "pipeline.run"
    }
    inside = {f"{p.id}/{p.status}" for p in project.pipelines if since <= p.updated_at <= until}
    assert runs == inside and len(inside) >= 6


def test_wider_since_later_fills_the_gap(fake: FakeGitLab, tmp_path: Path) -> None:
    project = fake.instance.projects[0]
    middle = sorted(p.updated_at for p in project.pipelines)[6]
    path = project.full_path
    assert (
        collect(fake, tmp_path / "l.db", "--project", path, "--since", format_time(middle)).code
        == 0
    )
    assert collect(fake, tmp_path / "l.db", "--project", path).code == 0
    held = records(ledger_events(tmp_path / "l.db"))
    assert held == expected_records(_only_projects(fake.instance, project.id))


def test_unknown_project_fails_with_exit_3(fake: FakeGitLab, tmp_path: Path) -> None:
    run = collect(fake, tmp_path / "l.db", "--project", "acme/nope")
    assert run.code == 3
    assert "has no project 'acme/nope'" in run.err


def test_bad_token_is_explained_and_never_printed(fake: FakeGitLab, tmp_path: Path) -> None:
    secret = "glpat-wrong-wrong-wrong"
    run = collect(fake, tmp_path / "l.db", "--group", "acme", env={"GITLAB_TOKEN": secret})
    assert run.code == 3
    assert "rejected GITLAB_TOKEN" in run.err and "read_api" in run.err
    assert secret not in run.err + run.out


@pytest.mark.parametrize(
    ("env", "needle"),
    [({}, "GITLAB_TOKEN is not set"), ({"CI_JOB_TOKEN": "job-token"}, "cannot use CI_JOB_TOKEN")],
)
def test_missing_or_job_token_is_a_usage_error(
    fake: FakeGitLab, tmp_path: Path, env: dict[str, str], needle: str
) -> None:
    run = collect(fake, tmp_path / "l.db", "--group", "acme", env=env)
    assert run.code == 2
    assert needle in run.err
    assert fake.requests == 0


def _only_projects(instance: FakeInstance, *ids: int) -> FakeInstance:
    chosen = [p for p in instance.projects if not ids or p.id in ids]
    return FakeInstance(instance.root, [], chosen, instance.users)


def test_ratelimit_remaining_is_honoured_before_gitlab_has_to_say_429(tmp_path: Path) -> None:
    # The quota runs out after 100 requests; the run needs about 200.
    with FakeGitLab(generate_group(), rate_limit=100, rate_quota=True) as fake:
        # Serial: the fake's quota mode moves its reset 60 s ahead until the quota is used
        # up; requests in flight would (rightly) wait for that announced reset.
        run = collect(fake, tmp_path / "l.db", "--group", "acme", "--concurrency", "1")
        assert run.code == 0, run.err
        assert "rate limit used up; waiting" in run.err
        assert all(entry.status != 429 for entry in fake.log)
        assert fake.requests > 100
        assert records(ledger_events(tmp_path / "l.db")) == expected_records(fake.instance)


def test_more_items_at_one_instant_than_a_page_holds(tmp_path: Path) -> None:
    instance = generate_group(5, Size(subgroups=0, projects_per_group=1, pipelines=250))
    project = instance.projects[0]
    for pipeline in project.pipelines[:150]:
        pipeline.updated_at = project.pipelines[0].updated_at
    with FakeGitLab(instance) as fake:
        assert collect(fake, tmp_path / "l.db", "--project", project.full_path).code == 0
        events = ledger_events(tmp_path / "l.db")
        assert records(events) == expected_records(_only_projects(instance))
        # Each detail asked once: pages of 100, 100 and 50 new pipelines, 20 per GraphQL query;
        # the project's deployments (one page), DEPLOYMENT_BATCH per query.
        deployment_queries = -(-len(project.deployments) // DEPLOYMENT_BATCH)
        counts = fake.counts()
        assert (counts["graphql"], counts["projects.pipeline"], counts["projects.deployment"]) == (
            5 + 5 + 3 + deployment_queries,
            0,
            0,
        )


@pytest.mark.parametrize("graphql", [True, False], ids=["graphql", "rest"])
def test_pipeline_or_deployment_deleted_after_listing_is_skipped(
    fake: FakeGitLab, tmp_path: Path, graphql: bool
) -> None:
    project = fake.instance.projects[1]
    pipeline, deployment = project.pipelines[2], project.deployments[1]
    fake.graphql = graphql
    fake.gone_pipelines.add(pipeline.id)  # GraphQL: the pipeline is null
    fake.gone_deployments.add(deployment.id)  # and the deployment
    fake.fail_next(1, 404, f"/pipelines/{pipeline.id}", retry_after=None)  # REST: 404
    fake.fail_next(1, 404, f"/deployments/{deployment.id}", retry_after=None)
    run = collect(fake, tmp_path / "l.db", "--group", "acme")
    assert run.code == 0, run.err
    held = records(ledger_events(tmp_path / "l.db"))
    gone = {r for r in expected_records(fake.instance) if r[1].startswith(str(deployment.id))}
    gone |= {
        r for r in expected_records(fake.instance) if r[1].endswith(f"/deployment/{deployment.id}")
    }
    gone.add(
        (
            "pipeline.run",
            f"{pipeline.id}/{pipeline.status}",
            pipeline.user.username,
            pipeline.status,
        )
    )
    assert held == expected_records(fake.instance) - gone
