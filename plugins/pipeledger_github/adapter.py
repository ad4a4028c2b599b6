"""The GitHub adapter: collects history into the ledger and gives the gate its evidence."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

import requests

from pipeledger.plugin import (
    Adapter,
    AdapterSettings,
    Batch,
    CiJob,
    CollectRequest,
    CursorReader,
    DemoScenario,
    GateEvidence,
    GateSource,
    Progress,
    ProgressRelay,
    RequestCounts,
    ScopedCollection,
    ScopeOption,
)
from pipeledger_github import gate_evidence
from pipeledger_github.auth import Endpoint, resolve_endpoint, resolve_token, token_renewer
from pipeledger_github.client import GitHubClient
from pipeledger_github.normalize.fields import Oddities
from pipeledger_github.repo_context import RepoContext

if TYPE_CHECKING:
    from pipeledger_github.collector import Collector

PUBLIC_INSTANCE = "github.com"
ENTERPRISE_CONCURRENCY = 4


class GitHubAdapter(Adapter, GateSource):
    platform = "github"
    scope_options = (
        ScopeOption("--org", "owners", "ORG", "every repository of this organization"),
        ScopeOption("--repo", "repositories", "OWNER/NAME", "one repository"),
    )

    def __init__(
        self,
        settings: AdapterSettings,
        endpoint: Endpoint,
        token: str,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        renew_token: Callable[[], str] | None = None,
    ) -> None:
        self.settings = settings
        self.endpoint = endpoint
        self._progress = ProgressRelay()
        if settings.progress is not None:
            self._progress.target = settings.progress
        self._clock = clock
        self.client = GitHubClient.build(
            endpoint.api_url,
            token,
            settings,
            self._progress,
            session=session,
            sleep=sleep,
            clock=clock,
            renew_token=renew_token,
        )

    @classmethod
    def create(cls, settings: AdapterSettings) -> GitHubAdapter:
        endpoint = resolve_endpoint(settings.api_url, settings.environ)
        token = resolve_token(settings.environ, endpoint.api_url)
        return cls(
            settings, endpoint, token, renew_token=token_renewer(settings.environ, endpoint.api_url)
        )

    @property
    def instance(self) -> str:
        return self.endpoint.instance

    @property
    def requests_made(self) -> int:
        return self.client.api.requests_made + self.client.graphql_requests

    @property
    def not_modified(self) -> int:
        return self.client.api.not_modified

    def request_counts(self) -> RequestCounts:
        return RequestCounts(made=self.requests_made, not_modified=self.not_modified)

    def collect(
        self, request: CollectRequest, cursors: CursorReader, progress: Progress
    ) -> Iterator[Batch]:
        self._progress.target = progress
        collector = self._collector()
        yield from collector.collect(request, cursors)

    def scoped(
        self, request: CollectRequest, progress: Progress, concurrency: int = 1
    ) -> ScopedCollection:
        self._progress.target = progress
        collector = self._collector()
        return collector.scoped(request, concurrency)

    def _collector(self) -> Collector:
        # Imported on first use: the gate never collects, and the collector with its access
        # snapshot modules is a third of this adapter's import time.
        from pipeledger_github.collector import Collector

        return Collector(self.client, self.instance, self._progress, self._clock)

    def default_concurrency(self) -> int:
        """github.com asks integrators to make requests serially, and counts the CPU time
        concurrent requests take against its secondary rate limit; a GitHub Enterprise
        Server sets its own limits (none by default)."""
        return 1 if self.instance == PUBLIC_INSTANCE else ENTERPRISE_CONCURRENCY

    @classmethod
    def default_concurrency_said(cls) -> str:
        return f"1 on github.com, {ENTERPRISE_CONCURRENCY} on GitHub Enterprise Server"

    @classmethod
    def demo_scenario(cls) -> DemoScenario:
        from pipeledger_github.demo import scenario

        return scenario()

    @classmethod
    def detects_ci(cls, environ: Mapping[str, str]) -> bool:
        return environ.get("GITHUB_ACTIONS") == "true"

    def ci_job(self) -> CiJob | None:
        """The running job from the Actions variables alone (no API call), so a gate that
        cannot reach GitHub still records whom it turned away."""
        return gate_evidence.ci_job(self.settings.environ, self.instance)

    def gate_evidence(self, environment: str | None, teams: Sequence[str]) -> GateEvidence:
        repository, run_id, sha = gate_evidence.job_identity(self.settings.environ)
        context = RepoContext(
            self.client,
            repository,
            self.instance,
            Oddities(),
            self._progress,
            job_refs=gate_evidence.job_refs(self.settings.environ),
        )
        return gate_evidence.evidence(context, run_id, sha, environment, teams)
