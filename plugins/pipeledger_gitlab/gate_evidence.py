"""Evidence for the GitLab CI job running now: its pipeline, the deployment(s) it makes to the
environment, their approvals, the merge request approvals of the commit, and team members."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pipeledger.plugin import Actor, AuditEvent, GateEvidence, PlatformError, Progress, UsageError
from pipeledger.plugin import CiJob as RunningJob
from pipeledger_gitlab.awaiting import refuse_unapproved
from pipeledger_gitlab.client import GitLabClient, GitLabNotFound, encode_path
from pipeledger_gitlab.evidence import DeploymentEvidence
from pipeledger_gitlab.normalize.actors import actor_type, username_of
from pipeledger_gitlab.normalize.pipelines import (
    Origin,
    ProjectRef,
    full_ref,
    pipeline_event,
    review_events,
)

Json = Mapping[str, Any]
REQUIRED = ("CI_PROJECT_ID", "CI_PIPELINE_ID")


@dataclass(frozen=True)
class CiJob:
    """The running job, as GitLab CI's predefined variables describe it."""

    project_id: str
    pipeline_id: str
    project_path: str | None = None
    job_id: str | None = None
    user_login: str | None = None
    user_id: str | None = None
    environment: str | None = None
    sha: str | None = None
    ref_name: str | None = None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> CiJob:
        missing = [name for name in REQUIRED if not environ.get(name)]
        if missing:
            raise UsageError(
                f"The GitLab CI variables {', '.join(missing)} are not set.",
                "Run 'pipeledger check' inside a GitLab CI job (GITLAB_CI=true); outside CI,"
                " use 'pipeledger audit' on collected history.",
            )

        def get(name: str) -> str | None:
            return environ.get(name) or None

        return cls(
            project_id=environ["CI_PROJECT_ID"],
            pipeline_id=environ["CI_PIPELINE_ID"],
            project_path=get("CI_PROJECT_PATH"),
            job_id=get("CI_JOB_ID"),
            user_login=get("GITLAB_USER_LOGIN"),
            user_id=get("GITLAB_USER_ID"),
            environment=get("CI_ENVIRONMENT_NAME"),
            sha=get("CI_COMMIT_SHA"),
            ref_name=get("CI_COMMIT_REF_NAME"),
        )


def running_job(environ: Mapping[str, str], instance: str) -> RunningJob | None:
    """The job as the CI variables claim it (no API call, nothing verified), so a gate that
    cannot reach GitLab still records whom it turned away; None outside a GitLab CI job."""
    path = environ.get("CI_PROJECT_PATH")
    if not path or any(not environ.get(name) for name in REQUIRED):
        return None
    project = ProjectRef(0, path)
    login = environ.get("GITLAB_USER_LOGIN") or None
    return RunningJob(
        platform="gitlab",
        instance=instance,
        owner=project.owner,
        repository=project.name,
        run_id=environ["CI_PIPELINE_ID"],
        run_attempt=None,  # a GitLab pipeline has no attempts; a retry is the same pipeline
        actor=Actor(
            login=login,
            id=environ.get("GITLAB_USER_ID") or None,
            type=actor_type(login or ""),
        ),
        ref=full_ref(environ.get("CI_COMMIT_REF_NAME"), bool(environ.get("CI_COMMIT_TAG"))),
        sha=environ.get("CI_COMMIT_SHA") or None,
    )


