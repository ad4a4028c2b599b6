"""The GitLab adapter (gitlab.com and self-managed): ``collect`` for groups and projects, and
the gate's evidence inside GitLab CI."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from typing import ClassVar

from pipeledger.plugin import (
    Adapter,
    AdapterSettings,
    Batch,
    CollectRequest,
    CollectScope,
    CursorReader,
    DemoScenario,
    EnvironmentOption,
    GateEvidence,
    GateSource,
    MalformedResponse,
    Progress,
    RetryPolicy,
    ScopedCollection,
    ScopeOption,
    SilentProgress,
    UsageError,
    run_serially,
)
from pipeledger.plugin import CiJob as RunningJob
from pipeledger_gitlab.client import (
    Credentials,
    GitLabClient,
    find_credentials,
    instance_of,
    job_token_credentials,
    resolve_api_url,
)
from pipeledger_gitlab.collector import GitLabCollector
from pipeledger_gitlab.config_file import (
    CONFIG_OPTION,
    CONFIG_VARIABLE,
    SECTION_OPTION,
    SECTION_VARIABLE,
    USER_FILE,
    ConfigFileAccess,
    access_from_config,
)
from pipeledger_gitlab.gate_evidence import CiJob, GitLabGate, running_job

DEFAULT_CONCURRENCY = 4
COLLECT_ACCESS_ADVICE = (
    "Set GITLAB_TOKEN to a personal, group or project access token with the read_api scope"
    " (Reporter role; Maintainer/Owner and Premium for audit events), or keep it in a"
    f" python-gitlab configuration ({USER_FILE}, or the file {CONFIG_OPTION} or"
    f" {CONFIG_VARIABLE} names)."
)


class GitLabAdapter(Adapter, GateSource):
    platform: ClassVar[str] = "gitlab"
    scope_options = (
        ScopeOption("--group", "owners", "PATH", "every project of this group and its subgroups"),
        ScopeOption("--project", "repositories", "PATH", "one project (its full path)"),
    )
    environment_options = (
        EnvironmentOption(
            CONFIG_OPTION,
            CONFIG_VARIABLE,
            "FILE",
            "python-gitlab configuration file with the instance and token, read when"
            f" GITLAB_TOKEN is not set; wins over python-gitlab's {CONFIG_VARIABLE}",
        ),
        EnvironmentOption(
            SECTION_OPTION,
            SECTION_VARIABLE,
            "NAME",
            "its section to use, in place of the one its global section chooses",
        ),
    )

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
        credentials = find_credentials(settings.environ)
        if credentials is not None:
            return cls(settings, resolve_api_url(settings.api_url, settings.environ), credentials)
        access = access_from_config(settings.environ)
        if access is None:
            raise UsageError("No GitLab token: GITLAB_TOKEN is not set.", COLLECT_ACCESS_ADVICE)
        return cls(settings, _config_api_url(settings.api_url, access), access.credentials)

    def collect(
        self, request: CollectRequest, cursors: CursorReader, progress: Progress
    ) -> Iterator[Batch]:
        yield from run_serially(self.scoped(request, progress), cursors)

    def scoped(
        self, request: CollectRequest, progress: Progress, concurrency: int = 1
    ) -> ScopedCollection:
        if self.credentials.is_job_token:
            raise UsageError(
                "collect cannot use CI_JOB_TOKEN: GitLab does not let a job token list"
                " pipelines, merge request approvals or audit events.",
                COLLECT_ACCESS_ADVICE,
            )
        collector = GitLabCollector(self._client(progress), self.instance, progress, self._clock)
        return _Shaped(collector.scoped(request, self._clock()))

    def default_concurrency(self) -> int:
        """GitLab limits requests per user and minute, not how many run at once; 4 at once
        stays far inside gitlab.com's authenticated API limit."""
        return DEFAULT_CONCURRENCY

    @classmethod
    def default_concurrency_said(cls) -> str:
        return str(DEFAULT_CONCURRENCY)

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
            wait_through_reset=self.settings.wait_through_reset,
            timeout=self.settings.request_timeout,
        )
        return GitLabClient(self.api_url, credentials or self.credentials, policy, progress)


class _Shaped(ScopedCollection):
    """Every part of the collection with its payload errors told as MalformedResponse."""

    def __init__(self, inner: ScopedCollection) -> None:
        self._inner = inner

    def prepare(self, cursors: CursorReader) -> Iterator[Batch]:
        with _shape_errors():
            yield from self._inner.prepare(cursors)

    def scopes(self) -> list[CollectScope]:
        return [
            CollectScope(scope.name, partial(_shaped, scope.batches))
            for scope in self._inner.scopes()
        ]

    def finish(self) -> None:
        self._inner.finish()


def _shaped(
    batches: Callable[[CursorReader], Iterator[Batch]], cursors: CursorReader
) -> Iterator[Batch]:
    with _shape_errors():
        yield from batches(cursors)


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


def _config_api_url(given: str | None, access: ConfigFileAccess) -> str:
    """The python-gitlab section's instance; an --api-url may name another root on it (a
    proxy path) but not another instance, which the section's token does not belong to."""
    if _scheme(access.api_url) not in ("http", "https") or not instance_of(access.api_url):
        raise UsageError(
            f"The url of section {access.section} is not an http(s) URL ({access.url}).",
            "Give the section the instance's address, e.g. url = https://gitlab.example.com.",
        )
    configured = resolve_api_url(access.api_url, {})
    if not given:
        return configured
    chosen = resolve_api_url(given, {})
    if instance_of(chosen) != instance_of(configured) or _scheme(chosen) != _scheme(configured):
        raise UsageError(
            f"--api-url {chosen} is not the instance of {access.credentials.variable}"
            f" ({configured}).",
            "Its token is sent only to that instance: drop --api-url, choose the section for"
            f" this instance ({SECTION_OPTION}), or set GITLAB_TOKEN.",
        )
    return chosen


def _scheme(url: str) -> str:
    return url.split("://", 1)[0].lower()
