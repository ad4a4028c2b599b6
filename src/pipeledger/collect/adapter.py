"""The adapter contract: how a platform plugin turns a forge's API into audit events.

An adapter pulls history for the repositories a :class:`CollectRequest` names and yields
:class:`Batch` es; the core writes each batch and its cursors to the ledger atomically, so a
run that is killed resumes from the last batch without losing or duplicating anything.

A *cursor* is a key and a value saying where collection resumes (an adapter chooses both;
the ledger stores them with the batch). It is not a *checkpoint*: that word names only the
signed chain head (:class:`pipeledger.sinks.contract.ChainCheckpoint`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar, Literal, Protocol

from pipeledger.collect.progress import Progress
from pipeledger.events import Actor, AuditEvent
from pipeledger.ledger.quarantine import QuarantinedRecord


@dataclass(frozen=True)
class AdapterSettings:
    """What the core hands a plugin: its API root, the environment it may read, limits."""

    api_url: str | None
    environ: Mapping[str, str]
    max_wait: float = 900.0
    # Unattended (no terminal, CI): rate-limit waits up to the next announced reset are
    # taken even past max_wait (see pipeledger.http.client.RetryPolicy).
    wait_through_reset: bool = False
    request_timeout: float = 30.0
    max_retries: int = 5
    backoff_base: float = 1.0
    # Where notices go outside a collection (the gate's retry and rate-limit waits);
    # collect() gets its own progress.
    progress: Progress | None = field(default=None, compare=False)


@dataclass(frozen=True)
class CollectRequest:
    """What to collect: owners (org/group) expand to all their repositories. ``snapshots``
    asks adapters that can to also record who can do what and what guards deploys
    (permission and protection snapshots, see :mod:`pipeledger.snapshots`)."""

    owners: tuple[str, ...] = ()
    repositories: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    snapshots: bool = True


@dataclass(frozen=True)
class Batch:
    """Events plus the cursors that become true once they are stored, and the records
    the adapter could not normalize (kept in the ledger's quarantine, not dropped)."""

    events: Sequence[AuditEvent]
    cursors: Mapping[str, str] = field(default_factory=dict)
    quarantined: Sequence[QuarantinedRecord] = ()


@dataclass(frozen=True)
class RequestCounts:
    """HTTP requests an adapter made, for the collect summary; 304s cost no rate limit."""

    made: int
    not_modified: int


class CursorReader(Protocol):
    """Reads the stored value of a cursor (None when it was never stored)."""

    def cursor(self, key: str) -> str | None: ...


@dataclass(frozen=True)
class CollectScope:
    """One repository or project, collected on its own: its batches in order, read from its
    own cursors. No cursor, and nothing that changes an event, is shared with any
    other scope, so scopes may run side by side (``collect --concurrency``)."""

    name: str
    batches: Callable[[CursorReader], Iterator[Batch]]


class ScopedCollection(ABC):
    """A collection in parts: ``prepare`` (listings; organization- and group-level records)
    runs first and alone; then the scopes it found, any number at once, their batches stored
    in scope order (so the ledger is the same as a serial run's); then ``finish``."""

    @abstractmethod
    def prepare(self, cursors: CursorReader) -> Iterator[Batch]:
        """Batches that come before every scope; afterwards :meth:`scopes` is known."""

    @abstractmethod
    def scopes(self) -> Sequence[CollectScope]: ...

    def finish(self) -> None:
        """After every scope: raise what they left to say (repositories skipped)."""
        return None


def run_serially(collection: ScopedCollection, cursors: CursorReader) -> Iterator[Batch]:
    """The collection one scope after another: what ``collect --concurrency 1`` does."""
    yield from collection.prepare(cursors)
    for scope in collection.scopes():
        yield from scope.batches(cursors)
    collection.finish()


@dataclass(frozen=True)
class DemoScenario:
    """Recorded API responses a platform bundles for the offline demo.

    ``responses`` maps a request path with its sorted query string (``/repos/o/r?per_page=100``)
    to a JSON body; the demo serves them from a local server and runs the real adapter on it.
    """

    request: CollectRequest
    responses: Mapping[str, object]
    environ: Mapping[str, str]
    next_steps: str = ""


@dataclass(frozen=True)
class ScopeOption:
    """A ``collect`` option an adapter declares to name what to collect in its own words —
    ``--org``/``--repo`` on GitHub, ``--group``/``--project`` on GitLab. Repeatable; its values
    become the request's ``owners`` or ``repositories``, and it has an environment and config
    twin like every option (``PIPELEDGER_ORG``, ``org:``)."""

    flag: str
    names: Literal["owners", "repositories"]
    metavar: str
    help: str

    @property
    def dest(self) -> str:
        return _dest(self.flag)


@dataclass(frozen=True)
class EnvironmentOption:
    """A ``collect`` option an adapter declares that sets a variable of the environment the
    adapter reads (its :attr:`AdapterSettings.environ`), e.g. a file the platform's own tools
    find through an environment variable: ``--gitlab-config FILE`` sets ``PYTHON_GITLAB_CFG``.
    Given, it wins over that variable; it has an environment and config twin like every
    option (``PIPELEDGER_GITLAB_CONFIG``, ``gitlab_config:``)."""

    flag: str
    variable: str
    metavar: str
    help: str

    @property
    def dest(self) -> str:
        return _dest(self.flag)


def _dest(flag: str) -> str:
    """Where argparse keeps a declared option: ``--gitlab-config`` in ``gitlab_config``."""
    return flag.removeprefix("--").replace("-", "_")


class Adapter(ABC):
    platform: ClassVar[str]
    # How ``collect`` names this platform's scopes on the command line.
    scope_options: ClassVar[tuple[ScopeOption, ...]] = ()
    # ``collect`` options that set variables of the environment the adapter reads.
    environment_options: ClassVar[tuple[EnvironmentOption, ...]] = ()

    @classmethod
    @abstractmethod
    def create(cls, settings: AdapterSettings) -> Adapter:
        """Build an adapter; raise a UsageError naming the missing token or setting."""

    @abstractmethod
    def collect(
        self, request: CollectRequest, cursors: CursorReader, progress: Progress
    ) -> Iterator[Batch]:
        """Yield batches of events in an order that makes every cursor safe to store."""

    def scoped(
        self, request: CollectRequest, progress: Progress, concurrency: int = 1
    ) -> ScopedCollection | None:
        """The same collection in scopes that may run side by side; None if it cannot be
        split. With ``concurrency`` above 1 the scopes run in that many threads, ``prepare``
        may use as many for requests whose results it stores in a fixed order, and the
        cursors it is given may be read from any thread. ``progress`` may be called
        from several threads at once."""
        return None

    def default_concurrency(self) -> int:
        """Scopes collected at once unless ``--concurrency`` says otherwise: what the
        platform's own guidance allows for this instance."""
        return 1

    @classmethod
    def default_concurrency_said(cls) -> str:
        """``default_concurrency`` in words, for ``collect --help`` (which has no instance
        yet): the number, or where it differs, e.g. "1 on github.com, 4 elsewhere"."""
        return "1"

    @classmethod
    def demo_scenario(cls) -> DemoScenario | None:
        """Bundled recorded responses for ``pipeledger demo``; None if the plugin has none."""
        return None

    def request_counts(self) -> RequestCounts | None:
        """Requests made so far, shown in the collect summary; None if not counted."""
        return None


@dataclass(frozen=True)
class GateEvidence:
    """What the gate needs about the running CI job, fetched with as few calls as possible.

    ``events`` holds the job's ``pipeline.run`` (this attempt), the deployment(s) it made or is
    making, their approvals and the code review of the deployed commit, all correlated by
    ``correlation.run_id`` / ``deployment_id`` / ``pull_request`` as collect would record them.
    ``team_members`` maps each team the policy names to its members' logins.
    """

    run_id: str
    environment: str | None
    events: Sequence[AuditEvent]
    team_members: Mapping[str, frozenset[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class CiJob:
    """The running CI job as its variables describe it, known without any API call, so a
    gate that cannot reach the API can still record who it turned away."""

    platform: str
    instance: str
    owner: str
    repository: str | None
    run_id: str
    run_attempt: str | None
    actor: Actor
    ref: str | None = None
    sha: str | None = None


class GateSource(ABC):
    """Optional second role of an adapter: evidence for the CI job that is running now."""

    @classmethod
    @abstractmethod
    def detects_ci(cls, environ: Mapping[str, str]) -> bool:
        """True inside this platform's CI (GITHUB_ACTIONS=true, GITLAB_CI=true)."""

    @abstractmethod
    def gate_evidence(self, environment: str | None, teams: Sequence[str]) -> GateEvidence:
        """Read the job from the CI variables in ``settings.environ`` and fetch its evidence;
        raise PlatformError / PermissionDenied (the gate then fails closed)."""

    def ci_job(self) -> CiJob | None:
        """The job from the CI variables alone; None when the adapter cannot tell."""
        return None
