"""Test payloads made from GitHub's API examples (tests/fixtures): the real shapes, new values."""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

from tests.paths import fixture


@cache
def example(relative: str) -> Any:
    return json.loads(fixture("github", relative).read_text(encoding="utf-8"))


def user(login: str, ident: int, kind: str = "User") -> dict[str, Any]:
    base = copy.deepcopy(example("rest/actions-run-get.workflow-run.json")["actor"])
    return base | {"login": login, "id": ident, "type": kind}


def run(
    run_id: int,
    created: str,
    *,
    repository: str = "acme/web",
    status: str = "completed",
    conclusion: str | None = "success",
    actor: str = "alice",
    triggering: str | None = None,
    attempt: int = 1,
    branch: str = "main",
    sha: str = "acb5820ced9479c074f688cc328bf03f341a511d",
    updated: str | None = None,
) -> dict[str, Any]:
    body = copy.deepcopy(example("rest/actions-run-get.workflow-run.json"))
    body.update(
        id=run_id,
        created_at=created,
        run_started_at=created,
        updated_at=updated or created,
        status=status,
        conclusion=conclusion,
        run_attempt=attempt,
        head_branch=branch,
        head_sha=sha,
        actor=user(actor, 100 + len(actor)),
        triggering_actor=user(triggering or actor, 100 + len(triggering or actor)),
        url=f"https://api.github.com/repos/{repository}/actions/runs/{run_id}",
        html_url=f"https://github.com/{repository}/actions/runs/{run_id}",
    )
    body["repository"] = body["repository"] | {"full_name": repository}
    return body


def deployment(
    ident: int,
    created: str,
    *,
    repository: str = "acme/web",
    environment: str = "production",
    sha: str = "acb5820ced9479c074f688cc328bf03f341a511d",
    ref: str = "main",
    creator: str = "alice",
) -> dict[str, Any]:
    body = copy.deepcopy(example("rest/deployments-list.deployment-items.json")[0])
    body.update(
        id=ident,
        created_at=created,
        updated_at=created,
        environment=environment,
        sha=sha,
        ref=ref,
        creator=user(creator, 100 + len(creator)),
        url=f"https://api.github.com/repos/{repository}/deployments/{ident}",
        repository_url=f"https://api.github.com/repos/{repository}",
        statuses_url=f"https://api.github.com/repos/{repository}/deployments/{ident}/statuses",
    )
    return body


def status(
    ident: int,
    created: str,
    *,
    state: str = "success",
    run_id: int | None = None,
    repository: str = "acme/web",
    environment: str = "production",
    creator: str = "alice",
) -> dict[str, Any]:
    body = copy.deepcopy(example("rest/deployments-statuses-list.deployment-status-items.json")[0])
    log = (
        f"https://github.com/{repository}/actions/runs/{run_id}/job/{ident + 1}"
        if run_id is not None
        else "https://example.com/deployment/42/output"
    )
    body.update(
        id=ident,
        created_at=created,
        updated_at=created,
        state=state,
        environment=environment,
        log_url=log,
        target_url=log,
        creator=user(creator, 100 + len(creator)),
    )
    return body


def approval(
    login: str, state: str = "approved", environment: str = "production", comment: str = "ok"
) -> dict[str, Any]:
    body = copy.deepcopy(example("rest/actions-run-approvals.environment-approvals-items.json")[0])
    body.update(state=state, comment=comment, user=user(login, 100 + len(login)))
    body["environments"][0]["name"] = environment
    return body


def pull(
    number: int, *, author: str = "alice", merged: bool = True, sha: str = ""
) -> dict[str, Any]:
    body = copy.deepcopy(example("rest/commits-pulls.pull-request-simple-items.json")[0])
    body.update(
        number=number,
        user=user(author, 100 + len(author)),
        merged_at="2026-05-01T09:00:00Z" if merged else None,
        merge_commit_sha=sha or body["merge_commit_sha"],
    )
    body["base"]["repo"] = body["base"]["repo"] | {"full_name": "acme/web"}
    return body


def review(ident: int, login: str, state: str = "APPROVED") -> dict[str, Any]:
    body = copy.deepcopy(example("rest/pulls-reviews-list.pull-request-review-items.json")[0])
    body.update(id=ident, state=state, user=user(login, 100 + len(login)))
    return body


def tag(name: str, sha: str, repository: str = "acme/web") -> dict[str, Any]:
    body = copy.deepcopy(example("rest/repos-list-tags.tag-items.json")[0])
    body.update(
        name=name,
        commit={"sha": sha, "url": f"https://api.github.com/repos/{repository}/commits/{sha}"},
        zipball_url=f"https://github.com/{repository}/zipball/{name}",
        tarball_url=f"https://github.com/{repository}/tarball/{name}",
    )
    return body
