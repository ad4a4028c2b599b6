"""Builds ``plugins/pipeledger_gitlab/demo/responses.json``, the demo's recorded responses.

A small group told with the people of GitLab's documentation examples (root, janedoe,
security-user-1, the project_6_bot access-token bot) is served by the fake GitLab, whose
every payload is a documentation example with identity fields replaced; the real adapter
collects it and every answer is recorded under its replay key.

Regenerate with ``python -m tools.demo_gitlab`` (a test checks the file is current).
"""

from __future__ import annotations

import io
import json
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.fakes.gitlab_api import DEFAULT_TOKEN, FakeGitLab
from tests.fakes.gitlab_data import (
    FakeApproval,
    FakeAuditEvent,
    FakeDeployment,
    FakeGroup,
    FakeInstance,
    FakeMergeRequest,
    FakePipeline,
    FakeProject,
    FakeUser,
)

from pipeledger.cli.main import main as cli_main

DEMO_FILE = (
    Path(__file__).resolve().parents[1]
    / "plugins"
    / "pipeledger_gitlab"
    / "demo"
    / "responses.json"
)
GROUP = "diaspora"
SINCE = "2016-08-01T00:00:00Z"
UNTIL = "2016-09-01T00:00:00Z"
T0 = datetime(2016, 8, 11, 7, 30, tzinfo=UTC)

ROOT = FakeUser(1, "root", "Administrator")
JANE = FakeUser(28, "janedoe", "Jane Doe")
SECURITY = FakeUser(100, "security-user-1", "security user-1")
BOT = FakeUser(49, "project_6_bot", "****")


def _at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def demo_instance() -> FakeInstance:
    group = FakeGroup(3, GROUP, GROUP, members=[(ROOT, 50), (JANE, 30)])
    client = FakeProject(4, "diaspora-client", group)
    site = FakeProject(6, "diaspora-project-site", group)
    shas = ("99d03678b90d914dbb1b109132516d71a4a03ea8", "a91957a858320c0e17f3a0eca7cfacbff50ea29a")
    staged = FakePipeline(47, 12, 4, "main", shas[0], "success", "push", JANE, _at(0), _at(6))
    shipped = FakePipeline(48, 13, 4, "main", shas[1], "success", "web", ROOT, _at(240), _at(248))
    tagged = FakePipeline(
        49,
        14,
        4,
        "v1.0.0",
        "eb94b618fb5865b26e80fdd8ae531b7a63ad851a",
        "failed",
        "push",
        ROOT,
        _at(300),
        _at(304),
        tag=True,
    )
    nightly = FakePipeline(
        287,
        144,
        6,
        "main",
        "50f0acb76a40e34a4ff304f7347dcc6587da8a14",
        "success",
        "schedule",
        BOT,
        _at(600),
        _at(601),
    )
    client.pipelines = [staged, shipped, tagged]
    site.pipelines = [nightly]
    client.deployments = [
        FakeDeployment(41, 1, "staging", 8, "success", JANE, 657, staged, _at(4), _at(6)),
        FakeDeployment(
            42,
            2,
            "production",
            9,
            "success",
            ROOT,
            664,
            shipped,
            _at(244),
            _at(248),
            approvals=[
                FakeApproval(SECURITY, "approved", _at(245), None, rule="security-group"),
                FakeApproval(BOT, "approved", _at(245.5), "Looks good to me"),
            ],
        ),
    ]
    client.merge_requests = [
        FakeMergeRequest(44, 1, 4, ROOT, "new-title", shas[0], _at(-1), approvers=[ROOT]),
        FakeMergeRequest(45, 2, 4, JANE, "rename-readme", shas[1], _at(239), approvers=[ROOT]),
    ]
    client.audit_events = [
        FakeAuditEvent(
            4,
            ROOT,
            _at(30),
            {
                "change": "prevent merge request approval from authors",
                "from": "false",
                "to": "true",
            },
            ("protection.change", "changed"),
        ),
        FakeAuditEvent(
            5,
            ROOT,
            _at(31),
            {
                "change": "access_level",
                "from": "Developer",
                "to": "Maintainer",
                "target_type": "User",
                "target_id": 28,
                "target_details": "Jane Doe",
            },
            ("permission.change", "changed"),
        ),
    ]
    group.audit_events = [
        FakeAuditEvent(
            1,
            ROOT,
            _at(-60),
            {
                "add": "user_access",
                "as": "Owner",
                "target_type": "User",
                "target_id": 28,
                "target_details": "Jane Doe",
            },
            ("permission.change", "granted"),
        ),
        FakeAuditEvent(2, ROOT, _at(500), {"custom_message": "Group marked for deletion"}, None),
    ]
    users = [ROOT, JANE, SECURITY, BOT]
    return FakeInstance(root=group, groups=[group], projects=[client, site], users=users)


def record() -> dict[str, Any]:
    # Only GETs can be replayed: the demo reads pipelines over REST, as on an instance
    # without GraphQL (the replay server answers GraphQL's POST with 404).
    fake = FakeGitLab(demo_instance(), recorded={}, graphql=False)
    with fake, tempfile.TemporaryDirectory() as scratch:
        argv = [
            "collect",
            "--platform",
            "gitlab",
            "--api-url",
            fake.api_url,
            "--group",
            GROUP,
            "--since",
            SINCE,
            "--until",
            UNTIL,
            "--sink",
            f"sqlite:///{scratch}/demo.db",
        ]
        err = io.StringIO()
        code = cli_main(argv, {"GITLAB_TOKEN": DEFAULT_TOKEN}, io.StringIO(), err)
        if code != 0:
            raise RuntimeError(f"recording the demo failed: {err.getvalue()}")
    assert fake.recorded is not None
    responses = dict(sorted(fake.recorded.items()))
    return {"group": GROUP, "since": SINCE, "until": UNTIL, "responses": responses}


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    DEMO_FILE.parent.mkdir(parents=True, exist_ok=True)
    DEMO_FILE.write_text(render(record()), encoding="utf-8")
    print(f"wrote {DEMO_FILE}")
