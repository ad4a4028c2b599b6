"""GitLab webhooks and audit event streaming through the real ``pipeledger serve`` over HTTP
on loopback: tokens, idempotency, bad input, metrics, and one event per fact whether the
webhook or the backfill (``collect`` against the fake GitLab) comes first."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from pipeledger.events import format_time
from tests.core.serve.process import (
    GITLAB_ENV,
    GITLAB_TOKEN,
    STREAMING_TOKEN,
    ServeProcess,
    start_serve,
)
from tests.fakes import gitlab_render as render
from tests.fakes.gitlab_api import FakeGitLab
from tests.fakes.gitlab_data import FakeDeployment, FakePipeline, FakeProject
from tests.fakes.gitlab_generate import generate_group
from tests.paths import fixture
from tests.plugins.pipeledger_gitlab.helpers import collect, ledger_events

HOOKS = fixture("gitlab-webhooks")
STREAMED = fixture("gitlab-audit-streaming")


def example(*parts: str) -> dict[str, Any]:
    return json.loads(HOOKS.joinpath(*parts).read_text(encoding="utf-8"))


def streamed_example(name: str) -> dict[str, Any]:
    return json.loads((STREAMED / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServeProcess, Path]]:
    tmp = tmp_path_factory.mktemp("serve-gitlab")
    ledger = tmp / "ledger.db"
    process = start_serve(tmp, [f"sqlite:///{ledger}"], GITLAB_ENV)
    yield process, ledger
    process.stop()


def stored_ids(ledger: Path) -> list[str]:
    return [event.id for event in ledger_events(ledger)]


def test_a_hook_with_the_right_token_is_stored(served: tuple[ServeProcess, Path]) -> None:
    process, ledger = served
    answer = process.gitlab("Pipeline Hook", example("pipeline-hook", "01-success.json"), "p-1")
    assert (answer.status_code, answer.json()) == (200, {"delivery": "p-1", "stored": 1})
    assert len(stored_ids(ledger)) == len(set(stored_ids(ledger))) >= 1


def test_wrong_or_missing_tokens_are_refused_401(served: tuple[ServeProcess, Path]) -> None:
    process, ledger = served
    before = stored_ids(ledger)
    payload = example("member-hook", "01-user_add_to_group.json")
    refused = [
        process.gitlab("Member Hook", payload, "t-1", token=None),
        process.gitlab("Member Hook", payload, "t-2", token="not-the-token-0123456789"),
        process.gitlab("Member Hook", payload, "t-3", token=STREAMING_TOKEN),
        process.gitlab_stream(streamed_example("12-project-group-link-update.json"), token=None),
        process.gitlab_stream(streamed_example("12-project-group-link-update.json"), token="x"),
        process.gitlab_stream(
            streamed_example("12-project-group-link-update.json"), token=GITLAB_TOKEN
        ),
    ]
    assert [answer.status_code for answer in refused] == [401] * 6
    assert stored_ids(ledger) == before
    log = process.output()
    assert GITLAB_TOKEN not in log and STREAMING_TOKEN not in log


def test_a_redelivery_adds_nothing(served: tuple[ServeProcess, Path]) -> None:
    process, ledger = served
    payload = example("member-hook", "02-user_update_for_group.json")
    first = process.gitlab("Member Hook", payload, "member-uuid-1")
    before = stored_ids(ledger)
    again = process.gitlab("Member Hook", payload, "member-uuid-1")
    assert first.json()["stored"] == 1
    assert (again.status_code, again.json()["stored"]) == (200, 0)
    streamed = streamed_example("13-project-group-link-destroy.json") | {"id": "stream-7"}
    assert process.gitlab_stream(streamed).json()["stored"] == 1
    assert process.gitlab_stream(streamed).json()["stored"] == 0
    assert len(stored_ids(ledger)) == len(before) + 1


def test_bad_input_gets_its_status_never_a_traceback(served: tuple[ServeProcess, Path]) -> None:
    process, _ = served
    assert process.gitlab("Pipeline Hook", b"{not json", "bad-1").status_code == 400
    assert process.gitlab("Pipeline Hook", b"[1]", "bad-2").status_code == 400
    assert process.gitlab("Pipeline Hook", {"object_kind": "pipeline"}, "bad-3").status_code == 400
    no_uuid = process.gitlab("Pipeline Hook", example("pipeline-hook", "01-success.json"), None)
    assert no_uuid.status_code == 400
    assert process.gitlab_stream({"event_type": "x"}).status_code == 400  # no id
    assert process.gitlab_stream(b"{not json").status_code == 400
    big = b" " * (25 * 1024 * 1024 + 1)
    assert process.gitlab("Pipeline Hook", big, "big-1").status_code == 413
    assert process.gitlab_stream(big).status_code == 413
    assert "Traceback" not in process.output()


def test_unknown_events_are_202_and_counted(served: tuple[ServeProcess, Path]) -> None:
    process, ledger = served
    before = stored_ids(ledger)
    push = process.gitlab("Push Hook", {"object_kind": "push"}, "push-1")
    git = process.gitlab_stream(streamed_example("01-git-ssh-fetch.json"))
    assert (push.status_code, git.status_code) == (202, 202)
    assert stored_ids(ledger) == before
    metrics = requests.get(process.url + "/metrics", timeout=10).text
    assert 'event="Push Hook",outcome="unknown_event",receiver="gitlab"' in metrics
    assert 'event="repository_git_operation",outcome="unknown_event",receiver="gitlab"' in metrics
    job = process.gitlab("Job Hook", example("job-hook", "01-created.json"), "job-1")
    assert (job.status_code, job.json()["stored"]) == (200, 0)
    metrics = requests.get(process.url + "/metrics", timeout=10).text
    assert 'event="Job Hook",outcome="nothing_to_record",receiver="gitlab"' in metrics
    health = requests.get(process.url + "/healthz", timeout=10).json()
    assert {"/webhooks/gitlab", "/streams/gitlab-audit"} <= set(health["receivers"])


# Both orders against the fake GitLab: the webhooks of one pipeline, one deployment and one
# audit event of the fake, built from GitLab's documented examples.


def pipeline_hook(project: FakeProject, pipeline: FakePipeline) -> dict[str, Any]:
    payload = example("pipeline-hook", "01-success.json")
    payload["project"] |= {"id": project.id, "path_with_namespace": project.full_path}
    payload["object_attributes"] |= {
        "id": pipeline.id,
        "iid": pipeline.iid,
        "ref": pipeline.ref,
        "sha": pipeline.sha,
        "status": pipeline.status,
        "created_at": format_time(pipeline.created_at),
        "finished_at": format_time(pipeline.updated_at),
    }
    payload["user"] |= {"id": pipeline.user.id, "username": pipeline.user.username}
    return payload


def deployment_hook(project: FakeProject, deployment: FakeDeployment) -> dict[str, Any]:
    payload = example("deployment-hook", "01-success.json")
    payload["project"] |= {"id": project.id, "path_with_namespace": project.full_path}
    payload |= {
        "status": deployment.status,
        "status_changed_at": format_time(deployment.updated_at),
        "deployment_id": deployment.id,
        "deployable_id": deployment.job_id,
        "environment": deployment.environment,
        "commit_url": f"http://127.0.0.1/{project.full_path}/-/commit/{deployment.sha}",
    }
    payload["user"] |= {"id": deployment.user.id, "username": deployment.user.username}
    return payload


def audit_stream(project: FakeProject) -> dict[str, Any]:
    audited = next(e for e in project.audit_events if e.expected is not None)
    item = render.render_audit_event(audited, "Project", project.id, project.full_path)
    return {
        **item,
        "event_type": item.get("event_name") or "audit_operation",
        "entity_path": project.full_path,
    }


def deliver_all(process: ServeProcess, project: FakeProject) -> list[int]:
    pipeline = next(p for p in project.pipelines if p.status == "success")
    deployment = next(d for d in project.deployments if d.status == "success")
    answers = [
        process.gitlab("Pipeline Hook", pipeline_hook(project, pipeline), "order-p"),
        process.gitlab("Deployment Hook", deployment_hook(project, deployment), "order-d"),
        process.gitlab_stream(audit_stream(project)),
    ]
    assert [answer.status_code for answer in answers] == [200, 200, 200], [
        answer.text for answer in answers
    ]
    return [int(answer.json()["stored"]) for answer in answers]


@pytest.fixture
def fake() -> Iterator[FakeGitLab]:
    with FakeGitLab(generate_group()) as server:
        yield server


def serve_for(fake: FakeGitLab, tmp: Path, ledger: Path) -> ServeProcess:
    return start_serve(
        tmp, [f"sqlite:///{ledger}"], GITLAB_ENV | {"PIPELEDGER_GITLAB_URL": fake.api_url}
    )


def only_collected(fake: FakeGitLab, tmp: Path) -> list[str]:
    ledger = tmp / "collect-only.db"
    assert collect(fake, ledger, "--group", "acme").code == 0
    return sorted(stored_ids(ledger))


@pytest.mark.e2e
def test_webhooks_then_backfill_give_one_event_each(fake: FakeGitLab, tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.db"
    project = fake.instance.projects[0]
    process = serve_for(fake, tmp_path, ledger)
    try:
        assert deliver_all(process, project) == [1, 1, 1]
    finally:
        process.stop()
    run = collect(fake, ledger, "--group", "acme")
    assert run.code == 0, run.err
    ids = stored_ids(ledger)
    assert len(ids) == len(set(ids))
    assert sorted(ids) == only_collected(fake, tmp_path)


@pytest.mark.e2e
def test_backfill_then_webhooks_add_nothing(fake: FakeGitLab, tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.db"
    assert collect(fake, ledger, "--group", "acme").code == 0
    before = stored_ids(ledger)
    process = serve_for(fake, tmp_path, ledger)
    try:
        assert deliver_all(process, fake.instance.projects[0]) == [0, 0, 0]
    finally:
        process.stop()
    assert stored_ids(ledger) == before
