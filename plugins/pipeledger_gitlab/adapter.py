"""The GitLab adapter (gitlab.com and self-managed): ``collect`` for groups and projects, and
the gate's evidence inside GitLab CI."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import ClassVar

from pipeledger.adapter import (
    Adapter,
    AdapterSettings,
    Batch,
    CheckpointReader,
    CollectRequest,
    DemoScenario,
    GateEvidence,
    GateSource,
)
from pipeledger.adapter import CiJob as RunningJob
from pipeledger.errors import MalformedResponse, UsageError
from pipeledger.http import RetryPolicy
from pipeledger.progress import Progress, SilentProgress
from pipeledger_gitlab.client import (
    Credentials,
    GitLabClient,
    find_credentials,
    instance_of,
    job_token_credentials,
    resolve_api_url,
)
from pipeledger_gitlab.collector import GitLabCollector
from pipeledger_gitlab.gate import CiJob, GitLabGate, running_job

COLLECT_ACCESS_ADVICE = (
    "Set GITLAB_TOKEN to a personal, group or project access token with the read_api scope"
    " (Reporter role; Maintainer/Owner and Premium for audit events)."
)


class GitLabAdapter(Adapter, GateSource):
    platform: ClassVar[str] = "gitlab"

    def __init__(
        self,
        settings: AdapterSettings,
        api_url: str,
        credentials: Credentials,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.settings = settings
        self.api_url = api_url
        self.instance = instance_of(api_url)
        self.credentials = credentials
        self._clock = clock or (lambda: datetime.now(UTC))

    @classmethod
    def create(cls, settings: AdapterSettings) -> GitLabAdapter:
        api_url = resolve_api_url(settings.api_url, settings.environ)
        credentials = find_credentials(settings.environ)
        if credentials is None:
            raise UsageError("No GitLab token: GITLAB_TOKEN is not set.", COLLECT_ACCESS_ADVICE)
        return cls(settings, api_url, credentials)

    def collect(
        self, request: CollectRequest, checkpoints: CheckpointReader, progress: Progress
    ) -> Iterator[Batch]:
        if self.credentials.is_job_token:
            raise UsageError(
                "collect cannot use CI_JOB_TOKEN: GitLab does not let a job token list"
                " pipelines, merge request approvals or audit events.",
                COLLECT_ACCESS_ADVICE,
            )
        collector = GitLabCollector(self._client(progress), self.instance, progress, self._clock)
        with _shape_errors():
            yield from collector.run(request, checkpoints, self._clock())

    @classmethod
    def detects_ci(cls, environ: Mapping[str, str]) -> bool:
        return environ.get("GITLAB_CI") == "true"

    def ci_job(self) -> RunningJob | None:
        """The job from the CI variables alone, for the error decision of a gate that cannot
        reach GitLab."""
        return running_job(self.settings.environ, self.instance)

    def gate_evidence(self, environment: str | None, teams: Sequence[str]) -> GateEvidence:
        job = CiJob.from_environ(self.settings.environ)
        progress = self.settings.progress or SilentProgress()
        client = self._client(progress)
        job_credentials = job_token_credentials(self.settings.environ)
        job_client = self._client(progress, job_credentials) if job_credentials else None
        gate = GitLabGate(client, self.instance, progress, job_client)
        with _shape_errors():
            return gate.evidence(job, environment, teams)

    @classmethod
    def demo_scenario(cls) -> DemoScenario | None:
        from pipeledger_gitlab.demo import scenario

        return scenario()

    def _client(self, progress: Progress, credentials: Credentials | None = None) -> GitLabClient:
        policy = RetryPolicy(
            max_retries=self.settings.max_retries,
            backoff_base=self.settings.backoff_base,
            max_wait=self.settings.max_wait,
            timeout=self.settings.request_timeout,
        )
        return GitLabClient(self.api_url, credentials or self.credentials, policy, progress)


@contextmanager
def _shape_errors() -> Iterator[None]:
    """A payload without a field every GitLab version sends is the API's fault (or a
    proxy's), not a crash: it leaves as MalformedResponse."""
    try:
        yield
    except (KeyError, TypeError, ValueError) as error:
        raise MalformedResponse(
            f"GitLab answered with a payload pipeledger cannot read ({type(error).__name__}:"
            f" {error}).",
            "Check that --api-url is the API root (https://HOST/api/v4); if it is, please"
            " report this with your GitLab version (GET /version).",
        ) from error
