"""Data model of the fake GitLab REST API: groups with subgroups, projects, users, pipelines,
deployments with approvals, merge requests with approvals, audit events, and what snapshots
read: members, protected environments and protected branches.

:mod:`tests.fakes.gitlab_render` turns these into GitLab's JSON shapes,
:mod:`tests.fakes.gitlab_generate` builds groups of them, :mod:`tests.fakes.gitlab_api` serves
them. Standard library only.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

JSON = dict[str, Any]
FINISHED = ("success", "failed", "canceled", "skipped")


def fake_sha(*parts: object) -> str:
    return hashlib.sha1("/".join(map(str, parts)).encode()).hexdigest()


@dataclass(frozen=True)
class FakeUser:
    id: int
    username: str
    name: str


@dataclass
class FakeGroup:
    id: int
    path: str
    full_path: str
    parent_id: int | None = None
    members: list[tuple[FakeUser, int]] = field(default_factory=list)
    audit_events: list[FakeAuditEvent] = field(default_factory=list)


@dataclass
class FakePipeline:
    id: int
    iid: int
    project_id: int
    ref: str
    sha: str
    status: str
    source: str
    user: FakeUser
    created_at: datetime
    updated_at: datetime
    tag: bool = False


@dataclass
class FakeApproval:
    user: FakeUser
    status: str
    created_at: datetime
    comment: str | None
    rule: str | None = None


@dataclass(frozen=True)
class FakeJob:
    """A CI job as GET /job shows it to the job's own token."""

    id: int
    name: str
    stage: str
    pipeline: FakePipeline
    user: FakeUser


@dataclass
class FakeDeployment:
    id: int
    iid: int
    environment: str
    environment_id: int
    status: str
    user: FakeUser
    job_id: int
    pipeline: FakePipeline
    created_at: datetime
    updated_at: datetime
    approvals: list[FakeApproval] = field(default_factory=list)
    # The protected environment's required approvals: a deployment that needs some is
    # ``blocked`` (its job held) until they are given and the job is run; see
    # FakeGitLab.approve_deployment and FakeGitLab.run_deploy_job.
    required_approvals: int = 0

    @property
    def sha(self) -> str:
        return self.pipeline.sha

    @property
    def approved_count(self) -> int:
        return sum(1 for a in self.approvals if a.status == "approved")

    @property
    def pending_approval_count(self) -> int:
        """GitLab counts pending approvals only for a blocked deployment."""
        if self.status != "blocked":
            return 0
        return max(0, self.required_approvals - self.approved_count)

    @property
    def job(self) -> FakeJob:
        return FakeJob(
            self.job_id, f"deploy:{self.environment}", "deploy", self.pipeline, self.user
        )

    @property
    def ref(self) -> str:
        return self.pipeline.ref


@dataclass
class FakeMergeRequest:
    id: int
    iid: int
    project_id: int
    author: FakeUser
    source_branch: str
    merge_commit_sha: str
    merged_at: datetime
    approvers: list[FakeUser] = field(default_factory=list)
    target_branch: str = "main"


@dataclass
class FakeAuditEvent:
    id: int
    author: FakeUser
    created_at: datetime
    details: JSON
    # (kind, action) a correct collector records, or None when it must not record it.
    expected: tuple[str, str] | None
    # Newer GitLab names each event (``member_updated``…); older answers have no such key.
    event_name: str | None = None


@dataclass
class FakeAccessRule:
    """One entry of a protected branch's or environment's access levels or approval rules:
    a role (``access_level``), a user or a group."""

    id: int
    access_level: int | None = None
    user: FakeUser | None = None
    group_id: int | None = None
    group_name: str | None = None
    group_inheritance_type: int = 0
    required_approvals: int | None = None


@dataclass
class FakeProtectedEnvironment:
    name: str
    deploy_access_levels: list[FakeAccessRule] = field(default_factory=list)
    approval_rules: list[FakeAccessRule] = field(default_factory=list)
    required_approval_count: int = 0


@dataclass
class FakeProtectedBranch:
    id: int
    name: str
    push_access_levels: list[FakeAccessRule] = field(default_factory=list)
    merge_access_levels: list[FakeAccessRule] = field(default_factory=list)
    allow_force_push: bool = False
    code_owner_approval_required: bool = False


@dataclass
class FakeProject:
    id: int
    path: str
    group: FakeGroup
    pipelines: list[FakePipeline] = field(default_factory=list)
    deployments: list[FakeDeployment] = field(default_factory=list)
    merge_requests: list[FakeMergeRequest] = field(default_factory=list)
    audit_events: list[FakeAuditEvent] = field(default_factory=list)
    members: list[tuple[FakeUser, int]] = field(default_factory=list)
    protected_environments: list[FakeProtectedEnvironment] = field(default_factory=list)
    protected_branches: list[FakeProtectedBranch] = field(default_factory=list)

    @property
    def full_path(self) -> str:
        return f"{self.group.full_path}/{self.path}"

    def known_shas(self) -> set[str]:
        return {p.sha for p in self.pipelines} | {m.merge_commit_sha for m in self.merge_requests}


@dataclass
class FakeInstance:
    root: FakeGroup
    groups: list[FakeGroup]
    projects: list[FakeProject]
    users: list[FakeUser]

    def group(self, key: str) -> FakeGroup | None:
        return next((g for g in self.groups if key in (str(g.id), g.full_path)), None)

    def project(self, key: str) -> FakeProject | None:
        return next((p for p in self.projects if key in (str(p.id), p.full_path)), None)

    def descendants(self, group: FakeGroup) -> list[FakeGroup]:
        found, frontier = [], [group.id]
        while frontier:
            children = [g for g in self.groups if g.parent_id in frontier]
            found.extend(children)
            frontier = [g.id for g in children]
        return found

    def ancestors(self, group: FakeGroup) -> list[FakeGroup]:
        chain, current = [], group
        while current.parent_id is not None:
            current = next(g for g in self.groups if g.id == current.parent_id)
            chain.append(current)
        return chain

    def user(self, ident: int) -> FakeUser | None:
        return next((u for u in self.users if u.id == ident), None)
