"""A deployment's evidence, shared by collect and the gate: the deployment with its approvals
and the merge request approvals of its commit, each fetched once per run."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipeledger.events import AuditEvent
from pipeledger.progress import Progress
from pipeledger_gitlab.client import GitLabClient, GitLabNotFound
from pipeledger_gitlab.normalize import (
    Origin,
    ProjectRef,
    deployment_approval_events,
    deployment_events,
    has_approval_data,
    review_events,
)

Json = Mapping[str, Any]


class DeploymentEvidence:
    def __init__(self, client: GitLabClient, instance: str, progress: Progress) -> None:
        self._client = client
        self._instance = instance
        self._progress = progress
        self._merge_requests: dict[tuple[int, str], list[Json]] = {}
        self._approvals: dict[tuple[int, int], Json] = {}
        # None until the first deployment shows whether this instance has approvals at all.
        self.approvals_available: bool | None = None

    def events(self, project: ProjectRef, deployment: Json) -> list[AuditEvent]:
        """Creation and status events, approvals, and the review of the deployed commit."""
        origin = Origin(self._instance, project)
        try:
            detail = self.detail(project, deployment)
        except GitLabNotFound:
            return []  # deleted since it was listed
        events = deployment_events(origin, detail) + deployment_approval_events(origin, detail)
        for merge_request in self.merge_requests(project, detail.get("sha")):
            approvals = self.merge_request_approvals(merge_request, project)
            events.extend(review_events(origin, merge_request, approvals, detail))
        return events

    def detail(self, project: ProjectRef, deployment: Json) -> Json:
        """The single-deployment object, which alone carries approvals (Premium); skipped
        once the instance has shown it has none (GitLab Free)."""
        if self.approvals_available is False or has_approval_data(deployment):
            return deployment
        detail = self._client.get_object(f"/projects/{project.id}/deployments/{deployment['id']}")
        if self.approvals_available is None:
            self.approvals_available = has_approval_data(detail)
            if not self.approvals_available:
                self._progress.notice(
                    "this GitLab has no deployment approvals (a Premium feature);"
                    " deployment.approval events are not collected"
                )
        return detail

    def merge_requests(self, project: ProjectRef, sha: Any) -> list[Json]:
        if not isinstance(sha, str) or not sha:
            return []
        key = (project.id, sha)
        if key not in self._merge_requests:
            path = f"/projects/{project.id}/repository/commits/{sha}/merge_requests"
            try:
                self._merge_requests[key] = self._client.list_all(path)
            except GitLabNotFound:
                # The commit is gone from the repository (force-push, cleanup): no MRs to find.
                self._merge_requests[key] = []
        return self._merge_requests[key]

    def merge_request_approvals(self, merge_request: Json, project: ProjectRef) -> Json:
        project_id = int(merge_request.get("project_id") or project.id)
        key = (project_id, int(merge_request["iid"]))
        if key not in self._approvals:
            path = f"/projects/{project_id}/merge_requests/{key[1]}/approvals"
            self._approvals[key] = self._client.get_object(path)
        return self._approvals[key]
