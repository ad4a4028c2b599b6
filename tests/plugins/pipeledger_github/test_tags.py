"""Tag deployments: GitHub names a tag push's run and deployments by the bare tag name; they
must be recorded as ``refs/tags/<name>``, in the gate and in collect, at little cost."""

from __future__ import annotations

from pipeledger.collect.adapter import CollectRequest
from pipeledger.events import EventKind
from pipeledger.sinks.fanout import SinkSet
from pipeledger_github.gate_evidence import job_refs
from pipeledger_github.normalize.fields import RefNames
from pipeledger_github.normalize.pipelines import deployment_events, run_event
from pipeledger_github.tags import TagsCursor
from tests.fakes.github_responses import FakeHub
from tests.plugins.pipeledger_github import payloads
from tests.plugins.pipeledger_github.conftest import (
    AdapterFactory,
    RecordingProgress,
    run_collect,
    stored_events,
)
from tests.plugins.pipeledger_github.test_gate import JOB

SHA1 = "3f786850e387550fdab836ed7e6dc881de23001b"
SHA2 = "89e6c98d92887913cadf06b2adb97f26cde4849b"
SHA3 = "2b66fd261ee5c6cfc8de7fa466bab600bcfe4f69"
TAGS_KEY = "github:github.com:acme/web:tags"


def release(hub: FakeHub) -> None:
    """Run 9001 pushed tag v2.3.0 and deployed it; run 9002 ran on a *branch* named v9.9.9
    while the tag v9.9.9 points at another commit."""
    repo = hub.repo("acme/web")
    repo.runs += [
        payloads.run(9001, "2026-05-04T10:00:00Z", sha=SHA1, branch="v2.3.0"),
        payloads.run(9002, "2026-05-05T10:00:00Z", sha=SHA2, branch="v9.9.9"),
    ]
    repo.deployments += [
        payloads.deployment(501, "2026-05-04T10:05:00Z", sha=SHA1, ref="v2.3.0"),
        payloads.deployment(502, "2026-05-05T10:05:00Z", sha=SHA2, ref="v9.9.9"),
    ]
    repo.statuses[501] = [payloads.status(7501, "2026-05-04T10:09:00Z", run_id=9001)]
    repo.statuses[502] = [payloads.status(7502, "2026-05-05T10:09:00Z", run_id=9002)]
    repo.approvals[9001] = [payloads.approval("bob")]
    repo.approvals[9002] = [payloads.approval("bob")]
    repo.tags += [payloads.tag("v9.9.9", SHA3), payloads.tag("v2.3.0", SHA1)]


def refs_by_run(sinks: SinkSet) -> dict[tuple[str, EventKind], set[str | None]]:
    found: dict[tuple[str, EventKind], set[str | None]] = {}
    for event in stored_events(sinks):
        found.setdefault((event.correlation["run_id"], event.kind), set()).add(event.ref)
    return found


def test_a_tag_deploy_is_recorded_as_the_tag_and_a_same_named_branch_is_not(
    hub: FakeHub, make_adapter: AdapterFactory, sinks: SinkSet
) -> None:
    release(hub)
    run_collect(make_adapter(), sinks)
    assert refs_by_run(sinks) == {
        ("9001", EventKind.PIPELINE_RUN): {"refs/tags/v2.3.0"},
        ("9001", EventKind.DEPLOYMENT): {"refs/tags/v2.3.0"},
        ("9001", EventKind.DEPLOYMENT_APPROVAL): {"refs/tags/v2.3.0"},
        ("9002", EventKind.PIPELINE_RUN): {"refs/heads/v9.9.9"},
        ("9002", EventKind.DEPLOYMENT): {"refs/heads/v9.9.9"},
        ("9002", EventKind.DEPLOYMENT_APPROVAL): {"refs/heads/v9.9.9"},
    }
    assert len(hub.requests_to("/tags")) == 1
    assert TagsCursor.loads(sinks.ledger.cursor(TAGS_KEY)).pages[0].tags == {
        "v9.9.9": SHA3,
        "v2.3.0": SHA1,
    }


def test_tags_cost_nothing_on_an_unchanged_rerun_and_a_304_when_something_is_new(
    hub: FakeHub, make_adapter: AdapterFactory, sinks: SinkSet
) -> None:
    release(hub)
    run_collect(make_adapter(), sinks)
    hub.log.clear()
    run_collect(make_adapter(), sinks)
    assert hub.requests_to("/tags") == []  # nothing was recorded, so no tag was needed
    repo = hub.repo("acme/web")
    repo.runs.append(payloads.run(9003, "2026-05-06T10:00:00Z", sha=SHA1, branch="v2.3.0"))
    hub.log.clear()
    run_collect(make_adapter(), sinks)
    assert [(e.status, e.conditional) for e in hub.requests_to("/tags")] == [(304, True)]
    assert refs_by_run(sinks)[("9003", EventKind.PIPELINE_RUN)] == {"refs/tags/v2.3.0"}


def test_a_new_tag_is_seen_by_the_next_collection(
    hub: FakeHub, make_adapter: AdapterFactory, sinks: SinkSet
) -> None:
    release(hub)
    run_collect(make_adapter(), sinks)
    repo = hub.repo("acme/web")
    repo.tags.insert(0, payloads.tag("v2.4.0", SHA3))
    repo.runs.append(payloads.run(9003, "2026-05-06T10:00:00Z", sha=SHA3, branch="v2.4.0"))
    hub.log.clear()
    run_collect(make_adapter(), sinks)
    assert [e.status for e in hub.requests_to("/tags")] == [200]
    assert refs_by_run(sinks)[("9003", EventKind.PIPELINE_RUN)] == {"refs/tags/v2.4.0"}
    assert "v2.4.0" in TagsCursor.loads(sinks.ledger.cursor(TAGS_KEY)).pages[0].tags


