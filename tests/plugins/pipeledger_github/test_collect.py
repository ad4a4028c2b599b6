"""Collection against the fake API: request counts, conditional reruns, resumption,
pagination and the 1,000-result cap."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from pipeledger.collect.adapter import CollectRequest
from pipeledger.errors import PlatformError
from pipeledger.events import EventKind
from pipeledger.sinks.fanout import SinkSet
from pipeledger_github.cursor import RepositoryList
from tests.fakes.github_responses import FakeHub
from tests.plugins.pipeledger_github import payloads
from tests.plugins.pipeledger_github.conftest import (
    AdapterFactory,
    RecordingProgress,
    run_collect,
    stored_events,
)

SHA1 = "3f786850e387550fdab836ed7e6dc881de23001b"
SHA2 = "89e6c98d92887913cadf06b2adb97f26cde4849b"
SHA3 = "2b66fd261ee5c6cfc8de7fa466bab600bcfe4f69"


def seed(hub: FakeHub) -> None:
    """Two deploying runs (one deploys twice), a CI run, reviews of both merged PRs."""
    repo = hub.repo("acme/web")
    repo.runs += [
        payloads.run(9001, "2026-05-04T10:00:00Z", sha=SHA1),
        payloads.run(9002, "2026-05-05T14:00:00Z", sha=SHA2, actor="dave", triggering="erin"),
        payloads.run(9003, "2026-05-06T08:10:00Z", sha=SHA3, actor="dependabot[bot]"),
    ]
    repo.deployments += [
        payloads.deployment(501, "2026-05-04T10:05:00Z", environment="staging", sha=SHA1),
        payloads.deployment(502, "2026-05-04T10:20:00Z", sha=SHA1),
        payloads.deployment(503, "2026-05-05T16:40:00Z", sha=SHA2, creator="erin"),
    ]
    repo.statuses[501] = [payloads.status(7501, "2026-05-04T10:09:00Z", run_id=9001)]
    repo.statuses[502] = [
        payloads.status(7502, "2026-05-04T10:20:01Z", state="waiting", run_id=9001),
        payloads.status(7503, "2026-05-04T10:40:00Z", run_id=9001),
    ]
    repo.statuses[503] = [payloads.status(7504, "2026-05-05T16:52:00Z", run_id=9002)]
    repo.approvals[9001] = [payloads.approval("bob")]
    repo.approvals[9002] = [payloads.approval("erin")]
    repo.pulls[SHA1] = [payloads.pull(41, sha=SHA1)]
    repo.pulls[SHA2] = [payloads.pull(42, author="dave", sha=SHA2), payloads.pull(40, merged=False)]
    repo.reviews[41] = [payloads.review(88001, "carol")]
    repo.reviews[42] = [payloads.review(88002, "bob", "COMMENTED")]


def kinds(sinks: SinkSet) -> Counter[EventKind]:
    return Counter(event.kind for event in stored_events(sinks))


def test_first_collection_makes_the_minimum_requests(
    hub: FakeHub, make_adapter: AdapterFactory, sinks: SinkSet
) -> None:
    seed(hub)
    adapter = make_adapter()
    summary = run_collect(adapter, sinks)
    # 1 runs page + 1 tags page + 1 deployments page + 3 statuses + 2 approvals
    # + 2 commit pulls + 3 reviews (the unmerged PR 40 contains SHA2 too: its reviews count)
    assert len(hub.log) == 13
    assert adapter.requests_made == 13 + 1  # and the GraphQL query this hub answers 404
    assert len(hub.requests_to("/tags")) == 1
    assert kinds(sinks) == {
        EventKind.PIPELINE_RUN: 3,
        EventKind.DEPLOYMENT: 7,
        EventKind.DEPLOYMENT_APPROVAL: 2,
        EventKind.CHANGE_REVIEW: 3,
    }
    assert summary.stored == 15
    approval = next(
        e
        for e in stored_events(sinks)
        if e.actor.login == "erin" and e.kind.value == "deployment.approval"
    )
    assert approval.correlation["deployment_id"] == "503"


def test_rerun_with_nothing_new_makes_only_conditional_requests(
    hub: FakeHub, make_adapter: AdapterFactory, sinks: SinkSet
) -> None:
    seed(hub)
    run_collect(make_adapter(), sinks)
    hub.log.clear()
    adapter = make_adapter()
    summary = run_collect(adapter, sinks)
    assert summary.stored == 0
    assert [(e.status, e.conditional) for e in hub.log] == [(304, True), (304, True)]
    assert adapter.not_modified == 2


def test_rerun_collects_only_what_is_new(
    hub: FakeHub, make_adapter: AdapterFactory, sinks: SinkSet
) -> None:
    seed(hub)
    run_collect(make_adapter(), sinks)
    repo = hub.repo("acme/web")
    repo.runs.append(payloads.run(9004, "2026-05-07T09:00:00Z", sha=SHA3))
    repo.deployments.append(payloads.deployment(504, "2026-05-07T09:05:00Z", sha=SHA3))
    repo.statuses[504] = [payloads.status(7505, "2026-05-07T09:09:00Z", run_id=9004)]
    repo.approvals[9004] = [payloads.approval("carol")]
    repo.pulls[SHA3] = [payloads.pull(43, sha=SHA3)]
    repo.reviews[43] = [payloads.review(88003, "bob")]
    hub.log.clear()
    summary = run_collect(make_adapter(), sinks)
    # runs page, tags (304), deployments page, 1 statuses, 1 approvals, 1 commit pulls,
    # 1 reviews
    assert len(hub.log) == 7
    assert [(e.status, e.conditional) for e in hub.requests_to("/tags")] == [(304, True)]
    # the run, the deployment and its status, the approval, the review
    assert summary.stored == 5
    new = stored_events(sinks)[-5:]
    assert {e.correlation.get("run_id") for e in new if e.kind is EventKind.PIPELINE_RUN} == {
        "9004"
    }


def test_runs_are_paged_by_link_and_stop_at_since(
    hub: FakeHub, make_adapter: AdapterFactory, sinks: SinkSet
) -> None:
    start = datetime(2026, 5, 1, tzinfo=UTC)
    hub.repo("acme/web").runs += [
        payloads.run(1000 + n, _stamp(start + timedelta(minutes=n))) for n in range(250)
    ]
    since = start + timedelta(minutes=130)
    request = CollectRequest(repositories=("acme/web",), since=since)
    run_collect(make_adapter(), sinks, request)
    run_pages = hub.requests_to("/actions/runs")
    assert len(run_pages) == 2
    assert run_pages[1].query.get("page") == "2"
    assert kinds(sinks)[EventKind.PIPELINE_RUN] == 120


def test_a_window_over_the_cap_is_split(
    hub: FakeHub, make_adapter: AdapterFactory, sinks: SinkSet
) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    runs = [payloads.run(10_000 + n, _stamp(start + timedelta(minutes=n))) for n in range(2500)]
    for run in runs:
        for bulky in ("repository", "head_repository", "head_commit", "referenced_workflows"):
            run.pop(bulky)
    hub.repo("acme/web").runs += runs
    until = start + timedelta(minutes=2499)
    request = CollectRequest(repositories=("acme/web",), since=start, until=until)
    run_collect(make_adapter(), sinks, request)
    windows = [
        e.query["created"] for e in hub.requests_to("/actions/runs") if "page" not in e.query
    ]
    # the whole range and its two halves are over 1,000 (3 first pages wasted), 4 leaves
    assert len(windows) == 7
    assert len(hub.requests_to("/actions/runs")) == 3 + 4 * 7
    assert kinds(sinks)[EventKind.PIPELINE_RUN] == 2500
    hub.log.clear()
    run_collect(make_adapter(), sinks, request)
    assert hub.log == []


def test_unfinished_run_is_followed_until_it_completes(
    hub: FakeHub, make_adapter: AdapterFactory, sinks: SinkSet
) -> None:
    repo = hub.repo("acme/web")
    repo.runs.append(
        payloads.run(9005, "2026-05-08T10:00:00Z", status="in_progress", conclusion=None)
    )
    run_collect(make_adapter(), sinks)
    hub.log.clear()
    run_collect(make_adapter(), sinks)
    assert [(e.status, e.conditional) for e in hub.log] == [(304, True), (304, True)]
    repo.runs[0].update(status="completed", conclusion="success", updated_at="2026-05-08T10:30:00Z")
    run_collect(make_adapter(), sinks)
    actions = [e.action for e in stored_events(sinks) if e.kind is EventKind.PIPELINE_RUN]
    assert actions == ["in_progress", "completed"]


def test_unfinished_run_beyond_the_first_page_is_rechecked_alone(
    hub: FakeHub, make_adapter: AdapterFactory, sinks: SinkSet
) -> None:
    start = datetime(2026, 5, 1, tzinfo=UTC)
    repo = hub.repo("acme/web")
    repo.runs += [payloads.run(2000 + n, _stamp(start + timedelta(minutes=n))) for n in range(150)]
    repo.runs[0].update(status="queued", conclusion=None)
    run_collect(make_adapter(), sinks)
    repo.runs[0].update(status="completed", conclusion="failure")
    hub.log.clear()
    run_collect(make_adapter(), sinks)
    assert [(e.path.rsplit("/", 1)[-1], e.status) for e in hub.log] == [
        ("runs", 304),
        ("2000", 200),
        ("tags", 304),  # recording the run needs the tags; unchanged
        ("deployments", 304),
    ]
    assert stored_events(sinks)[-1].outcome == "failure"


def test_waiting_deployment_gets_its_later_statuses_and_approval(
    hub: FakeHub, make_adapter: AdapterFactory, sinks: SinkSet
) -> None:
    repo = hub.repo("acme/web")
    repo.runs.append(payloads.run(9001, "2026-05-04T10:00:00Z", sha=SHA1))
    repo.deployments.append(payloads.deployment(502, "2026-05-04T10:20:00Z", sha=SHA1))
    repo.statuses[502] = [
        payloads.status(7502, "2026-05-04T10:20:01Z", state="waiting", run_id=9001)
    ]
    run_collect(make_adapter(), sinks)
    hub.log.clear()
    run_collect(make_adapter(), sinks)
    assert all(entry.status == 304 and entry.conditional for entry in hub.log)
    assert len(hub.log) == 3  # runs, deployments, the waiting deployment's statuses
    repo.statuses[502].append(payloads.status(7503, "2026-05-04T10:40:00Z", run_id=9001))
    repo.approvals[9001] = [payloads.approval("bob")]
    hub.log.clear()
    run_collect(make_adapter(), sinks)
    # runs, deployments, the new status, the tags (unchanged), the approvals
    assert [e.status for e in hub.log] == [304, 304, 200, 304, 200]
    last = stored_events(sinks)[-2:]
    assert [(e.kind, e.action) for e in last] == [
        (EventKind.DEPLOYMENT, "success"),
        (EventKind.DEPLOYMENT_APPROVAL, "approved"),
    ]
    hub.log.clear()
    run_collect(make_adapter(), sinks)
    assert len(hub.log) == 2  # final now: no longer followed


def test_killed_collection_resumes_without_loss_or_duplicates(
    hub: FakeHub, make_adapter: AdapterFactory, sinks: SinkSet
) -> None:
    start = datetime(2026, 5, 1, tzinfo=UTC)
    repo = hub.repo("acme/web")
    repo.runs += [payloads.run(3000 + n, _stamp(start + timedelta(minutes=n))) for n in range(250)]
    hub.fail("/actions/runs", 500, query={"page": "3"})
    with pytest.raises(PlatformError):
        run_collect(make_adapter(max_retries=0), sinks)
    assert kinds(sinks)[EventKind.PIPELINE_RUN] == 200
    hub.failures.clear()
    hub.log.clear()
    run_collect(make_adapter(), sinks)
    runs = [e for e in stored_events(sinks) if e.kind is EventKind.PIPELINE_RUN]
    assert len(runs) == 250
    assert len({e.id for e in runs}) == 250
    created = [e.query.get("created") for e in hub.requests_to("/actions/runs")]
    assert created[0] is None  # the top, conditional: nothing new
    assert hub.log[0].status == 304
    boundary = (start + timedelta(minutes=50)).isoformat()
    assert created[1] is not None
    assert created[1].endswith(".." + boundary)


def test_organization_expands_to_its_repositories(
    hub: FakeHub, make_adapter: AdapterFactory, sinks: SinkSet
) -> None:
    seed(hub)
    hub.repo("acme/api").runs.append(
        payloads.run(7001, "2026-05-06T11:00:00Z", repository="acme/api")
    )
    hub.orgs["acme"] = ["acme/web", "acme/api"]
    progress = RecordingProgress()
    run_collect(make_adapter(), sinks, CollectRequest(owners=("acme",)), progress)
    repositories = {e.scope.repository for e in stored_events(sinks)}
    assert repositories == {"web", "api"}
    assert hub.log[0].path == "/orgs/acme/repos"
    assert hub.log[0].query == {"per_page": "100", "type": "all"}


def test_rerun_asks_for_an_organizations_repositories_conditionally(
    hub: FakeHub, make_adapter: AdapterFactory, sinks: SinkSet
) -> None:
    seed(hub)
    hub.orgs["acme"] = ["acme/web"]
    request = CollectRequest(owners=("acme",))
    run_collect(make_adapter(), sinks, request)
    hub.log.clear()
    run_collect(make_adapter(), sinks, request)
    assert hub.log[0].path == "/orgs/acme/repos"
    assert all(entry.status == 304 and entry.conditional for entry in hub.log)
    hub.repo("acme/api").runs.append(
        payloads.run(7001, "2026-05-06T11:00:00Z", repository="acme/api")
    )
    hub.orgs["acme"].append("acme/api")
    hub.log.clear()
    run_collect(make_adapter(), sinks, request)
    assert (hub.log[0].status, hub.log[0].conditional) == (200, True)
    assert {e.scope.repository for e in stored_events(sinks)} == {"web", "api"}


def test_a_repository_list_of_several_pages_is_not_taken_on_trust(
    hub: FakeHub, make_adapter: AdapterFactory, sinks: SinkSet
) -> None:
    # A 304 for the first page says nothing about the others.
    hub.orgs["acme"] = [f"acme/r{n:03}" for n in range(101)]
    for name in hub.orgs["acme"]:
        hub.repo(name)
    request = CollectRequest(owners=("acme",))
    run_collect(make_adapter(), sinks, request)
    hub.log.clear()
    run_collect(make_adapter(), sinks, request)
    listing = hub.requests_to("/orgs/acme/repos")
    assert [(e.status, e.conditional) for e in listing] == [(200, False), (200, False)]


def test_an_unreadable_repository_list_cursor_counts_as_none() -> None:
    assert RepositoryList.loads("not json") == RepositoryList()
    assert RepositoryList.loads('{"etag": 3, "names": []}') == RepositoryList()
    kept = RepositoryList('W/"1"', ("acme/web",), 1)
    assert RepositoryList.loads(kept.dumps()) == kept
    assert RepositoryList.loads(RepositoryList(None, ("acme/web",)).dumps()) == RepositoryList()


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_rerun_of_an_older_run_that_deploys_again_is_recorded(
    hub: FakeHub, make_adapter: AdapterFactory, sinks: SinkSet
) -> None:
    seed(hub)
    repo = hub.repo("acme/web")
    start = datetime(2026, 5, 6, 12, tzinfo=UTC)
    repo.runs += [
        payloads.run(20_000 + n, _stamp(start + timedelta(minutes=n))) for n in range(100)
    ]
    run_collect(make_adapter(), sinks)
    rerun = repo.runs[0]  # 9001, now on the second page
    rerun.update(run_attempt=2, triggering_actor=payloads.user("erin", 104))
    repo.deployments.append(payloads.deployment(505, "2026-05-09T12:00:00Z", sha=SHA1))
    repo.statuses[505] = [payloads.status(7509, "2026-05-09T12:10:00Z", run_id=9001)]
    hub.log.clear()
    run_collect(make_adapter(), sinks)
    assert "/repos/acme/web/actions/runs/9001" in [e.path for e in hub.log]
    attempts = {
        (e.correlation["run_id"], e.correlation.get("run_attempt"), e.actor.login)
        for e in stored_events(sinks)
        if e.kind is EventKind.PIPELINE_RUN
    }
    assert ("9001", "2", "erin") in attempts
    assert ("9001", "1", "alice") in attempts


def test_killed_deployment_collection_resumes_where_it_stopped(
    hub: FakeHub, make_adapter: AdapterFactory, sinks: SinkSet
) -> None:
    start = datetime(2026, 5, 1, tzinfo=UTC)
    repo = hub.repo("acme/web")
    for n in range(150):
        created = start + timedelta(minutes=n)
        repo.deployments.append(payloads.deployment(600 + n, _stamp(created), sha=SHA1))
        repo.statuses[600 + n] = [
            payloads.status(8000 + n, _stamp(created + timedelta(seconds=30)))
        ]
    repo.pulls[SHA1] = []
    hub.fail("/deployments/620/statuses", 500)
    with pytest.raises(PlatformError):
        run_collect(make_adapter(max_retries=0), sinks)
    assert kinds(sinks)[EventKind.DEPLOYMENT] == 200  # the first page: 100 deployments
    hub.log.clear()
    run_collect(make_adapter(), sinks)
    assert len(hub.requests_to("/statuses")) == 50
    deployments = [e for e in stored_events(sinks) if e.kind is EventKind.DEPLOYMENT]
    assert len(deployments) == 300
    assert len({e.id for e in deployments}) == 300


def test_record_missing_fields_is_quarantined_with_a_notice(
    hub: FakeHub, make_adapter: AdapterFactory, sinks: SinkSet
) -> None:
    repo = hub.repo("acme/web")
    broken = payloads.run(9001, "2026-05-04T10:00:00Z")
    del broken["status"]
    repo.runs += [broken, payloads.run(9002, "2026-05-05T10:00:00Z", status="frozen")]
    progress = RecordingProgress()
    run_collect(make_adapter(), sinks, progress=progress)
    assert [e.action for e in stored_events(sinks)] == ["frozen"]
    assert any("'status'" in notice and "quarantined" in notice for notice in progress.notices)
    assert [record.native_id for record in sinks.ledger.quarantined()] == ["9001"]
    assert any("'frozen'" in notice for notice in progress.notices)


def test_vanished_commit_run_or_deployment_does_not_stop_the_collection(
    hub: FakeHub, make_adapter: AdapterFactory, sinks: SinkSet
) -> None:
    seed(hub)
    hub.fail(f"/commits/{SHA1}/pulls", 422, body='{"message": "No commit found for SHA"}')
    hub.fail("/runs/9002/approvals", 404, body='{"message": "Not Found"}')
    hub.fail("/deployments/501/statuses", 404, body='{"message": "Not Found"}')
    progress = RecordingProgress()
    run_collect(make_adapter(), sinks, progress=progress)
    assert kinds(sinks) == {
        EventKind.PIPELINE_RUN: 3,
        EventKind.DEPLOYMENT: 5,  # 501 skipped
        EventKind.DEPLOYMENT_APPROVAL: 1,
        EventKind.CHANGE_REVIEW: 1,  # PR 42 only
    }
    notices = " ".join(progress.notices)
    assert "no longer in the repository" in notices
    assert "run 9002 is gone" in notices
    assert "deployment 501 was deleted" in notices
