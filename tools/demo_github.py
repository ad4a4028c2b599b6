"""Builds the GitHub demo's recorded responses (plugins/pipeledger_github/demo/*.json) from
the shapes of GitHub's own API examples. Run ``python -m tools.demo_github`` to
regenerate them; a test checks the bundled files are exactly what this produces."""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from tests.paths import fixture


def load(rel):
    return json.loads(fixture("github", rel).read_text())


RUN = load("rest/actions-run-get.workflow-run.json")
DEPLOYMENT = load("rest/deployments-list.deployment-items.json")[0]
STATUS = load("rest/deployments-statuses-list.deployment-status-items.json")[0]
APPROVAL = load("rest/actions-run-approvals.environment-approvals-items.json")[0]
PULL = load("rest/commits-pulls.pull-request-simple-items.json")[0]
REVIEW = load("rest/pulls-reviews-list.pull-request-review-items.json")[0]
REPO = load("openapi-extra/orgs-list-repos.minimal-repository-items.json")[0]
TAG = load("rest/repos-list-tags.tag-items.json")[0]
USER = RUN["actor"]

USERS = {
    "alice": 5101,
    "bob": 5102,
    "carol": 5103,
    "dave": 5104,
    "erin": 5105,
    "dependabot[bot]": 49699333,
    "github-actions[bot]": 41898282,
}


def replace_strings(value, pairs):
    if isinstance(value, dict):
        return {k: replace_strings(v, pairs) for k, v in value.items()}
    if isinstance(value, list):
        return [replace_strings(v, pairs) for v in value]
    if isinstance(value, str):
        for old, new in pairs:
            value = value.replace(old, new)
    return value


def user(login):
    u = replace_strings(copy.deepcopy(USER), [("octocat", login)])
    u["id"] = USERS[login]
    u["node_id"] = f"U_demo{USERS[login]}"
    if login.endswith("[bot]"):
        u["type"] = "Bot"
    return u


def repo_pairs(repo):
    return [
        ("octo-org/octo-repo", repo),
        ("octocat/Hello-World", repo),
        ("octocat/example", repo),
        ("github/hello-world", repo),
        ("Hello-World", repo.split("/")[1]),
        ("octo-repo", repo.split("/")[1]),
    ]


def repository(repo, rid):
    r = replace_strings(copy.deepcopy(RUN["repository"]), repo_pairs(repo))
    r["id"] = rid
    r["owner"] = user("alice") | {"login": "acme", "type": "Organization", "id": 7000}
    r["owner"] = replace_strings(r["owner"], [("alice", "acme")])
    return r


def run(
    repo,
    rid,
    run_id,
    *,
    name,
    path,
    event,
    branch,
    sha,
    status,
    conclusion,
    actor,
    triggering,
    attempt,
    number,
    created,
    started,
    updated,
    title,
):
    r = replace_strings(copy.deepcopy(RUN), [*repo_pairs(repo), ("30433642", str(run_id))])
    r.update(
        id=run_id,
        name=name,
        path=f"{path}@{branch}",
        event=event,
        head_branch=branch,
        head_sha=sha,
        status=status,
        conclusion=conclusion,
        run_attempt=attempt,
        run_number=number,
        created_at=created,
        run_started_at=started,
        updated_at=updated,
        display_title=title,
        actor=user(actor),
        triggering_actor=user(triggering),
        node_id=f"WFR_demo{run_id}",
        workflow_id=1000 + number % 7,
        check_suite_id=run_id * 3,
    )
    r["referenced_workflows"] = []
    if attempt == 1:
        r.pop("previous_attempt_url", None)
    else:
        r["previous_attempt_url"] = r["previous_attempt_url"].replace(
            "attempts/1", f"attempts/{attempt - 1}"
        )
    r["head_commit"] = dict(r["head_commit"], id=sha, message=title, timestamp=created)
    r["repository"] = repository(repo, rid)
    r["head_repository"] = repository(repo, rid)
    return r


def deployment(repo, dep_id, *, sha, ref, environment, creator, created, production):
    d = replace_strings(
        copy.deepcopy(DEPLOYMENT), [*repo_pairs(repo), ("deployments/1", f"deployments/{dep_id}")]
    )
    d.update(
        id=dep_id,
        node_id=f"DE_demo{dep_id}",
        sha=sha,
        ref=ref,
        environment=environment,
        original_environment=environment,
        description=None,
        creator=user(creator),
        created_at=created,
        updated_at=created,
        production_environment=production,
        task="deploy",
        payload={},
    )
    d["performed_via_github_app"] = None
    return d