def test_many_tags_are_paged_and_each_page_rechecked_conditionally(
    hub: FakeHub, make_adapter: AdapterFactory, sinks: SinkSet
) -> None:
    release(hub)
    repo = hub.repo("acme/web")
    repo.tags[:0] = [payloads.tag(f"nightly-{n:03}", SHA2) for n in range(150)]
    run_collect(make_adapter(), sinks)
    assert [e.query.get("page") for e in hub.requests_to("/tags")] == [None, "2"]
    assert refs_by_run(sinks)[("9001", EventKind.DEPLOYMENT)] == {"refs/tags/v2.3.0"}
    repo.runs.append(payloads.run(9003, "2026-05-06T10:00:00Z", sha=SHA1, branch="v2.3.0"))
    hub.log.clear()
    run_collect(make_adapter(), sinks)
    assert [(e.status, e.conditional) for e in hub.requests_to("/tags")] == [(304, True)] * 2
    assert refs_by_run(sinks)[("9003", EventKind.PIPELINE_RUN)] == {"refs/tags/v2.3.0"}


def test_unreadable_tags_leave_names_as_branches_with_a_notice(
    hub: FakeHub, make_adapter: AdapterFactory, sinks: SinkSet
) -> None:
    release(hub)
    hub.fail("/tags", 404, body='{"message": "Not Found"}')
    progress = RecordingProgress()
    run_collect(make_adapter(), sinks, progress=progress)
    assert refs_by_run(sinks)[("9001", EventKind.DEPLOYMENT)] == {"refs/heads/v2.3.0"}
    assert any("tags cannot be read" in notice for notice in progress.notices)


def test_the_gate_takes_the_jobs_ref_without_asking_for_tags(
    hub: FakeHub, make_adapter: AdapterFactory, sinks: SinkSet
) -> None:
    release(hub)
    job = JOB | {
        "GITHUB_RUN_ID": "9001",
        "GITHUB_SHA": SHA1,
        "GITHUB_REF": "refs/tags/v2.3.0",
        "GITHUB_REF_NAME": "v2.3.0",
        "GITHUB_REF_TYPE": "tag",
    }
    evidence = make_adapter(environ=job).gate_evidence("production", [])
    assert hub.requests_to("/tags") == []
    assert {e.ref for e in evidence.events if e.kind is not EventKind.CHANGE_REVIEW} == {
        "refs/tags/v2.3.0"
    }
    run_collect(make_adapter(), sinks, CollectRequest(repositories=("acme/web",)))
    collected = {e.id: e for e in stored_events(sinks)}
    assert all(collected.get(e.id) == e for e in evidence.events)


def test_the_jobs_ref_from_the_actions_variables() -> None:
    tag = {"GITHUB_REF": "refs/tags/v2.3.0", "GITHUB_REF_NAME": "v2.3.0"}
    assert job_refs(tag).certain == {"v2.3.0": "refs/tags/v2.3.0"}
    branch = {"GITHUB_REF": "refs/heads/release/2.3", "GITHUB_REF_NAME": "release/2.3"}
    assert job_refs(branch).certain == {"release/2.3": "refs/heads/release/2.3"}
    # Without GITHUB_REF, its name and type say the same.
    assert job_refs({"GITHUB_REF_NAME": "v2", "GITHUB_REF_TYPE": "tag"}).certain == {
        "v2": "refs/tags/v2"
    }
    # A pull request's merge ref says nothing about the head branch the run names.
    pull = {"GITHUB_REF": "refs/pull/42/merge", "GITHUB_REF_NAME": "42/merge"}
    assert job_refs(pull).certain == {}
    assert job_refs({}).certain == {}


def test_full_ref_rules() -> None:
    refs = RefNames(tags={"v1": SHA1}, certain={"v2": "refs/tags/v2"})
    assert refs.full_ref("v1", SHA1) == "refs/tags/v1"
    assert refs.full_ref("v1", SHA1.upper()) == "refs/tags/v1"
    assert refs.full_ref("v1", SHA2) == "refs/heads/v1"  # a branch that shares the name
    assert refs.full_ref("v1", None) == "refs/heads/v1"
    assert refs.full_ref("v2", SHA2) == "refs/tags/v2"
    assert refs.full_ref("main", SHA1) == "refs/heads/main"
    assert refs.full_ref("refs/tags/v3", None) == "refs/tags/v3"
    assert refs.full_ref(SHA1, SHA1) is None
    assert refs.full_ref(None, SHA1) is None


def test_normalizers_take_the_tags_as_data() -> None:
    run = payloads.run(9001, "2026-05-04T10:00:00Z", sha=SHA1, branch="v2.3.0")
    deployment = payloads.deployment(501, "2026-05-04T10:05:00Z", sha=SHA1, ref="v2.3.0")
    tags = RefNames(tags={"v2.3.0": SHA1})
    assert run_event(run, "github.com").ref == "refs/heads/v2.3.0"
    assert run_event(run, "github.com", refs=tags).ref == "refs/tags/v2.3.0"
    events = deployment_events(deployment, [], "github.com", refs=tags)
    assert [e.ref for e in events] == ["refs/tags/v2.3.0"]
    assert events[0].attributes["ref_name"] == "v2.3.0"


def test_an_unreadable_tags_cursor_counts_as_none() -> None:
    assert TagsCursor.loads("not json").pages == ()
    assert TagsCursor.loads('{"pages": [{"etag": 1}]}').pages == ()
    assert TagsCursor.loads(None).pages == ()