class GitLabGate:
    def __init__(
        self,
        client: GitLabClient,
        instance: str,
        progress: Progress,
        job_client: GitLabClient | None = None,
    ) -> None:
        self._client = client
        self._job_client = job_client
        self._instance = instance
        self._evidence = DeploymentEvidence(client, instance, progress)

    def evidence(self, job: CiJob, environment: str | None, teams: Sequence[str]) -> GateEvidence:
        self._verify(job)
        project = self._project(job)
        origin = Origin(self._instance, project)
        pipeline = self._client.get_object(f"/projects/{project.id}/pipelines/{job.pipeline_id}")
        events: list[AuditEvent] = [pipeline_event(origin, pipeline, _attempt_actor(job, pipeline))]
        name = environment or job.environment
        deployments = self._deployments(project, name, job, pipeline) if name else []
        for deployment in deployments:
            events.extend(self._deployment_events(project, deployment, job, name or ""))
        if not deployments:
            events.extend(self._reviews(origin, job.sha or pipeline.get("sha")))
        return GateEvidence(
            run_id=str(pipeline["id"]),
            environment=name,
            events=events,
            team_members={team: self._members(team) for team in teams},
        )

    def _verify(self, job: CiJob) -> None:
        """A job's .gitlab-ci.yml can override predefined variables, so they are checked
        against the job GitLab says the job token belongs to before anything is trusted."""
        if self._job_client is None:
            return
        running = self._job_client.get_object("/job")
        wrong = [name for name, claimed, actual in _claims(job, running) if claimed != actual]
        if wrong:
            raise PlatformError(
                f"The CI variables {', '.join(wrong)} do not match the job GitLab says is"
                " running (GET /job with CI_JOB_TOKEN).",
                "A predefined variable was overridden in the pipeline configuration or the"
                " job's environment; remove the override. The gate fails closed until the"
                " variables describe the real job.",
            )

    def _project(self, job: CiJob) -> ProjectRef:
        if job.project_path:
            return ProjectRef(int(job.project_id), job.project_path)
        return ProjectRef.from_api(self._client.get_object(f"/projects/{job.project_id}"))

    def _deployments(
        self, project: ProjectRef, environment: str, job: CiJob, pipeline: Json
    ) -> list[Json]:
        """This pipeline's deployments to the environment; only this job's when it has one."""
        params = {"environment": environment, "order_by": "updated_at", "sort": "desc"}
        if pipeline.get("created_at"):
            # A deployment of this pipeline cannot have changed before the pipeline existed.
            params["updated_after"] = str(pipeline["created_at"])
        listing = self._client.list_all(f"/projects/{project.id}/deployments", params)
        ours = [d for d in listing if _pipeline_id(d) == str(pipeline["id"])]
        this_job = [d for d in ours if _job_id(d) == job.job_id]
        return this_job or ours

    def _deployment_events(
        self, project: ProjectRef, deployment: Json, job: CiJob, environment: str
    ) -> list[AuditEvent]:
        """The deployment's evidence, refused while it still waits for its approval."""
        try:
            detail = self._evidence.detail(project, deployment)
        except GitLabNotFound:
            return []  # deleted since it was listed
        refuse_unapproved(detail, job.job_id, environment)
        return self._evidence.events(project, detail)

    def _reviews(self, origin: Origin, sha: Any) -> list[AuditEvent]:
        events: list[AuditEvent] = []
        for merge_request in self._evidence.merge_requests(origin.project, sha):
            approvals = self._evidence.merge_request_approvals(merge_request, origin.project)
            events.extend(review_events(origin, merge_request, approvals, None))
        return events

    def _members(self, team: str) -> frozenset[str]:
        """A policy's team on GitLab is a group (full path); members include inherited ones."""
        try:
            members = self._client.list_all(f"/groups/{encode_path(team)}/members/all")
        except GitLabNotFound as error:
            raise UsageError(
                f"The policy names the team {team!r}, but GitLab has no such group visible"
                " to the token.",
                "On GitLab a team is a group's full path (e.g. my-org/release-managers)."
                f" {error.remedy}",
            ) from None
        return frozenset(filter(None, (username_of(m) for m in members)))


def _claims(job: CiJob, running: Json) -> list[tuple[str, str, str]]:
    """(variable, its value, what GitLab says) for every variable both sides know."""
    pipeline = running.get("pipeline") or {}
    user = running.get("user") or {}
    pairs = [
        ("CI_JOB_ID", job.job_id, running.get("id")),
        ("CI_PIPELINE_ID", job.pipeline_id, pipeline.get("id")),
        ("CI_PROJECT_ID", job.project_id, pipeline.get("project_id")),
        ("CI_COMMIT_SHA", job.sha, pipeline.get("sha")),
        ("CI_COMMIT_REF_NAME", job.ref_name, running.get("ref")),
        ("GITLAB_USER_LOGIN", job.user_login, user.get("username")),
    ]
    return [
        (name, str(claimed), str(actual))
        for name, claimed, actual in pairs
        if claimed is not None and actual is not None
    ]


def _attempt_actor(job: CiJob, pipeline: Json) -> Actor | None:
    """GITLAB_USER_LOGIN names who started this job (a manual or retried one) when that is
    not the pipeline's user."""
    login = job.user_login
    if not login or login == username_of(pipeline.get("user")):
        return None
    return Actor(login=login, id=job.user_id, type=actor_type(login))


def _pipeline_id(deployment: Json) -> str | None:
    deployable = deployment.get("deployable") or {}
    pipeline = deployable.get("pipeline") or {}
    return None if pipeline.get("id") is None else str(pipeline["id"])


def _job_id(deployment: Json) -> str | None:
    deployable = deployment.get("deployable") or {}
    return None if deployable.get("id") is None else str(deployable["id"])