def status(repo, dep_id, status_id, *, state, creator, created, environment, run_id, job_id):
    s = replace_strings(
        copy.deepcopy(STATUS), [*repo_pairs(repo), ("deployments/42", f"deployments/{dep_id}")]
    )
    log = f"https://github.com/{repo}/actions/runs/{run_id}/job/{job_id}"
    s.update(
        id=status_id,
        node_id=f"DES_demo{status_id}",
        state=state,
        creator=user(creator),
        description="",
        environment=environment,
        target_url=log,
        log_url=log,
        created_at=created,
        updated_at=created,
        url=f"https://api.github.com/repos/{repo}/deployments/{dep_id}/statuses/{status_id}",
        environment_url=f"https://{environment}.{repo.split('/')[1]}.acme.example",
    )
    return s


def approval(repo, who, state, comment, environment, env_id):
    a = replace_strings(copy.deepcopy(APPROVAL), [*repo_pairs(repo), ("staging", environment)])
    a.update(state=state, comment=comment, user=user(who))
    a["environments"][0].update(id=env_id, name=environment, node_id=f"EN_demo{env_id}")
    return a


def pull(repo, number, *, author, merged_at, merge_sha, head_ref, title, pid):
    p = replace_strings(copy.deepcopy(PULL), [*repo_pairs(repo), ("/1347", f"/{number}")])
    p.update(
        number=number,
        id=pid,
        node_id=f"PR_demo{pid}",
        user=user(author),
        state="closed",
        merged_at=merged_at,
        closed_at=merged_at,
        merge_commit_sha=merge_sha,
        title=title,
        body="",
        requested_reviewers=[],
        requested_teams=[],
        labels=[],
        assignee=None,
        assignees=[],
        milestone=None,
        created_at="2026-05-04T09:00:00Z",
        updated_at=merged_at,
    )
    p["head"] = dict(p["head"], ref=head_ref, label=f"acme:{head_ref}", user=user(author))
    p["base"] = dict(p["base"], ref="main", label="acme:main")
    p["head"]["repo"] = repository(repo, p["head"]["repo"]["id"])
    p["base"]["repo"] = repository(repo, p["base"]["repo"]["id"])
    return p


def review(repo, number, rid, *, who, state, submitted, commit, body):
    r = replace_strings(
        copy.deepcopy(REVIEW),
        [
            *repo_pairs(repo),
            ("/pull/12", f"/pull/{number}"),
            ("/pulls/12", f"/pulls/{number}"),
            ("review-80", f"review-{rid}"),
        ],
    )
    r.update(
        id=rid,
        node_id=f"PRR_demo{rid}",
        user=user(who),
        state=state,
        submitted_at=submitted,
        commit_id=commit,
        body=body,
    )
    return r


def tag(repo, name, sha):
    t = replace_strings(copy.deepcopy(TAG), [*repo_pairs(repo), ("v0.1", name)])
    t["commit"] = {"sha": sha, "url": f"https://api.github.com/repos/{repo}/commits/{sha}"}
    t["node_id"] = f"REF_demo_{repo.split('/')[1]}_{name}"
    return t


def org_repo(repo, rid):
    r = replace_strings(copy.deepcopy(REPO), repo_pairs(repo))
    r.update(id=rid, name=repo.split("/")[1], full_name=repo, archived=False, private=True)
    r["owner"] = repository(repo, rid)["owner"]
    return r


def key(path, **query):
    query.setdefault("per_page", "100")
    return path + "?" + urlencode(sorted(query.items()))


SHA = {
    "w1": "3f786850e387550fdab836ed7e6dc881de23001b",
    "w2": "89e6c98d92887913cadf06b2adb97f26cde4849b",
    "w3": "2b66fd261ee5c6cfc8de7fa466bab600bcfe4f69",
    "a1": "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391",
    "a2": "7c211433f02071597741e6ff5a8ea34789abbf43",
    "w1h": "0a4d55a8d778e5022fab701977c5d840bbc486d0",
    "w2h": "b6fc4c620b67d95f953a5c1c1230aaab5db5a1b0",
}

DEMO_DIR = Path(__file__).resolve().parents[1] / "plugins" / "pipeledger_github" / "demo"


