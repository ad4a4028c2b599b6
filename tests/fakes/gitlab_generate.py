"""Deterministic GitLab groups for the fake API, and what a correct collector records of them.

:func:`generate_group` builds a group with nested subgroups, projects, pipelines (some with
identical ``updated_at``, as GitLab produces), deployments with approvals (some by the
deployer), merged merge requests with approvals (some self-approved), bots and audit events.
:func:`expected_records` derives the expected events from the model alone.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tests.fakes.gitlab_access import add_access
from tests.fakes.gitlab_data import (
    FINISHED,
    FakeApproval,
    FakeAuditEvent,
    FakeDeployment,
    FakeGroup,
    FakeInstance,
    FakeMergeRequest,
    FakePipeline,
    FakeProject,
    FakeUser,
    fake_sha,
)

BASE_TIME = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
HUMANS = ("alice", "bob", "carol", "dave", "erin", "frank")

# (details, expected kind, expected action): audit detail shapes from GitLab's examples.
PROJECT_AUDITS = (
    (
        {"change": "prevent merge request approval from authors", "from": "false", "to": "true"},
        ("protection.change", "changed"),
    ),
    (
        {"change": "access_level", "from": "Developer", "to": "Maintainer", "target_type": "User"},
        ("permission.change", "changed"),
    ),
    ({"custom_message": "Project archived"}, None),
    (
        {"add": "user_access", "as": "Developer", "target_type": "User"},
        ("permission.change", "granted"),
    ),
    (
        {"change": "prevent merge request approval from reviewers", "from": "", "to": "false"},
        ("protection.change", "changed"),
    ),
    ({"remove": "user_access", "target_type": "User"}, ("permission.change", "revoked")),
)
GROUP_AUDITS = (
    (
        {"add": "user_access", "as": "Owner", "target_type": "User"},
        ("permission.change", "granted"),
    ),
    ({"custom_message": "Group marked for deletion"}, None),
    ({"add": "group"}, None),
)


@dataclass(frozen=True)
class Size:
    subgroups: int = 2
    projects_per_group: int = 2
    pipelines: int = 12
    deployments: int = 6
    audit_events: int = 4


class _Ids:
    def __init__(self) -> None:
        self._next = {
            "pipeline": 5000,
            "deployment": 7000,
            "job": 8000,
            "mr": 300,
            "audit": 1,
            "project": 40,
            "group": 100,
            "rule": 1000,
            "branch": 100,
        }

    def take(self, kind: str) -> int:
        self._next[kind] += 1
        return self._next[kind]


def generate_group(seed: int = 7, size: Size | None = None, root: str = "acme") -> FakeInstance:
    size = size or Size()
    rng, ids = random.Random(seed), _Ids()
    humans = [FakeUser(i + 1, name, name.capitalize()) for i, name in enumerate(HUMANS)]
    groups = _groups(root, size.subgroups, ids, humans)
    instance = FakeInstance(root=groups[0], groups=groups, projects=[], users=list(humans))
    for index, group in enumerate(groups):
        for number in range(size.projects_per_group):
            project = FakeProject(ids.take("project"), f"service-{index}-{number}", group)
            bot = FakeUser(
                900 + project.id,
                f"project_{project.id}_bot_{fake_sha(project.id)[:8]}",
                "Deploy bot",
            )
            instance.users.append(bot)
            _fill(project, rng, ids, humans, bot, size)
            instance.projects.append(project)
        _group_audits(group, rng, ids, humans, len(instance.projects))
    return instance


def _groups(root: str, subgroups: int, ids: _Ids, humans: list[FakeUser]) -> list[FakeGroup]:
    top = FakeGroup(
        ids.take("group"), root, root, members=[(humans[0], 50), (humans[1], 40), (humans[2], 30)]
    )
    groups, parent = [top], top
    for index in range(subgroups):
        # Every other subgroup nests one level deeper, so "with subgroups" must recurse.
        base = parent if index % 2 else top
        path = f"team-{index}"
        group = FakeGroup(
            ids.take("group"),
            path,
            f"{base.full_path}/{path}",
            base.id,
            members=[(humans[3 + index % 3], 40)],
        )
        groups.append(group)
        parent = group
    return groups


def _fill(
    project: FakeProject,
    rng: random.Random,
    ids: _Ids,
    humans: list[FakeUser],
    bot: FakeUser,
    size: Size,
) -> None:
    start = BASE_TIME + timedelta(minutes=project.id * 3)
    for number in range(size.pipelines):
        project.pipelines.append(_pipeline(project, number, start, rng, ids, humans, bot))
    candidates = [p for p in project.pipelines if p.ref == "main" or p.tag]
    for number in range(min(size.deployments, len(candidates))):
        pipeline = candidates[number]
        project.deployments.append(_deployment(number, pipeline, rng, ids, humans, bot))
    _merge_requests(project, rng, ids, humans)
    add_access(project, humans[project.id % len(humans)], bot, ids.take)
    for number in range(size.audit_events):
        details, expected = PROJECT_AUDITS[(project.id + number) % len(PROJECT_AUDITS)]
        project.audit_events.append(
            FakeAuditEvent(
                ids.take("audit"),
                rng.choice(humans),
                start + timedelta(hours=number, seconds=7),
                _about_user(details, humans[(project.id + number) % len(humans)]),
                expected,
            )
        )


def _about_user(details: dict[str, str], user: FakeUser) -> dict[str, object]:
    """A membership event names its user by id and display name, as GitLab writes it."""
    if details.get("target_type") != "User":
        return dict(details)
    return {**details, "target_id": user.id, "target_details": user.name}


def _pipeline(
    project: FakeProject,
    number: int,
    start: datetime,
    rng: random.Random,
    ids: _Ids,
    humans: list[FakeUser],
    bot: FakeUser,
) -> FakePipeline:
    created = start + timedelta(minutes=number * 11, milliseconds=rng.randrange(1000))
    updated = created + timedelta(minutes=rng.randrange(2, 9), milliseconds=rng.randrange(1000))
    previous = project.pipelines[-1] if project.pipelines else None
    if previous is not None and number % 5 == 4:
        previous.updated_at = updated  # several pipelines stamped at once, as GitLab does
    kind = number % 6
    ref, tag = (
        ("main", False)
        if kind < 3
        else ((f"v1.{number}", True) if kind == 3 else (f"feature/f{number}", False))
    )
    status = "running" if number == 0 else rng.choice((*FINISHED[:3], "success", "success"))
    return FakePipeline(
        id=ids.take("pipeline"),
        iid=number + 1,
        project_id=project.id,
        ref=ref,
        sha=fake_sha(project.id, number),
        status=status,
        source=rng.choice(("push", "push", "web", "schedule")),
        user=bot if number % 7 == 6 else rng.choice(humans),
        created_at=created,
        updated_at=updated,
        tag=tag,
    )


def _deployment(
    number: int,
    pipeline: FakePipeline,
    rng: random.Random,
    ids: _Ids,
    humans: list[FakeUser],
    bot: FakeUser,
) -> FakeDeployment:
    environment = "production" if number % 2 else "staging"
    status = {"success": "success", "failed": "failed", "running": "running"}.get(
        pipeline.status, "canceled"
    )
    if environment == "production" and number % 4 == 1 and status == "running":
        status = "blocked"
    user = bot if number % 5 == 4 else rng.choice(humans)
    created = pipeline.created_at + timedelta(minutes=1)
    deployment = FakeDeployment(
        id=ids.take("deployment"),
        iid=number + 1,
        environment=environment,
        environment_id=10 + (environment == "production"),
        status=status,
        user=user,
        job_id=ids.take("job"),
        pipeline=pipeline,
        created_at=created,
        updated_at=max(pipeline.updated_at, created + timedelta(seconds=30)),
    )
    if environment == "production":
        deployment.approvals = _approvals(deployment, rng, humans)
    return deployment


def _approvals(
    deployment: FakeDeployment, rng: random.Random, humans: list[FakeUser]
) -> list[FakeApproval]:
    approvers = rng.sample(humans, 2)
    if deployment.iid % 3 == 0:
        approvers[0] = deployment.user  # the deployer approving their own deployment
    return [
        FakeApproval(
            user,
            "rejected" if index and deployment.iid % 4 == 3 else "approved",
            deployment.created_at + timedelta(seconds=20 + index),
            None if index else "Looks good to me",
            rule="security-group" if index else None,
        )
        for index, user in enumerate(dict.fromkeys(approvers))
    ]


def _merge_requests(
    project: FakeProject, rng: random.Random, ids: _Ids, humans: list[FakeUser]
) -> None:
    shas = list(dict.fromkeys(d.sha for d in project.deployments if d.ref == "main"))
    for number, sha in enumerate(shas):
        if number % 4 == 3:
            continue  # a direct push: the deployed commit came through no merge request
        author = rng.choice(humans)
        approvers = rng.sample([h for h in humans if h is not author], number % 3)
        if number % 5 == 2:
            approvers = [author]  # self-approved
        pipeline = next(p for p in project.pipelines if p.sha == sha)
        project.merge_requests.append(
            FakeMergeRequest(
                id=ids.take("mr"),
                iid=number + 1,
                project_id=project.id,
                author=author,
                source_branch=f"topic/{number}",
                merge_commit_sha=sha,
                merged_at=pipeline.created_at - timedelta(seconds=30),
                approvers=approvers,
            )
        )


def _group_audits(
    group: FakeGroup, rng: random.Random, ids: _Ids, humans: list[FakeUser], offset: int
) -> None:
    for number, (details, expected) in enumerate(GROUP_AUDITS):
        group.audit_events.append(
            FakeAuditEvent(
                ids.take("audit"),
                rng.choice(humans),
                BASE_TIME + timedelta(hours=offset + number, seconds=3),
                _about_user(details, humans[(group.id + number) % len(humans)]),
                expected,
            )
        )


Record = tuple[str, str, str, str]


def expected_records(instance: FakeInstance, free_tier: bool = False) -> set[Record]:
    """(kind, native id, actor login, action) of every event a correct collect stores."""
    records: set[Record] = set()
    for project in instance.projects:
        for pipeline in project.pipelines:
            records.add(
                (
                    "pipeline.run",
                    f"{pipeline.id}/{pipeline.status}",
                    pipeline.user.username,
                    pipeline.status,
                )
            )
        for deployment in project.deployments:
            records |= _deployment_records(project, deployment, free_tier)
        if not free_tier:
            records |= _audit_records(project.audit_events)
    if not free_tier:
        for group in instance.groups:
            records |= _audit_records(group.audit_events)
    return records


def _deployment_records(
    project: FakeProject, deployment: FakeDeployment, free_tier: bool
) -> set[Record]:
    login = deployment.user.username
    records = {("deployment", f"{deployment.id}/created", login, "created")}
    if deployment.status != "created":
        records.add(
            ("deployment", f"{deployment.id}/{deployment.status}", login, deployment.status)
        )
    if not free_tier:
        for approval in deployment.approvals:
            native = f"{deployment.id}/approval/{approval.user.id}/{approval.status}"
            records.add(("deployment.approval", native, approval.user.username, approval.status))
    for mr in project.merge_requests:
        if mr.merge_commit_sha != deployment.sha:
            continue
        for user in mr.approvers:
            native = f"{project.id}!{mr.iid}/{user.id}/deployment/{deployment.id}"
            records.add(("change.review", native, user.username, "approved"))
    return records


def _audit_records(events: list[FakeAuditEvent]) -> set[Record]:
    return {
        (event.expected[0], str(event.id), event.author.username, event.expected[1])
        for event in events
        if event.expected is not None
    }
