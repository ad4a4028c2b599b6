"""A deployment's evidence, shared by collect and the gate: the deployment with its approvals
and the merge request approvals of its commit, each fetched once per run. Collect reads the
approvals of a page of deployments ahead, in batches over GraphQL (``read_ahead``); what that
did not answer is read over REST, one deployment at a time."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

from pipeledger.plugin import AuditEvent, PermissionDenied, Progress
from pipeledger_gitlab.client import GitLabClient, GitLabNotFound
from pipeledger_gitlab.deployment_details import DeploymentDetails
from pipeledger_gitlab.normalize.pipelines import (
    Origin,
    ProjectRef,
    deployment_approval_events,
    deployment_events,
    has_approval_data,
    review_events,
)
from pipeledger_gitlab.users import UserDirectory

Json = Mapping[str, Any]


class DeploymentEvidence:
    def __init__(
        self,
        client: GitLabClient,
        instance: str,
        progress: Progress,
        users: UserDirectory | None = None,
    ) -> None:
        self._client = client
        self._users = users
        self._instance = instance
        self._progress = progress
        self._merge_requests: dict[tuple[int, str], list[Json]] = {}
        self._approvals: dict[tuple[int, int], Json] = {}
        # Per top-level namespace (GitLab.com licenses each; an instance licenses all alike):
        # shown to have deployment approvals, or shown to lack them.
        self._with_approvals: set[str] = set()
        self._without_approvals: set[str] = set()
        self._asked: set[str] = set()
        self._asking = threading.Lock()
        self._details = DeploymentDetails(client)
        # (project id, deployment id) -> the detail read ahead, None for one deleted since it
        # was listed; each taken by ``detail`` (a project's deployments are read by one thread).
        self._read: dict[tuple[int, int], Json | None] = {}

    def read_ahead(self, project: ProjectRef, listed: Sequence[Json]) -> None:
        """The approvals of a page of listed deployments, in batches over GraphQL; ``detail``
        then reads over REST only those not answered. GraphQL's answer does not say whether
        the namespace has approvals (GitLab.com's Free answers an empty list): an approval
        in it shows it has; otherwise the protected environments API is asked, once per
        namespace, after the first batch, as over REST; on Free the rest is not asked."""
        namespace = _top_namespace(project)
        wanted = [item for item in listed if not has_approval_data(item)]
        if not wanted or not self._details.on or namespace in self._without_approvals:
            return
        for read in self._details.batches(project, wanted):
            if any(detail and detail.get("approvals") for detail in read.values()):
                self._with_approvals.add(namespace)
            elif read and namespace not in self._with_approvals and namespace not in self._asked:
                self._ask_tier(project, namespace)
            if namespace in self._without_approvals:
                return  # Free: no more queries, and the listed deployments are all there is
            self._read.update(((project.id, ident), detail) for ident, detail in read.items())

    def events(self, project: ProjectRef, deployment: Json) -> list[AuditEvent]:
        """Creation and status events, approvals, and the review of the deployed commit."""
        origin = Origin(self._instance, project)
        try:
            detail = self.detail(project, deployment)
        except GitLabNotFound:
            return []  # deleted since it was listed
        events = deployment_events(origin, detail) + deployment_approval_events(origin, detail)
        seen: list[Any] = [detail.get("user")]
        for merge_request in self.merge_requests(project, detail.get("sha")):
            approvals = self.merge_request_approvals(merge_request, project)
            events.extend(review_events(origin, merge_request, approvals, detail))
            seen.append(merge_request.get("author"))
            approvers = approvals.get("approved_by") or []
            seen += [entry.get("user") for entry in approvers if isinstance(entry, Mapping)]
        if self._users is not None:
            self._users.learn(seen)  # audit events name people by id only
        return events

    def detail(self, project: ProjectRef, deployment: Json) -> Json:
        """The single-deployment object, which alone carries approvals (Premium); not asked
        for once the API has said the namespace has no approvals (GitLab Free).

        One deployment without approval fields proves nothing: on Premium a deployment to an
        environment that requires no approval carries none. What decides is a deployment
        that has the fields, or the protected environments API (a Premium feature), asked
        once per top-level namespace when a deployment lacks them."""
        namespace = _top_namespace(project)
        if has_approval_data(deployment):
            self._with_approvals.add(namespace)
            return deployment
        if namespace in self._without_approvals:
            return deployment
        key = (project.id, deployment.get("id"))
        if key in self._read:
            read = self._read.pop(key)
            if read is None:
                raise GitLabNotFound(f"GitLab has no deployment {key[1]} any more (GraphQL).")
            return read
        detail = self._client.get_object(f"/projects/{project.id}/deployments/{deployment['id']}")
        if has_approval_data(detail):
            self._with_approvals.add(namespace)
        elif namespace not in self._with_approvals and namespace not in self._asked:
            self._ask_tier(project, namespace)
        return detail

    def _ask_tier(self, project: ProjectRef, namespace: str) -> None:
        """GitLab Free has no protected environments API (404); Premium lists them. A
        refusal (403: the token's role) says nothing, so every deployment stays asked. Asked
        once: projects collected side by side do not each ask."""
        with self._asking:
            if namespace in self._asked:
                return
            self._asked.add(namespace)
        try:
            self._client.page(f"/projects/{project.id}/protected_environments")
        except GitLabNotFound:
            self._without_approvals.add(namespace)
            self._progress.notice(
                f"GitLab has no deployment approvals for {namespace} (a Premium feature: its"
                " protected environments API answers 404); deployment.approval events are not"
                " collected there"
            )
        except PermissionDenied:
            return
        else:
            self._with_approvals.add(namespace)

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


def _top_namespace(project: ProjectRef) -> str:
    return project.full_path.split("/", 1)[0]