def build() -> dict[str, str]:
    """File name → content of each bundled demo file."""
    responses: dict[str, Any] = {}
    web, api = "acme/web", "acme/api"
    responses[key("/orgs/acme/repos", type="all")] = [org_repo(api, 801), org_repo(web, 802)]

    web_runs = [
        run(
            web,
            802,
            9003,
            name="CI",
            path=".github/workflows/ci.yml",
            event="pull_request",
            branch="dependabot/npm/lodash-4.17.21",
            sha=SHA["w3"],
            status="completed",
            conclusion="failure",
            actor="dependabot[bot]",
            triggering="dependabot[bot]",
            attempt=1,
            number=311,
            created="2026-05-06T08:10:00Z",
            started="2026-05-06T08:10:00Z",
            updated="2026-05-06T08:14:12Z",
            title="Bump lodash from 4.17.20 to 4.17.21",
        ),
        run(
            web,
            802,
            9002,
            name="Deploy",
            path=".github/workflows/deploy.yml",
            event="push",
            branch="main",
            sha=SHA["w2"],
            status="completed",
            conclusion="success",
            actor="dave",
            triggering="erin",
            attempt=2,
            number=310,
            created="2026-05-05T14:00:00Z",
            started="2026-05-05T16:30:00Z",
            updated="2026-05-05T16:52:40Z",
            title="Add rate limiting to the login form (#42)",
        ),
        run(
            web,
            802,
            9001,
            name="Deploy",
            path=".github/workflows/deploy.yml",
            event="push",
            branch="main",
            sha=SHA["w1"],
            status="completed",
            conclusion="success",
            actor="alice",
            triggering="alice",
            attempt=1,
            number=309,
            created="2026-05-04T10:00:00Z",
            started="2026-05-04T10:00:00Z",
            updated="2026-05-04T10:41:05Z",
            title="Checkout: show delivery date (#41)",
        ),
    ]
    responses[key(f"/repos/{web}/actions/runs")] = {
        "total_count": len(web_runs),
        "workflow_runs": web_runs,
    }

    web_deployments = [
        deployment(
            web,
            503,
            sha=SHA["w2"],
            ref="main",
            environment="production",
            creator="erin",
            created="2026-05-05T16:40:00Z",
            production=True,
        ),
        deployment(
            web,
            502,
            sha=SHA["w1"],
            ref="main",
            environment="production",
            creator="alice",
            created="2026-05-04T10:20:00Z",
            production=True,
        ),
        deployment(
            web,
            501,
            sha=SHA["w1"],
            ref="main",
            environment="staging",
            creator="alice",
            created="2026-05-04T10:05:00Z",
            production=False,
        ),
    ]
    responses[key(f"/repos/{web}/deployments")] = web_deployments
    responses[key(f"/repos/{web}/tags")] = [tag(web, "v1.8.0", SHA["w1"])]
    responses[key(f"/repos/{web}/deployments/503/statuses")] = [
        status(
            web,
            503,
            7506,
            state="success",
            creator="erin",
            created="2026-05-05T16:52:00Z",
            environment="production",
            run_id=9002,
            job_id=66003,
        ),
        status(
            web,
            503,
            7505,
            state="in_progress",
            creator="erin",
            created="2026-05-05T16:44:00Z",
            environment="production",
            run_id=9002,
            job_id=66003,
        ),
        status(
            web,
            503,
            7504,
            state="waiting",
            creator="erin",
            created="2026-05-05T16:40:01Z",
            environment="production",
            run_id=9002,
            job_id=66003,
        ),
    ]
    responses[key(f"/repos/{web}/deployments/502/statuses")] = [
        status(
            web,
            502,
            7503,
            state="success",
            creator="alice",
            created="2026-05-04T10:40:00Z",
            environment="production",
            run_id=9001,
            job_id=66002,
        ),
        status(
            web,
            502,
            7502,
            state="waiting",
            creator="alice",
            created="2026-05-04T10:20:01Z",
            environment="production",
            run_id=9001,
            job_id=66002,
        ),
    ]
    responses[key(f"/repos/{web}/deployments/501/statuses")] = [
        status(
            web,
            501,
            7501,
            state="success",
            creator="alice",
            created="2026-05-04T10:09:00Z",
            environment="staging",
            run_id=9001,
            job_id=66001,
        ),
    ]
    responses[f"/repos/{web}/actions/runs/9001/approvals"] = [
        approval(
            web, "bob", "approved", "Checked the release notes. Ship it!", "production", 161088100
        )
    ]
    responses[f"/repos/{web}/actions/runs/9002/approvals"] = [
        approval(web, "erin", "approved", "", "production", 161088100)
    ]
    responses[key(f"/repos/{web}/commits/{SHA['w1']}/pulls")] = [
        pull(
            web,
            41,
            author="alice",
            merged_at="2026-05-04T09:58:00Z",
            merge_sha=SHA["w1"],
            head_ref="feature/delivery-date",
            title="Checkout: show delivery date",
            pid=30041,
        )
    ]
    responses[key(f"/repos/{web}/commits/{SHA['w2']}/pulls")] = [
        pull(
            web,
            42,
            author="dave",
            merged_at="2026-05-05T13:58:00Z",
            merge_sha=SHA["w2"],
            head_ref="feature/login-rate-limit",
            title="Add rate limiting to the login form",
            pid=30042,
        )
    ]
    responses[key(f"/repos/{web}/pulls/41/reviews")] = [
        review(
            web,
            41,
            88001,
            who="carol",
            state="CHANGES_REQUESTED",
            submitted="2026-05-04T09:20:00Z",
            commit=SHA["w1h"],
            body="Please handle the missing date.",
        ),
        review(
            web,
            41,
            88002,
            who="carol",
            state="APPROVED",
            submitted="2026-05-04T09:50:00Z",
            commit=SHA["w1h"],
            body="Looks good now.",
        ),
    ]
    responses[key(f"/repos/{web}/pulls/42/reviews")] = [
        review(
            web,
            42,
            88003,
            who="bob",
            state="COMMENTED",
            submitted="2026-05-05T13:30:00Z",
            commit=SHA["w2h"],
            body="Is 5 per minute enough?",
        ),
    ]

    api_runs = [
        run(
            api,
            801,
            7003,
            name="CI",
            path=".github/workflows/ci.yml",
            event="push",
            branch="main",
            sha=SHA["a2"],
            status="in_progress",
            conclusion=None,
            actor="github-actions[bot]",
            triggering="github-actions[bot]",
            attempt=1,
            number=88,
            created="2026-05-07T07:00:00Z",
            started="2026-05-07T07:00:00Z",
            updated="2026-05-07T07:01:00Z",
            title="Nightly dependency check",
        ),
        run(
            api,
            801,
            7002,
            name="Deploy",
            path=".github/workflows/deploy.yml",
            event="workflow_dispatch",
            branch="feature/payments-v2",
            sha=SHA["a2"],
            status="completed",
            conclusion="success",
            actor="dave",
            triggering="dave",
            attempt=1,
            number=87,
            created="2026-05-06T18:00:00Z",
            started="2026-05-06T18:00:00Z",
            updated="2026-05-06T18:09:00Z",
            title="Deploy",
        ),
        run(
            api,
            801,
            7001,
            name="Release",
            path=".github/workflows/release.yml",
            event="push",
            branch="v2.3.0",
            sha=SHA["a1"],
            status="completed",
            conclusion="failure",
            actor="alice",
            triggering="alice",
            attempt=1,
            number=86,
            created="2026-05-06T11:00:00Z",
            started="2026-05-06T11:00:00Z",
            updated="2026-05-06T11:30:00Z",
            title="v2.3.0",
        ),
    ]
    responses[key(f"/repos/{api}/actions/runs")] = {
        "total_count": len(api_runs),
        "workflow_runs": api_runs,
    }
    api_deployments = [
        deployment(
            api,
            602,
            sha=SHA["a2"],
            ref="feature/payments-v2",
            environment="staging",
            creator="dave",
            created="2026-05-06T18:02:00Z",
            production=False,
        ),
        deployment(
            api,
            601,
            sha=SHA["a1"],
            ref="v2.3.0",
            environment="production",
            creator="alice",
            created="2026-05-06T11:05:00Z",
            production=True,
        ),
    ]
    responses[key(f"/repos/{api}/deployments")] = api_deployments
    # Run 7001 was started by pushing this tag; GitHub reports it as head_branch "v2.3.0".
    responses[key(f"/repos/{api}/tags")] = [tag(api, "v2.3.0", SHA["a1"])]
    responses[key(f"/repos/{api}/deployments/602/statuses")] = [
        status(
            api,
            602,
            7602,
            state="success",
            creator="dave",
            created="2026-05-06T18:08:00Z",
            environment="staging",
            run_id=7002,
            job_id=67002,
        ),
    ]
    responses[key(f"/repos/{api}/deployments/601/statuses")] = [
        status(
            api,
            601,
            7601,
            state="failure",
            creator="alice",
            created="2026-05-06T11:29:00Z",
            environment="production",
            run_id=7001,
            job_id=67001,
        ),
        status(
            api,
            601,
            7600,
            state="waiting",
            creator="alice",
            created="2026-05-06T11:05:01Z",
            environment="production",
            run_id=7001,
            job_id=67001,
        ),
    ]
    responses[f"/repos/{api}/actions/runs/7001/approvals"] = [
        approval(api, "carol", "approved", "Release window confirmed.", "production", 161088200)
    ]
    responses[f"/repos/{api}/actions/runs/7002/approvals"] = []
    responses[key(f"/repos/{api}/commits/{SHA['a1']}/pulls")] = []
    responses[key(f"/repos/{api}/commits/{SHA['a2']}/pulls")] = []

    by_file: dict[str, dict[str, Any]] = {
        "acme-org.json": {},
        "acme-web.json": {},
        "acme-api.json": {},
    }
    for k, v in responses.items():
        if "/acme/web/" in k:
            by_file["acme-web.json"][k] = v
        elif "/acme/api/" in k:
            by_file["acme-api.json"][k] = v
        else:
            by_file["acme-org.json"][k] = v
    return {
        name: json.dumps(content, indent=1, sort_keys=True) + "\n"
        for name, content in by_file.items()
    }


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else DEMO_DIR
    for name, text in build().items():
        (out / name).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
