"""GitLab's JSON shapes for the fake API's model: every payload is a GitLab documentation
example from ``tests/fixtures/gitlab`` (loaded at import time) with only identity fields
(ids, names, times, refs, shas, URLs, statuses) replaced. Standard library only.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.fakes.gitlab_data import (
    FINISHED,
    FakeApproval,
    FakeAuditEvent,
    FakeDeployment,
    FakeGroup,
    FakeJob,
    FakeMergeRequest,
    FakePipeline,
    FakeProject,
    FakeUser,
    fake_sha,
)
from tests.paths import fixture

JSON = dict[str, Any]
WEB = "https://gitlab.example.com"


def examples_dir() -> Path:
    return fixture("gitlab")


_FILES = {
    "group": "docs-extra/groups-subgroups-list.json",
    "project": "docs-extra/groups-projects-list.json",
    "project_full": "docs-extra/projects-list-authenticated.json",
    "pipeline_item": "docs/pipelines-list.json",
    "pipeline": "docs/pipelines-get.json",
    "deployment_item": "docs/deployments-list.json",
    "deployment": "docs/deployments-get.json",
    "approval": "docs/deployments-approval-post.json",
    "approvals_unified": "docs/deployments-get.approvals-fragment.unified-approval-setting.json",
    "approvals_rules": (
        "docs/deployments-get.approval_summary-fragment.multiple-approval-rules.json"
    ),
    "merge_request": "docs-extra/merge-requests-list-project.json",
    "mr_approvals": "docs/mr-approvals-get-configuration.json",
    "audit_project": "docs/audit-events-project-list.json",
    "audit_group": "docs/audit-events-group-list.json",
    "member": "docs/members-list-all.group-or-project.json",
    "user": "docs-extra/user-public.json",
    "job": "docs/jobs-job-token-job.json",
    "protected_environment": "docs/protected-environments-list.json",
    "environment_rules": "docs/protected-environments-create.with-approval_rules.json",
}
# Examples tests/fixtures/gitlab/docs lacks (see tests/fixtures/gitlab/fake-extra/SOURCE.md).
LOCAL_EXAMPLES = fixture("gitlab", "fake-extra")
_LOCAL_FILES = {"protected_branch": "protected-branches-list.premium.json"}


def load_templates() -> dict[str, JSON]:
    templates = {}
    for key, name in _FILES.items():
        value = json.loads((examples_dir() / name).read_text(encoding="utf-8"))
        templates[key] = value[0] if isinstance(value, list) else value
    for key, name in _LOCAL_FILES.items():
        templates[key] = json.loads((LOCAL_EXAMPLES / name).read_text(encoding="utf-8"))[0]
    return templates


TEMPLATES = load_templates()


def iso(moment: datetime) -> str:
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


def overlay(template_key: str, values: JSON) -> JSON:
    """A deep copy of a documentation example with some fields replaced."""
    rendered = copy.deepcopy(TEMPLATES[template_key])
    rendered.update(values)
    return rendered


def render_user_basic(user: FakeUser) -> JSON:
    basic = TEMPLATES["pipeline"]["user"]
    return {
        **basic,
        "id": user.id,
        "username": user.username,
        "name": user.name,
        "web_url": f"{WEB}/{user.username}",
    }


def render_user_full(user: FakeUser) -> JSON:
    return overlay(
        "user",
        {
            "id": user.id,
            "username": user.username,
            "name": user.name,
            "web_url": f"{WEB}/{user.username}",
            "email": f"{user.username}@example.com",
            "public_email": f"{user.username}@example.com",
        },
    )


def render_group(group: FakeGroup) -> JSON:
    return overlay(
        "group",
        {
            "id": group.id,
            "name": group.path,
            "path": group.path,
            "full_name": group.full_path.replace("/", " / "),
            "full_path": group.full_path,
            "parent_id": group.parent_id,
            "web_url": f"{WEB}/groups/{group.full_path}",
        },
    )


def _project_values(project: FakeProject) -> JSON:
    return {
        "id": project.id,
        "name": project.path,
        "path": project.path,
        "path_with_namespace": project.full_path,
        "name_with_namespace": f"{project.group.full_path} / {project.path}",
        "web_url": f"{WEB}/{project.full_path}",
        "http_url_to_repo": f"{WEB}/{project.full_path}.git",
        "ssh_url_to_repo": f"git@gitlab.example.com:{project.full_path}.git",
    }


def render_project(project: FakeProject, full: bool = False) -> JSON:
    rendered = overlay("project_full" if full else "project", _project_values(project))
    namespace = rendered["namespace"]
    namespace.update(
        {"id": project.group.id, "name": project.group.path, "path": project.group.path}
    )
    if "full_path" in namespace:
        namespace["full_path"] = project.group.full_path
    return rendered


def render_pipeline(pipeline: FakePipeline, project: FakeProject, detail: bool) -> JSON:
    values = {
        "id": pipeline.id,
        "iid": pipeline.iid,
        "project_id": pipeline.project_id,
        "status": pipeline.status,
        "source": pipeline.source,
        "ref": pipeline.ref,
        "sha": pipeline.sha,
        "created_at": iso(pipeline.created_at),
        "updated_at": iso(pipeline.updated_at),
        "web_url": f"{WEB}/{project.full_path}/-/pipelines/{pipeline.id}",
    }
    if not detail:
        return overlay("pipeline_item", values)
    finished = pipeline.status in FINISHED
    values.update(
        {
            "user": render_user_basic(pipeline.user),
            "tag": pipeline.tag,
            "before_sha": fake_sha("before", pipeline.id),
            "started_at": iso(pipeline.created_at + timedelta(seconds=5)),
            "finished_at": iso(pipeline.updated_at) if finished else None,
        }
    )
    rendered = overlay("pipeline", values)
    rendered["detailed_status"] = {**rendered["detailed_status"], "group": pipeline.status}
    return rendered


def render_deployment(
    deployment: FakeDeployment, project: FakeProject, detail: bool, approvals: bool
) -> JSON:
    rendered = overlay(
        "deployment" if detail else "deployment_item",
        {
            "id": deployment.id,
            "iid": deployment.iid,
            "ref": deployment.ref,
            "sha": deployment.sha,
            "status": deployment.status,
            "created_at": iso(deployment.created_at),
            "updated_at": iso(deployment.updated_at),
            "user": render_user_basic(deployment.user),
            "environment": {
                **TEMPLATES["deployment"]["environment"],
                "id": deployment.environment_id,
                "name": deployment.environment,
                "external_url": f"https://{deployment.environment}.example.com",
            },
        },
    )
    rendered["deployable"] = _deployable(rendered["deployable"], deployment)
    if detail and approvals:
        rendered.update(_approval_fields(deployment))
    return rendered


def _deployable(template: JSON, deployment: FakeDeployment) -> JSON:
    pipeline = deployment.pipeline
    deployable = copy.deepcopy(template)
    deployable.update(
        {
            "id": deployment.job_id,
            "ref": pipeline.ref,
            "tag": pipeline.tag,
            "name": f"deploy:{deployment.environment}",
            "user": {**deployable["user"], **render_user_basic(deployment.user)},
        }
    )
    deployable["commit"] = {
        **deployable["commit"],
        "id": pipeline.sha,
        "short_id": pipeline.sha[:8],
    }
    deployable["pipeline"] = {
        **deployable["pipeline"],
        "id": pipeline.id,
        "ref": pipeline.ref,
        "sha": pipeline.sha,
        "status": pipeline.status,
        "created_at": iso(pipeline.created_at),
        "updated_at": iso(pipeline.updated_at),
    }
    return deployable


def render_approval(approval: FakeApproval) -> JSON:
    return overlay(
        "approval",
        {
            "user": render_user_basic(approval.user),
            "status": approval.status,
            "created_at": iso(approval.created_at),
            "comment": approval.comment,
        },
    )


def _approval_fields(deployment: FakeDeployment) -> JSON:
    fields = {k: v for k, v in TEMPLATES["approvals_unified"].items() if k != "status"}
    fields["approvals"] = [render_approval(a) for a in deployment.approvals]
    fields["pending_approval_count"] = deployment.pending_approval_count
    rules = sorted({a.rule for a in deployment.approvals if a.rule})
    if rules:
        template = TEMPLATES["approvals_rules"]["approval_summary"]["rules"][1]
        fields["approval_summary"] = {
            "rules": [
                {
                    **template,
                    "access_level_description": rule,
                    "group_id": 900 + index,
                    "deployment_approvals": [
                        render_approval(a) for a in deployment.approvals if a.rule == rule
                    ],
                }
                for index, rule in enumerate(rules)
            ]
        }
    return fields


def render_merge_request(mr: FakeMergeRequest, project: FakeProject) -> JSON:
    author = render_user_basic(mr.author)
    return overlay(
        "merge_request",
        {
            "id": mr.id,
            "iid": mr.iid,
            "project_id": mr.project_id,
            "title": f"Change {mr.iid}",
            "state": "merged",
            "merged_at": iso(mr.merged_at),
            "created_at": iso(mr.merged_at - timedelta(hours=3)),
            "updated_at": iso(mr.merged_at),
            "target_branch": mr.target_branch,
            "source_branch": mr.source_branch,
            "author": author,
            "assignee": author,
            "assignees": [author],
            "reviewers": [render_user_basic(u) for u in mr.approvers],
            "merged_by": author,
            "merge_user": author,
            "source_project_id": mr.project_id,
            "target_project_id": mr.project_id,
            "sha": fake_sha("head", mr.id),
            "merge_commit_sha": mr.merge_commit_sha,
            "web_url": f"{WEB}/{project.full_path}/-/merge_requests/{mr.iid}",
            "reference": f"!{mr.iid}",
            "references": {
                "short": f"!{mr.iid}",
                "relative": f"!{mr.iid}",
                "full": f"{project.full_path}!{mr.iid}",
            },
            "milestone": None,
        },
    )


def render_mr_approvals(mr: FakeMergeRequest) -> JSON:
    return overlay(
        "mr_approvals",
        {
            "id": mr.id,
            "iid": mr.iid,
            "project_id": mr.project_id,
            "title": f"Change {mr.iid}",
            "state": "merged",
            "merge_status": "can_be_merged",
            "created_at": iso(mr.merged_at - timedelta(hours=3)),
            "updated_at": iso(mr.merged_at),
            "approvals_required": 1,
            "approvals_left": max(0, 1 - len(mr.approvers)),
            # Current GitLab dates each approval (approved_at, GitLab issue 335669); the
            # documentation's older example has only the user.
            "approved_by": [
                {
                    "user": render_user_basic(u),
                    "approved_at": iso(mr.merged_at - timedelta(minutes=30 - index)),
                }
                for index, u in enumerate(mr.approvers)
            ],
        },
    )


def render_audit_event(
    event: FakeAuditEvent, entity_type: str, entity_id: int, entity_path: str
) -> JSON:
    template = "audit_project" if entity_type == "Project" else "audit_group"
    details = {
        **event.details,
        "author_name": event.author.name,
        "ip_address": "127.0.0.1",
        "entity_path": entity_path,
    }
    details.setdefault("target_type", entity_type)
    details.setdefault("target_id", entity_id)
    details.setdefault("target_details", entity_path)
    values = {
        "id": event.id,
        "author_id": event.author.id,
        "entity_id": entity_id,
        "entity_type": entity_type,
        "details": details,
        "created_at": iso(event.created_at),
    }
    if event.event_name is not None:
        values["event_name"] = event.event_name
    return overlay(template, values)


def render_member(user: FakeUser, access_level: int) -> JSON:
    return overlay(
        "member",
        {
            "id": user.id,
            "username": user.username,
            "name": user.name,
            "web_url": f"{WEB}/{user.username}",
            "access_level": access_level,
            "email": f"{user.username}@example.com",
        },
    )


def render_job(job: FakeJob, project: FakeProject) -> JSON:
    """The job as GET /job shows it to the job's own token."""
    pipeline = job.pipeline
    template = TEMPLATES["job"]
    return overlay("job", {
        "id": job.id, "name": job.name,
        "ref": pipeline.ref, "tag": pipeline.tag, "status": "running", "stage": job.stage,
        "pipeline": {**template["pipeline"], "id": pipeline.id, "project_id": project.id,
                     "ref": pipeline.ref, "sha": pipeline.sha, "status": pipeline.status},
        "commit": {**template["commit"], "id": pipeline.sha, "short_id": pipeline.sha[:8]},
        "user": {**template["user"], **render_user_basic(job.user)},
        "web_url": f"{WEB}/{project.full_path}/-/jobs/{job.id}",
    })  # fmt: skip
