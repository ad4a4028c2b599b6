"""Data model, JSON rendering and deterministic generator for the fake GitHub REST API.

This module is the "database" behind :mod:`tests.fakes.github_api`.  It holds:

* small dataclasses describing an organisation (repos, workflow runs, deployments, deployment
  statuses, environment approvals, pull requests and reviews, teams);
* ``render_*`` functions that turn those objects into the JSON shapes the real API returns.
  Every shape is copied from GitHub's own examples in ``tests/fixtures/github`` (loaded at
  import time) and only identity fields (ids, logins, times, refs, shas, URLs) are overridden;
* :func:`generate_org` (a seeded, deterministic generator for benchmarks and end-to-end tests),
  :func:`scenario_org` (a tiny hand-written org for exact assertions) and
  :func:`expected_counts`.

Standard library only.  Rendered JSON is cached per object; assigning to any field of a model
object drops its cache, so tests may mutate data while a server is running.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from tests.paths import fixture

JSON = dict[str, Any]

# --------------------------------------------------------------------------------------------
# Templates (real example payloads)
# --------------------------------------------------------------------------------------------

_TEMPLATE_FILES: dict[str, str] = {
    "run_list": "rest/actions-runs-list.workflow-run-paginated.json",
    "run_get": "rest/actions-run-get.workflow-run.json",
    "approval": "rest/actions-run-approvals.environment-approvals-items.json",
    "deployment": "rest/deployments-list.deployment-items.json",
    "status": "rest/deployments-statuses-list.deployment-status-items.json",
    "pull_simple": "rest/commits-pulls.pull-request-simple-items.json",
    "pull_full": "openapi-extra/pulls-get.pull-request.json",
    "review": "rest/pulls-reviews-list.pull-request-review-items.json",
    "repo_minimal": "openapi-extra/orgs-list-repos.minimal-repository-items.json",
    "repo_full": "openapi-extra/repos-get.full-repository.json",
    "rate_limit": "openapi-extra/rate-limit.rate-limit-overview.json",
    "org_full": "openapi-extra/orgs-get.organization-full.json",
    "private_user": "openapi-extra/users-get-authenticated.private-user.json",
    "team_membership": (
        "rest/teams-membership.team-membership-response-if-user-is-a-team-maintainer.json"
    ),
    "job_with_deployment": "webhooks/workflow_job.queued.with-deployment.payload.json",
}


def _github_examples_root() -> Path:
    return fixture("github")


def _first(value: Any) -> JSON:
    """Unwrap the first item of an example list (or the run of a paginated run list)."""
    if isinstance(value, list):
        value = value[0]
    if isinstance(value, dict) and "workflow_runs" in value:
        value = value["workflow_runs"][0]
    if not isinstance(value, dict):
        raise TypeError("example payload is not an object")
    return value


def load_templates() -> dict[str, JSON]:
    """Read every example payload used as a template (called once, at import time)."""
    root = _github_examples_root()
    loaded: dict[str, JSON] = {}
    for key, rel in _TEMPLATE_FILES.items():
        with (root / rel).open(encoding="utf-8") as fh:
            loaded[key] = _first(json.load(fh))
    job_event = loaded.pop("job_with_deployment")
    loaded["actions_app"] = job_event["deployment"]["performed_via_github_app"]
    loaded["simple_user"] = loaded["approval"]["user"]
    loaded["environment"] = loaded["approval"]["environments"][0]
    return loaded


TEMPLATES: dict[str, JSON] = load_templates()

with fixture("github", "rest", "repos-list-tags.tag-items.json").open(encoding="utf-8") as _fh:
    TEMPLATES["tag"] = _first(json.load(_fh))

_EXAMPLE_REPO = "octocat/Hello-World"
_EXAMPLE_API = "https://api.github.com"

# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def iso(moment: datetime) -> str:
    """Format a datetime the way GitHub does: ``YYYY-MM-DDTHH:MM:SSZ`` in UTC."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def node_id(kind: str, ident: int) -> str:
    """Legacy GraphQL node id, e.g. ``node_id("User", 1) == "MDQ6VXNlcjE="``."""
    return base64.b64encode(f"0{len(kind)}:{kind}{ident}".encode()).decode()


def fake_sha(*parts: object) -> str:
    """Deterministic 40-hex commit sha derived from ``parts``."""
    return hashlib.sha1("/".join(map(str, parts)).encode()).hexdigest()


def rebase(value: Any, pairs: tuple[tuple[str, str], ...]) -> Any:
    """Deep-copy ``value`` replacing substrings of every string (URL rewriting)."""
    if isinstance(value, str):
        for old, new in pairs:
            if old in value:
                value = value.replace(old, new)
        return value
    if isinstance(value, dict):
        return {key: rebase(item, pairs) for key, item in value.items()}
    if isinstance(value, list):
        return [rebase(item, pairs) for item in value]
    return value


def overlay(template: JSON, values: JSON) -> JSON:
    """Template keys in template order, taking ``values`` where given (extra keys appended)."""
    out = {key: values.get(key, template[key]) for key in template}
    for key, item in values.items():
        if key not in out:
            out[key] = item
    return out


class Cached:
    """Mixin: per-object cache of rendered JSON, dropped whenever a field is assigned."""

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        cache = self.__dict__.get("_cache")
        if cache and name != "_cache":
            cache.clear()

    def cached(self, key: tuple[Any, ...], make: Callable[[], Any]) -> Any:
        """Return ``make()`` memoised under ``key`` until the object is modified."""
        cache: dict[tuple[Any, ...], Any] | None = self.__dict__.get("_cache")
        if cache is None:
            cache = {}
            object.__setattr__(self, "_cache", cache)
        if key not in cache:
            cache[key] = make()
        return cache[key]

    def clear_cache(self) -> None:
        """Forget rendered JSON (needed only after in-place mutation of a nested list)."""
        self.__dict__.pop("_cache", None)


# --------------------------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------------------------


@dataclass(eq=False)
class FakeUser(Cached):
    """A GitHub account; ``type`` is ``"User"`` or ``"Bot"`` (or ``"Organization"``)."""

    login: str
    id: int
    type: str = "User"


@dataclass(eq=False)
class FakeStatus(Cached):
    """One deployment status (``state``: in_progress, success, failure, inactive, ...)."""

    id: int
    state: str
    creator: FakeUser
    created_at: datetime
    description: str = ""


@dataclass(eq=False)
class FakeRun(Cached):
    """A workflow run as listed by ``/actions/runs`` (its latest attempt)."""

    id: int
    repo: str
    name: str
    event: str
    status: str
    conclusion: str | None
    head_branch: str
    head_sha: str
    run_attempt: int
    actor: FakeUser
    triggering_actor: FakeUser
    created_at: datetime
    updated_at: datetime
    run_started_at: datetime
    run_number: int = 1
    workflow_id: int = 0
    path: str = ""
    display_title: str = ""
    previous_attempt_conclusion: str = "failure"

    @property
    def check_suite_id(self) -> int:
        """Stable fake check-suite id."""
        return self.id // 3 + 1_000_000


@dataclass(eq=False)
class FakeDeployment(Cached):
    """A deployment; ``run_id`` set means it was made by GitHub Actions for that run."""

    id: int
    repo: str
    environment: str
    ref: str
    sha: str
    creator: FakeUser
    created_at: datetime
    run_id: int | None
    statuses: list[FakeStatus] = field(default_factory=list)
    job_id: int | None = None
    task: str = "deploy"
    description: str | None = None
    payload: JSON = field(default_factory=dict)
    transient_environment: bool = False
    target_url: str = ""

    @property
    def production_environment(self) -> bool:
        """GitHub marks the environment named ``production`` as production."""
        return self.environment == "production"

    @property
    def actions_job_url(self) -> str | None:
        """``https://github.com/o/r/actions/runs/{run}/job/{job}`` path part (no host)."""
        if self.run_id is None:
            return None
        return f"actions/runs/{self.run_id}/job/{self.job_id or self.run_id * 3}"

    def updated_at(self) -> datetime:
        """The deployment's ``updated_at``: its newest status, else its creation."""
        return max([self.created_at, *(status.created_at for status in self.statuses)])


@dataclass(eq=False)
class FakeApproval(Cached):
    """One entry of ``/actions/runs/{id}/approvals`` (state ``approved`` or ``rejected``)."""

    run_id: int
    user: FakeUser
    state: str
    comment: str
    environments: list[str]


@dataclass(eq=False)
class FakeReview(Cached):
    """A pull-request review (APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED)."""

    id: int
    user: FakeUser
    state: str
    submitted_at: datetime
    commit_id: str
    body: str = ""


@dataclass(eq=False)
class FakePull(Cached):
    """A merged pull request with its reviews (oldest first)."""

    number: int
    repo: str
    author: FakeUser
    merge_commit_sha: str | None
    merged_at: datetime | None
    head_ref: str
    base_ref: str = "main"
    reviews: list[FakeReview] = field(default_factory=list)
    id: int = 0
    title: str = ""
    created_at: datetime | None = None
    head_sha: str = ""
    merged_by: FakeUser | None = None

    def __post_init__(self) -> None:
        if not self.id:
            self.id = 1_500_000_000 + self.number * 7 + len(self.repo)
        if not self.head_sha:
            self.head_sha = fake_sha(self.repo, "pull", self.number, "head")
        if not self.title:
            self.title = f"Change {self.head_ref}"
        if self.created_at is None:
            base_time = self.merged_at or datetime(2026, 1, 1, tzinfo=UTC)
            self.created_at = base_time - timedelta(days=1)

    @property
    def opened_at(self) -> datetime:
        """``created_at`` (always set after init)."""
        return self.created_at or datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(eq=False)
class FakeRepo(Cached):
    """A repository and everything the fake serves for it.

    Mutate through :meth:`add_run`, :meth:`add_deployment`, :meth:`add_status`,
    :meth:`add_approval`, :meth:`add_pull` and :meth:`add_tag`; they keep the indexes and
    caches right and
    hold the org's lock (the one the server renders under).  For other edits of served data,
    hold ``org.lock`` yourself.
    """

    name: str
    id: int
    runs: dict[int, FakeRun] = field(default_factory=dict)
    deployments: dict[int, FakeDeployment] = field(default_factory=dict)
    approvals: dict[int, list[FakeApproval]] = field(default_factory=dict)
    pulls: dict[int, FakePull] = field(default_factory=dict)
    commit_pulls: dict[str, list[int]] = field(default_factory=dict)
    environments: dict[str, int] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)  # tag name -> the commit it points at
    owner: str = ""
    owner_id: int = 0
    visibility: str = "private"
    description: str | None = None
    created_at: datetime = datetime(2024, 3, 1, tzinfo=UTC)
    default_branch: str = "main"
    _version: int = field(default=0, repr=False)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def touch(self) -> None:
        """Bump the version so sorted views are rebuilt."""
        object.__setattr__(self, "_version", self._version + 1)

    def add_run(self, run: FakeRun) -> FakeRun:
        """Add (or replace) a run."""
        with self.lock:
            self.runs[run.id] = run
            self.touch()
        return run

    def add_deployment(self, deployment: FakeDeployment) -> FakeDeployment:
        """Add a deployment; its environment is registered if new."""
        with self.lock:
            self.deployments[deployment.id] = deployment
            self.environment_id(deployment.environment)
            self.touch()
        return deployment

    def add_status(self, deployment: FakeDeployment, status: FakeStatus) -> FakeStatus:
        """Append a status to a deployment (changes the deployment's ``updated_at``)."""
        with self.lock:
            deployment.statuses.append(status)
            deployment.clear_cache()
            self.touch()
        return status

    def add_approval(self, approval: FakeApproval) -> FakeApproval:
        """Record an environment approval/rejection for ``approval.run_id``."""
        with self.lock:
            self.approvals.setdefault(approval.run_id, []).append(approval)
            for env in approval.environments:
                self.environment_id(env)
            self.touch()
        return approval

    def add_pull(self, pull: FakePull) -> FakePull:
        """Add a PR and index its head and merge commits for ``/commits/{sha}/pulls``."""
        with self.lock:
            self.pulls[pull.number] = pull
            for sha in (pull.merge_commit_sha, pull.head_sha):
                if sha and pull.number not in self.commit_pulls.setdefault(sha, []):
                    self.commit_pulls[sha].append(pull.number)
            self.touch()
        return pull

    def add_tag(self, name: str, sha: str) -> None:
        """Create (or move) tag ``name`` to commit ``sha``."""
        with self.lock:
            self.tags[name] = sha
            self.touch()

    def sorted_tags(self) -> list[tuple[str, str]]:
        """(name, sha) by name, last first (GitHub's order for ``/tags`` is its own)."""
        return list(self._view("tags", lambda: sorted(self.tags.items(), reverse=True)))

    def environment_id(self, name: str) -> int:
        """Return (creating if needed) the id of environment ``name``."""
        if name not in self.environments:
            self.environments[name] = 160_000_000 + self.id % 100_000 * 10 + len(self.environments)
        return self.environments[name]

    def _view(self, name: str, make: Callable[[], Any]) -> Any:
        """Derived view rebuilt when the repo changed (add_* or direct dict edits)."""
        key = (
            self._version,
            len(self.runs),
            len(self.deployments),
            len(self.pulls),
            len(self.commit_pulls),
            len(self.tags),
        )
        views: dict[str, tuple[tuple[int, ...], Any]] = self.__dict__.setdefault("_views", {})
        hit = views.get(name)
        if hit is None or hit[0] != key:
            hit = (key, make())
            views[name] = hit
        return hit[1]

    def sorted_runs(self) -> list[FakeRun]:
        """Runs newest first (GitHub's order)."""
        return list(
            self._view(
                "runs",
                lambda: sorted(
                    self.runs.values(), key=lambda r: (r.created_at, r.id), reverse=True
                ),
            )
        )

    def sorted_deployments(self) -> list[FakeDeployment]:
        """Deployments newest first."""
        return list(
            self._view(
                "deployments",
                lambda: sorted(
                    self.deployments.values(), key=lambda d: (d.created_at, d.id), reverse=True
                ),
            )
        )

    def known_shas(self) -> set[str]:
        """Commits the repo knows about (others get 422 from ``/commits/{sha}/pulls``)."""

        def build() -> set[str]:
            shas = {run.head_sha for run in self.runs.values()}
            shas.update(dep.sha for dep in self.deployments.values())
            shas.update(self.commit_pulls)
            shas.update(self.tags.values())
            return shas

        return set(self._view("shas", build))


@dataclass(eq=False)
class FakeOrg(Cached):
    """An organisation: repos by name, teams (slug -> member logins) and a lock for mutation."""

    login: str
    repos: dict[str, FakeRepo] = field(default_factory=dict)
    teams: dict[str, set[str]] = field(default_factory=dict)
    id: int = 9_000_001
    team_maintainers: dict[str, set[str]] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def __post_init__(self) -> None:
        for repo in self.repos.values():
            self._adopt(repo)

    def _adopt(self, repo: FakeRepo) -> None:
        repo.owner = self.login
        repo.owner_id = self.id
        repo.lock = self.lock  # the server renders under this lock

    def add_repo(self, repo: FakeRepo) -> FakeRepo:
        """Add a repository to the org."""
        with self.lock:
            self._adopt(repo)
            self.repos[repo.name] = repo
        return repo

    def find_repo(self, name: str) -> FakeRepo | None:
        """Case-insensitive repo lookup (GitHub names are case-insensitive)."""
        repo = self.repos.get(name)
        if repo is not None:
            return repo
        lowered = name.lower()
        return next((r for r in self.repos.values() if r.name.lower() == lowered), None)

    def team_id(self, slug: str) -> int:
        """Stable fake team id."""
        return 3_000_000 + int(fake_sha(self.login, slug)[:6], 16) % 1_000_000

    def as_user(self) -> FakeUser:
        """The org as an owner object (``type: Organization``)."""
        return FakeUser(self.login, self.id, "Organization")


# --------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------

_USER_CACHE: dict[tuple[str, int, str, str], JSON] = {}


def render_user(user: FakeUser, base: str) -> JSON:
    """simple-user shape; bots get ``%5Bbot%5D`` API URLs and ``/apps/<name>`` html URLs."""
    key = (user.login, user.id, user.type, base)
    cached = _USER_CACHE.get(key)
    if cached is not None:
        return cached
    template = TEMPLATES["simple_user"]
    api = f"{base}/users/{quote(user.login)}"
    if user.type == "Bot":
        html = f"https://github.com/apps/{user.login.removesuffix('[bot]')}"
    else:
        html = f"https://github.com/{user.login}"
    kind = {"Bot": "Bot", "Organization": "Organization"}.get(user.type, "User")
    rendered: JSON = rebase(template, ((f"{_EXAMPLE_API}/users/octocat", api),))
    rendered.update(
        login=user.login,
        id=user.id,
        node_id=node_id(kind, user.id),
        avatar_url=f"https://avatars.githubusercontent.com/u/{user.id}?v=4",
        html_url=html,
        type=user.type,
        site_admin=False,
    )
    _USER_CACHE[key] = rendered
    return rendered


def _repo_pairs(repo: FakeRepo, base: str) -> tuple[tuple[str, str], ...]:
    full = f"{repo.owner}/{repo.name}"
    pairs: list[tuple[str, str]] = []
    for api in (_EXAMPLE_API, "http://api.github.com"):  # one spec example says http://
        pairs += [
            (f"{api}/repos/{_EXAMPLE_REPO}", f"{base}/repos/{full}"),
            (f"{api}/users/octocat", f"{base}/users/{repo.owner}"),
            (api, base),
        ]
    pairs += [("git:github.com/", "git://github.com/"), (_EXAMPLE_REPO, full)]
    return tuple(pairs)


def _repo_identity(repo: FakeRepo, base: str) -> JSON:
    owner = FakeUser(repo.owner, repo.owner_id, "Organization")
    created = iso(repo.created_at)
    return {
        "id": repo.id,
        "node_id": node_id("Repository", repo.id),
        "name": repo.name,
        "full_name": f"{repo.owner}/{repo.name}",
        "owner": render_user(owner, base),
        "organization": render_user(owner, base),
        "private": repo.visibility != "public",
        "visibility": repo.visibility,
        "description": repo.description,
        "fork": False,
        "mirror_url": None,
        "svn_url": f"https://github.com/{repo.owner}/{repo.name}",
        "homepage": None,
        "language": "Python",
        "default_branch": repo.default_branch,
        "topics": [],
        "is_template": False,
        "template_repository": None,
        "forks_count": 0,
        "forks": 0,
        "stargazers_count": 0,
        "watchers_count": 0,
        "watchers": 0,
        "open_issues_count": 0,
        "open_issues": 0,
        "created_at": created,
        "updated_at": created,
        "pushed_at": created,
        "permissions": {
            "admin": False,
            "maintain": False,
            "push": False,
            "triage": True,
            "pull": True,
        },
    }


def render_repo_from(template: JSON, repo: FakeRepo, base: str) -> JSON:
    """Fill any repository-shaped template (minimal, full, head/base repo, run repo)."""
    rendered: JSON = rebase(template, _repo_pairs(repo, base))
    identity = _repo_identity(repo, base)
    for key in list(rendered):
        if key in identity:
            rendered[key] = identity[key]
    for fork_only in ("parent", "source"):
        rendered.pop(fork_only, None)
    return rendered


def _repo_part(repo: FakeRepo, base: str, template_key: str, *path: str) -> JSON:
    """Rendered repo sub-object of a template, cached on the repo."""

    def make() -> JSON:
        node: Any = TEMPLATES[template_key]
        for step in path:
            node = node[step]
        return render_repo_from(node, repo, base)

    result: JSON = repo.cached(("repo-part", base, template_key, *path), make)
    return result


def render_repo_minimal(repo: FakeRepo, base: str) -> JSON:
    """minimal-repository (``/orgs/{org}/repos`` item)."""
    return _repo_part(repo, base, "repo_minimal")


def render_repo_full(repo: FakeRepo, base: str) -> JSON:
    """full-repository (``/repos/{owner}/{repo}``)."""
    return _repo_part(repo, base, "repo_full")


def _head_commit(run: FakeRun) -> JSON:
    author = run.actor
    email = f"{author.id}+{author.login}@users.noreply.github.com"
    return {
        "id": run.head_sha,
        "tree_id": fake_sha(run.head_sha, "tree"),
        "message": run.display_title or run.name,
        "timestamp": iso(run.created_at - timedelta(seconds=30)),
        "author": {"name": author.login, "email": email},
        "committer": {"name": "GitHub", "email": "noreply@github.com"},
    }


def _attempt_view(run: FakeRun, attempt: int) -> JSON:
    """Per-attempt fields: earlier attempts are completed and triggered by the actor."""
    if attempt >= run.run_attempt:
        return {
            "status": run.status,
            "conclusion": run.conclusion,
            "triggering_actor": run.triggering_actor,
            "run_started_at": run.run_started_at,
            "updated_at": run.updated_at,
        }
    ended = max(run.created_at, run.run_started_at - timedelta(minutes=1))
    return {
        "status": "completed",
        "conclusion": run.previous_attempt_conclusion,
        "triggering_actor": run.actor,
        "run_started_at": run.created_at,
        "updated_at": ended,
    }


def render_run(
    run: FakeRun, repo: FakeRepo, base: str, *, attempt: int | None = None, detail: bool = False
) -> JSON:
    """workflow-run; ``detail`` uses the single-run shape (adds referenced_workflows etc.)."""
    number = attempt or run.run_attempt
    template = TEMPLATES["run_get" if detail else "run_list"]
    api = f"{base}/repos/{repo.owner}/{repo.name}"
    run_api = f"{api}/actions/runs/{run.id}"
    view = _attempt_view(run, number)
    previous = f"{run_api}/attempts/{number - 1}" if number > 1 else None
    values: JSON = {
        "id": run.id,
        "name": run.name,
        "node_id": node_id("WorkflowRun", run.id),
        "check_suite_id": run.check_suite_id,
        "check_suite_node_id": node_id("CheckSuite", run.check_suite_id),
        "head_branch": run.head_branch,
        "head_sha": run.head_sha,
        "path": run.path or ".github/workflows/ci.yml",
        "run_number": run.run_number,
        "event": run.event,
        "display_title": run.display_title or run.name,
        "status": view["status"],
        "conclusion": view["conclusion"],
        "workflow_id": run.workflow_id,
        "url": run_api,
        "html_url": f"https://github.com/{repo.owner}/{repo.name}/actions/runs/{run.id}",
        "pull_requests": [],
        "created_at": iso(run.created_at),
        "updated_at": iso(view["updated_at"]),
        "actor": render_user(run.actor, base),
        "run_attempt": number,
        "referenced_workflows": [],
        "run_started_at": iso(view["run_started_at"]),
        "triggering_actor": render_user(view["triggering_actor"], base),
        "jobs_url": f"{run_api}/jobs",
        "logs_url": f"{run_api}/logs",
        "check_suite_url": f"{api}/check-suites/{run.check_suite_id}",
        "artifacts_url": f"{run_api}/artifacts",
        "cancel_url": f"{run_api}/cancel",
        "rerun_url": f"{run_api}/rerun",
        "previous_attempt_url": previous,
        "workflow_url": f"{api}/actions/workflows/{run.workflow_id}",
        "head_commit": _head_commit(run),
        "repository": _repo_part(repo, base, template_key(detail), "repository"),
        "head_repository": _repo_part(repo, base, template_key(detail), "head_repository"),
    }
    return {key: values[key] for key in template}


def template_key(detail: bool) -> str:
    """Template name of the run shape."""
    return "run_get" if detail else "run_list"


_APP_CACHE: dict[str, JSON] = {}


def actions_app(base: str) -> JSON:
    """The GitHub Actions app object (``performed_via_github_app`` of Actions deployments)."""
    if base not in _APP_CACHE:
        _APP_CACHE[base] = rebase(TEMPLATES["actions_app"], ((_EXAMPLE_API, base),))
    return _APP_CACHE[base]


def render_deployment(deployment: FakeDeployment, repo: FakeRepo, base: str) -> JSON:
    """deployment; Actions-made ones carry ``performed_via_github_app`` = GitHub Actions."""
    api = f"{base}/repos/{repo.owner}/{repo.name}"
    by_actions = deployment.run_id is not None
    values: JSON = {
        "url": f"{api}/deployments/{deployment.id}",
        "id": deployment.id,
        "node_id": node_id("Deployment", deployment.id),
        "sha": deployment.sha,
        "ref": deployment.ref,
        "task": deployment.task,
        "payload": {} if by_actions else deployment.payload,
        "original_environment": deployment.environment,
        "environment": deployment.environment,
        "description": deployment.description,
        "creator": render_user(deployment.creator, base),
        "created_at": iso(deployment.created_at),
        "updated_at": iso(deployment.updated_at()),
        "statuses_url": f"{api}/deployments/{deployment.id}/statuses",
        "repository_url": api,
        "transient_environment": deployment.transient_environment,
        "production_environment": deployment.production_environment,
        "performed_via_github_app": actions_app(base) if by_actions else None,
    }
    return overlay(TEMPLATES["deployment"], values)


def render_tag(name: str, sha: str, repo: FakeRepo, base: str) -> JSON:
    """tag (``GET /repos/{owner}/{repo}/tags``): its name and the commit it points at."""
    full = f"{repo.owner}/{repo.name}"
    values: JSON = {
        "name": name,
        "commit": {"sha": sha, "url": f"{base}/repos/{full}/commits/{sha}"},
        "zipball_url": f"https://github.com/{full}/zipball/{name}",
        "tarball_url": f"https://github.com/{full}/tarball/{name}",
        "node_id": base64.b64encode(f"0:Ref{repo.id}:refs/tags/{name}".encode()).decode(),
    }
    return overlay(TEMPLATES["tag"], values)


def render_status(
    status: FakeStatus, deployment: FakeDeployment, repo: FakeRepo, base: str
) -> JSON:
    """deployment-status; Actions statuses link ``log_url``/``target_url`` to the run's job."""
    api = f"{base}/repos/{repo.owner}/{repo.name}"
    job_path = deployment.actions_job_url
    link = f"https://github.com/{repo.owner}/{repo.name}/{job_path}" if job_path else ""
    target = link or deployment.target_url
    values: JSON = {
        "url": f"{api}/deployments/{deployment.id}/statuses/{status.id}",
        "id": status.id,
        "node_id": node_id("DeploymentStatus", status.id),
        "state": status.state,
        "creator": render_user(status.creator, base),
        "description": status.description,
        "environment": deployment.environment,
        "target_url": target,
        "created_at": iso(status.created_at),
        "updated_at": iso(status.created_at),
        "deployment_url": f"{api}/deployments/{deployment.id}",
        "repository_url": api,
        "environment_url": "",
        "log_url": target,
        "performed_via_github_app": actions_app(base) if job_path else None,
    }
    return overlay(TEMPLATES["status"], values)


def render_environment(repo: FakeRepo, name: str, base: str) -> JSON:
    """The environment object embedded in approvals."""
    env_id = repo.environment_id(name)
    created = iso(repo.created_at)
    values: JSON = {
        "id": env_id,
        "node_id": node_id("Environment", env_id),
        "name": name,
        "url": f"{base}/repos/{repo.owner}/{repo.name}/environments/{quote(name)}",
        "html_url": (
            f"https://github.com/{repo.owner}/{repo.name}/deployments/activity_log"
            f"?environments_filter={quote(name)}"
        ),
        "created_at": created,
        "updated_at": created,
    }
    return overlay(TEMPLATES["environment"], values)


def render_approval(approval: FakeApproval, repo: FakeRepo, base: str) -> JSON:
    """environment-approvals item."""
    values: JSON = {
        "state": approval.state,
        "comment": approval.comment,
        "environments": [render_environment(repo, env, base) for env in approval.environments],
        "user": render_user(approval.user, base),
    }
    return overlay(TEMPLATES["approval"], values)


def _pull_pairs(pull: FakePull, repo: FakeRepo, base: str) -> tuple[tuple[str, str], ...]:
    api = f"{base}/repos/{repo.owner}/{repo.name}"
    html = f"https://github.com/{repo.owner}/{repo.name}"
    example_head = TEMPLATES["pull_simple"]["head"]["sha"]
    return (
        (f"{_EXAMPLE_API}/repos/{_EXAMPLE_REPO}/pulls/1347", f"{api}/pulls/{pull.number}"),
        (f"{_EXAMPLE_API}/repos/{_EXAMPLE_REPO}/issues/1347", f"{api}/issues/{pull.number}"),
        (f"https://github.com/{_EXAMPLE_REPO}/pull/1347", f"{html}/pull/{pull.number}"),
        (example_head, pull.head_sha),
        *_repo_pairs(repo, base),
    )


def _pull_branch(pull: FakePull, repo: FakeRepo, base: str, template_key: str, side: str) -> JSON:
    ref = pull.head_ref if side == "head" else pull.base_ref
    sha = pull.head_sha if side == "head" else fake_sha(repo.name, "base", pull.number)
    return {
        "label": f"{repo.owner}:{ref}",
        "ref": ref,
        "sha": sha,
        "user": render_user(FakeUser(repo.owner, repo.owner_id, "Organization"), base),
        "repo": _repo_part(repo, base, template_key, side, "repo"),
    }


def _author_association(user: FakeUser) -> str:
    return "NONE" if user.type == "Bot" else "MEMBER"


def _pull_values(pull: FakePull, repo: FakeRepo, base: str, template_key: str) -> JSON:
    merged = iso(pull.merged_at) if pull.merged_at else None
    return {
        "id": pull.id,
        "node_id": node_id("PullRequest", pull.id),
        "number": pull.number,
        "state": "closed" if pull.merged_at else "open",
        "locked": False,
        "title": pull.title,
        "user": render_user(pull.author, base),
        "body": f"{pull.title}.",
        "labels": [],
        "milestone": None,
        "active_lock_reason": None,
        "created_at": iso(pull.opened_at),
        "updated_at": merged or iso(pull.opened_at),
        "closed_at": merged,
        "merged_at": merged,
        "merge_commit_sha": pull.merge_commit_sha,
        "assignee": None,
        "assignees": [],
        "requested_reviewers": [],
        "requested_teams": [],
        "head": _pull_branch(pull, repo, base, template_key, "head"),
        "base": _pull_branch(pull, repo, base, template_key, "base"),
        "author_association": _author_association(pull.author),
        "auto_merge": None,
        "draft": False,
    }


def render_pull_simple(pull: FakePull, repo: FakeRepo, base: str) -> JSON:
    """pull-request-simple (``/commits/{sha}/pulls`` item)."""
    template = TEMPLATES["pull_simple"]
    skeleton = {key: value for key, value in template.items() if key not in ("head", "base")}
    rendered = rebase(skeleton, _pull_pairs(pull, repo, base))
    rendered.update(_pull_values(pull, repo, base, "pull_simple"))
    return {key: rendered[key] for key in template}


def render_pull_full(pull: FakePull, repo: FakeRepo, base: str) -> JSON:
    """pull-request (``/pulls/{number}``)."""
    template = TEMPLATES["pull_full"]
    skeleton = {key: value for key, value in template.items() if key not in ("head", "base")}
    rendered = rebase(skeleton, _pull_pairs(pull, repo, base))
    rendered.update(_pull_values(pull, repo, base, "pull_full"))
    merger = pull.merged_by or pull.author
    rendered.update(
        merged=pull.merged_at is not None,
        mergeable=None if pull.merged_at else True,
        rebaseable=None if pull.merged_at else True,
        mergeable_state="unknown" if pull.merged_at else "clean",
        merged_by=render_user(merger, base) if pull.merged_at else None,
        comments=0,
        review_comments=0,
        commits=1,
        additions=10,
        deletions=2,
        changed_files=1,
    )
    return {key: rendered[key] for key in template}


def render_review(review: FakeReview, pull: FakePull, repo: FakeRepo, base: str) -> JSON:
    """pull-request-review."""
    html = f"https://github.com/{repo.owner}/{repo.name}/pull/{pull.number}"
    pull_api = f"{base}/repos/{repo.owner}/{repo.name}/pulls/{pull.number}"
    review_html = f"{html}#pullrequestreview-{review.id}"
    values: JSON = {
        "id": review.id,
        "node_id": node_id("PullRequestReview", review.id),
        "user": render_user(review.user, base),
        "body": review.body,
        "state": review.state,
        "html_url": review_html,
        "pull_request_url": pull_api,
        "_links": {"html": {"href": review_html}, "pull_request": {"href": pull_api}},
        "submitted_at": iso(review.submitted_at),
        "commit_id": review.commit_id,
        "author_association": _author_association(review.user),
    }
    return overlay(TEMPLATES["review"], values)


def render_team_membership(org: FakeOrg, slug: str, login: str, base: str) -> JSON:
    """team-membership (``role`` member/maintainer, ``state`` active)."""
    role = "maintainer" if login in org.team_maintainers.get(slug, set()) else "member"
    values: JSON = {
        "url": f"{base}/teams/{org.team_id(slug)}/memberships/{quote(login)}",
        "role": role,
        "state": "active",
    }
    return overlay(TEMPLATES["team_membership"], values)


def render_org_full(org: FakeOrg, base: str) -> JSON:
    """organization-full (``GET /orgs/{org}``), as a client with default settings reads it
    before listing the org's repositories."""
    api = f"{base}/orgs/{quote(org.login)}"
    rendered: JSON = rebase(TEMPLATES["org_full"], ((f"{_EXAMPLE_API}/orgs/github", api),))
    private = sum(1 for repo in org.repos.values() if repo.visibility != "public")
    rendered.update(
        login=org.login,
        id=org.id,
        node_id=node_id("Organization", org.id),
        avatar_url=f"https://avatars.githubusercontent.com/u/{org.id}?v=4",
        name=org.login,
        html_url=f"https://github.com/{org.login}",
        public_repos=len(org.repos) - private,
        total_private_repos=private,
        owned_private_repos=private,
    )
    return rendered


def render_private_user(user: FakeUser, base: str) -> JSON:
    """private-user (``/user``) for the token's owner."""
    rendered: JSON = rebase(
        TEMPLATES["private_user"],
        ((f"{_EXAMPLE_API}/users/octocat", f"{base}/users/{quote(user.login)}"),),
    )
    rendered.update(render_user(user, base))
    rendered.update(
        name=user.login,
        company=None,
        blog="",
        location=None,
        email=None,
        bio=None,
        twitter_username=None,
    )
    return rendered


def render_rate_limit(limit: int, remaining: int, reset: int) -> JSON:
    """rate-limit-overview with live ``core`` (and ``rate``) numbers."""
    template = TEMPLATES["rate_limit"]
    core = {"limit": limit, "used": limit - remaining, "remaining": remaining, "reset": reset}
    resources = dict(template["resources"])
    resources["core"] = core
    return {"resources": resources, "rate": dict(core)}


# --------------------------------------------------------------------------------------------
# Counting
# --------------------------------------------------------------------------------------------


def expected_counts(org: FakeOrg) -> dict[str, int]:
    """Totals a complete collection of ``org`` must reach."""
    repos = list(org.repos.values())
    deployments = [dep for repo in repos for dep in repo.deployments.values()]
    pulls = [pull for repo in repos for pull in repo.pulls.values()]
    return {
        "repos": len(repos),
        "runs": sum(len(repo.runs) for repo in repos),
        "run_attempts": sum(run.run_attempt for repo in repos for run in repo.runs.values()),
        "runs_with_deployments": sum(
            len({dep.run_id for dep in repo.deployments.values() if dep.run_id is not None})
            for repo in repos
        ),
        "deployments": len(deployments),
        "statuses": sum(len(dep.statuses) for dep in deployments),
        "approvals": sum(len(items) for repo in repos for items in repo.approvals.values()),
        "pulls": len(pulls),
        "reviews": sum(len(pull.reviews) for pull in pulls),
        "tags": sum(len(repo.tags) for repo in repos),
    }


# --------------------------------------------------------------------------------------------
# Generator
# --------------------------------------------------------------------------------------------

HUMAN_LOGINS = (
    "alice-ops",
    "bob-dev",
    "carol-sre",
    "dave-eng",
    "erin-qa",
    "frank-dev",
    "grace-lead",
    "heidi-sec",
    "ivan-dev",
    "judy-pm",
    "mallory-ext",
    "oscar-dev",
)
RELEASE_MANAGERS = HUMAN_LOGINS[:5]
BOTS = (("dependabot[bot]", 49699333), ("renovate[bot]", 29139614))
REPO_WORDS = (
    "api",
    "web",
    "billing",
    "auth",
    "search",
    "payments",
    "mobile-backend",
    "infra",
    "notifications",
    "analytics",
    "gateway",
    "catalog",
    "checkout",
    "inventory",
    "reports",
    "identity",
    "scheduler",
    "ledger",
    "docs",
    "frontend",
)
COMMIT_MESSAGES = (
    "Fix flaky test",
    "Bump version",
    "Add retry to client",
    "Refactor config loading",
    "Update README.md",
    "Tune timeouts",
    "Add metrics endpoint",
    "Handle empty payloads",
)
APPROVE_COMMENTS = ("Ship it!", "LGTM", "", "Approved for release", "go")
REJECT_COMMENTS = ("Not during the freeze", "Canary is failing", "Wrong build")
WORKFLOWS = {  # name -> (file, id offset)
    "CI": ("ci.yml", 1),
    "Deploy": ("deploy.yml", 2),
    "Nightly": ("nightly.yml", 3),
    "Release": ("release.yml", 4),
}
RUN_EVERY = timedelta(minutes=37)
RELEASE_EVERY = 5  # every fifth Deploy run of a repository deploys a release tag


class _Ids:
    """Monotonic id sequences with random gaps (ids look like GitHub's large int64s)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.next = {
            "run": 21_000_000_000,
            "deployment": 2_100_000_000,
            "status": 5_000_000_000,
            "review": 2_000_000_000,
            "job": 58_000_000_000,
        }

    def take(self, kind: str) -> int:
        value = self.next[kind]
        self.next[kind] = value + self.rng.randint(1, 97)
        return value


@dataclass
class _Plan:
    """A run slot decided in the first generator pass."""

    repo: FakeRepo
    index: int
    created_at: datetime
    deploys: bool


@dataclass
class _Gen:
    """Generator state (one per :func:`generate_org` call)."""

    org: FakeOrg
    rng: random.Random
    ids: _Ids
    humans: list[FakeUser]
    bots: list[FakeUser]
    run_numbers: dict[tuple[str, str], int] = field(default_factory=dict)
    pull_numbers: dict[str, int] = field(default_factory=dict)
    last_good: dict[tuple[str, str], FakeDeployment] = field(default_factory=dict)

    def human(self, *exclude: FakeUser) -> FakeUser:
        return self.rng.choice([u for u in self.humans if u not in exclude])

    def release_manager(self, *exclude: FakeUser) -> FakeUser:
        pool = [u for u in self.humans if u.login in RELEASE_MANAGERS and u not in exclude]
        return self.rng.choice(pool)


def _repo_names(count: int) -> list[str]:
    return [
        REPO_WORDS[i % len(REPO_WORDS)]
        + (f"-{i // len(REPO_WORDS) + 1}" if i >= len(REPO_WORDS) else "")
        for i in range(count)
    ]


def _plans(gen: _Gen, runs_per_repo: int, deploy_fraction: float, start: datetime) -> list[_Plan]:
    plans: list[_Plan] = []
    repos = list(gen.org.repos.values())
    deploy_count = round(runs_per_repo * deploy_fraction)
    for r_index, repo in enumerate(repos):
        offset = RUN_EVERY * r_index / max(len(repos), 1)
        deploying = set(gen.rng.sample(range(runs_per_repo), min(deploy_count, runs_per_repo)))
        for i in range(runs_per_repo):
            jitter = timedelta(seconds=gen.rng.randint(0, 600))
            created = start + RUN_EVERY * i + offset + jitter
            plans.append(_Plan(repo, i, created.replace(microsecond=0), i in deploying))
    plans.sort(key=lambda p: (p.created_at, p.repo.id))
    return plans


def _new_run(
    gen: _Gen, plan: _Plan, workflow: str, event: str, actor: FakeUser, branch: str, title: str
) -> FakeRun:
    repo = plan.repo
    file_name, offset = WORKFLOWS[workflow]
    key = (repo.name, workflow)
    gen.run_numbers[key] = gen.run_numbers.get(key, 0) + 1
    started = plan.created_at + timedelta(seconds=gen.rng.randint(2, 40))
    run = FakeRun(
        id=gen.ids.take("run"),
        repo=repo.name,
        name=workflow,
        event=event,
        status="completed",
        conclusion="success",
        head_branch=branch,
        head_sha=fake_sha(repo.name, plan.index, branch),
        run_attempt=1,
        actor=actor,
        triggering_actor=actor,
        created_at=plan.created_at,
        updated_at=started + timedelta(minutes=gen.rng.randint(2, 25)),
        run_started_at=started,
        run_number=gen.run_numbers[key],
        workflow_id=repo.id % 1_000_000 * 10 + offset,
        path=f".github/workflows/{file_name}",
        display_title=title,
    )
    return run


def _plain_run(gen: _Gen, plan: _Plan) -> FakeRun:
    rng = gen.rng
    event = rng.choices(
        ["push", "pull_request", "workflow_dispatch", "schedule"], weights=[45, 35, 8, 12]
    )[0]
    message = rng.choice(COMMIT_MESSAGES)
    actor = gen.human()
    branch = "main"
    workflow = "CI"
    if event == "pull_request" and rng.random() < 0.2:
        actor = rng.choice(gen.bots)
        branch = f"{actor.login.removesuffix('[bot]')}/pip/package-{rng.randint(1, 40)}"
        message = f"Bump package-{rng.randint(1, 40)} from 1.{rng.randint(0, 9)} to 2.0"
    elif event in ("pull_request", "push") and rng.random() < 0.5:
        branch = f"feature/{rng.choice(REPO_WORDS)}-{rng.randint(1, 999)}"
    elif event == "schedule":
        workflow, message, actor = "Nightly", "Nightly", gen.humans[plan.repo.id % 3]
    elif event == "workflow_dispatch":
        workflow, message = "Release", "Release"
    run = _new_run(gen, plan, workflow, event, actor, branch, message)
    run.conclusion = rng.choices(
        ["success", "failure", "cancelled", "skipped"], weights=[82, 12, 4, 2]
    )[0]
    return run


def _maybe_rerun(gen: _Gen, run: FakeRun) -> None:
    """About 5% of runs are re-run once by someone else."""
    if gen.rng.random() >= 0.05:
        return
    run.run_attempt = 2
    run.triggering_actor = gen.human(run.actor)
    run.previous_attempt_conclusion = "failure"
    run.run_started_at = run.updated_at + timedelta(minutes=gen.rng.randint(5, 120))
    run.updated_at = run.run_started_at + timedelta(minutes=gen.rng.randint(2, 20))


def _status(gen: _Gen, deployment: FakeDeployment, state: str, at: datetime) -> FakeStatus:
    status = FakeStatus(
        gen.ids.take("status"),
        state,
        deployment.creator,
        at,
        "" if state != "inactive" else "Superseded by a newer deployment",
    )
    deployment.statuses.append(status)
    return status


def _deployment(
    gen: _Gen, run: FakeRun, env: str, creator: FakeUser, at: datetime
) -> FakeDeployment:
    repo = gen.org.repos[run.repo]
    deployment = FakeDeployment(
        id=gen.ids.take("deployment"),
        repo=run.repo,
        environment=env,
        ref=run.head_branch,
        sha=run.head_sha,
        creator=creator,
        created_at=at,
        run_id=run.id,
        job_id=gen.ids.take("job"),
    )
    repo.add_deployment(deployment)
    return deployment


def _finish(gen: _Gen, deployment: FakeDeployment, approved_at: datetime, ok: bool) -> datetime:
    """in_progress then success/failure; success supersedes older non-production deploys."""
    _status(gen, deployment, "in_progress", approved_at)
    done = approved_at + timedelta(minutes=gen.rng.randint(2, 10))
    _status(gen, deployment, "success" if ok else "failure", done)
    key = (deployment.repo, deployment.environment)
    if ok and not deployment.production_environment:
        previous = gen.last_good.get(key)
        if previous is not None:
            _status(gen, previous, "inactive", done + timedelta(seconds=1))
        gen.last_good[key] = deployment
    return done


def _approve(gen: _Gen, run: FakeRun, user: FakeUser, env: str, ok: bool = True) -> None:
    comment = gen.rng.choice(APPROVE_COMMENTS if ok else REJECT_COMMENTS)
    approval = FakeApproval(run.id, user, "approved" if ok else "rejected", comment, [env])
    gen.org.repos[run.repo].add_approval(approval)


def _gated_deploy(
    gen: _Gen, run: FakeRun, env: str, trigger: FakeUser, approver: FakeUser, at: datetime
) -> datetime:
    """One approved deployment; returns when it finished."""
    deployment = _deployment(gen, run, env, trigger, at)
    _approve(gen, run, approver, env)
    approved_at = at + timedelta(minutes=gen.rng.randint(1, 60))
    ok = gen.rng.random() < 0.9
    done = _finish(gen, deployment, approved_at, ok)
    if not ok:
        run.conclusion = "failure"
    return done


def _rejected_deploy(gen: _Gen, run: FakeRun, env: str, at: datetime) -> datetime:
    """Rejected, and half the time re-run by someone else and then approved."""
    deployment = _deployment(gen, run, env, run.actor, at)
    _approve(gen, run, gen.release_manager(run.actor), env, ok=False)
    rejected_at = at + timedelta(minutes=gen.rng.randint(1, 30))
    _status(gen, deployment, "failure", rejected_at)
    run.conclusion = "failure"
    if gen.rng.random() >= 0.5:
        return rejected_at
    run.run_attempt = 2
    run.triggering_actor = gen.human(run.actor)
    run.previous_attempt_conclusion = "failure"
    run.run_started_at = rejected_at + timedelta(minutes=gen.rng.randint(10, 120))
    run.conclusion = "success"
    approver = gen.release_manager(run.triggering_actor)
    again = run.run_started_at + timedelta(seconds=gen.rng.randint(30, 90))
    return _gated_deploy(gen, run, env, run.triggering_actor, approver, again)


def _deploy_run(gen: _Gen, plan: _Plan) -> FakeRun:
    rng = gen.rng
    event = "push" if rng.random() < 0.8 else "workflow_dispatch"
    roll = rng.random()
    actor = gen.release_manager() if 0.15 <= roll < 0.25 else gen.human()
    run = _new_run(gen, plan, "Deploy", event, actor, "main", rng.choice(COMMIT_MESSAGES))
    if run.run_number % RELEASE_EVERY == 0:
        _release_tag(gen, run)
    at = run.run_started_at + timedelta(seconds=rng.randint(30, 90))
    env = "production" if rng.random() < 0.6 else "staging"
    if roll < 0.08:
        done = _gated_deploy(gen, run, "staging", actor, gen.release_manager(actor), at)
        done = _gated_deploy(gen, run, "production", actor, gen.release_manager(actor), done)
    elif roll < 0.15:
        done = _rejected_deploy(gen, run, env, at)
    elif roll < 0.25:
        done = _gated_deploy(gen, run, env, actor, actor, at)  # self-approval
    else:
        done = _gated_deploy(gen, run, env, actor, gen.release_manager(actor), at)
    run.updated_at = done + timedelta(seconds=30)
    if rng.random() < 0.9:
        _merged_pull(gen, run)
    return run


def _release_tag(gen: _Gen, run: FakeRun) -> None:
    """The run was started by a release tag, which GitHub reports as its ``head_branch``."""
    run.head_branch = f"v1.{run.run_number // RELEASE_EVERY}.0"
    gen.org.repos[run.repo].add_tag(run.head_branch, run.head_sha)


def _merged_pull(gen: _Gen, run: FakeRun) -> FakePull:
    """The merged PR whose merge commit is the deployed sha, with 0-2 reviews."""
    rng = gen.rng
    repo = gen.org.repos[run.repo]
    number = gen.pull_numbers.get(repo.name, 100 + repo.id % 700) + 1
    gen.pull_numbers[repo.name] = number
    merged_at = run.created_at - timedelta(
        minutes=rng.randint(0, 5) if run.event == "push" else rng.randint(60, 600)
    )
    author = gen.human()
    pull = FakePull(
        number=number,
        repo=repo.name,
        author=author,
        merge_commit_sha=run.head_sha,
        merged_at=merged_at,
        head_ref=f"feature/{rng.choice(REPO_WORDS)}-{number}",
        title=run.display_title,
        created_at=merged_at - timedelta(hours=rng.randint(2, 72)),
        merged_by=run.actor,
    )
    for _ in range(rng.choices([0, 1, 2], weights=[15, 55, 30])[0]):
        _review(gen, pull)
    return repo.add_pull(pull)


def _review(gen: _Gen, pull: FakePull) -> None:
    rng = gen.rng
    state = rng.choices(["APPROVED", "CHANGES_REQUESTED", "COMMENTED"], weights=[75, 15, 10])[0]
    if pull.reviews and pull.reviews[-1].state == "CHANGES_REQUESTED":
        state = "APPROVED"
    window = (pull.merged_at or pull.opened_at) - pull.opened_at
    submitted = pull.opened_at + window * rng.uniform(0.2, 0.95)
    review = FakeReview(
        gen.ids.take("review"),
        gen.human(pull.author),
        state,
        submitted.replace(microsecond=0),
        pull.head_sha,
        "" if state == "APPROVED" else "See comments.",
    )
    pull.reviews.append(review)


def _mark_running(repo: FakeRepo) -> None:
    """The newest two runs of each repo are still going (no conclusion yet)."""
    for run, status in zip(repo.sorted_runs()[:2], ("queued", "in_progress"), strict=False):
        if run.name == "Deploy":
            continue
        run.status, run.conclusion = status, None
        run.updated_at = run.run_started_at


def _make_users() -> tuple[list[FakeUser], list[FakeUser]]:
    humans = [FakeUser(login, 7_100_000 + i * 13) for i, login in enumerate(HUMAN_LOGINS)]
    bots = [FakeUser(login, ident, "Bot") for login, ident in BOTS]
    return humans, bots


def generate_org(
    org: str = "acme",
    repos: int = 20,
    runs_per_repo: int = 500,
    deploy_fraction: float = 0.1,
    seed: int = 0,
    start: datetime = datetime(2026, 1, 1, tzinfo=UTC),
) -> FakeOrg:
    """Deterministic org: ``repos`` repos x ``runs_per_repo`` runs (one every ~37 minutes).

    ``round(runs_per_repo * deploy_fraction)`` runs per repo are "Deploy" runs with
    approvals, deployments, statuses and (90% of the time) a merged PR with 0-2 reviews.
    """
    rng = random.Random(seed)
    humans, bots = _make_users()
    fake_org = FakeOrg(login=org, id=9_000_000 + seed % 1000)
    for i, name in enumerate(_repo_names(repos)):
        fake_org.add_repo(
            FakeRepo(
                name=name,
                id=800_000_000 + i * 1_009 + seed % 1000,
                description=f"The {name} service",
                visibility="internal" if i % 7 == 3 else "private",
                created_at=datetime(2024, 3, 1, tzinfo=UTC) + timedelta(days=i),
            )
        )
    fake_org.teams = {
        "release-managers": set(RELEASE_MANAGERS),
        "developers": {u.login for u in humans},
    }
    fake_org.team_maintainers = {"release-managers": {RELEASE_MANAGERS[0]}}
    gen = _Gen(fake_org, rng, _Ids(rng), humans, bots)
    for plan in _plans(gen, runs_per_repo, deploy_fraction, start):
        run = _deploy_run(gen, plan) if plan.deploys else _plain_run(gen, plan)
        if not plan.deploys:
            _maybe_rerun(gen, run)
        plan.repo.add_run(run)
    for repo in fake_org.repos.values():
        _mark_running(repo)
    return fake_org


# --------------------------------------------------------------------------------------------
# Hand-written scenario
# --------------------------------------------------------------------------------------------

ALICE = FakeUser("alice", 1001)
BOB = FakeUser("bob", 1002)
CAROL = FakeUser("carol", 1003)
DAVE = FakeUser("dave", 1004)
DEPENDABOT = FakeUser("dependabot[bot]", 49699333, "Bot")
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def _srun(
    run_id: int,
    repo: str,
    name: str,
    event: str,
    actor: FakeUser,
    minute: int,
    conclusion: str | None = "success",
    **extra: Any,
) -> FakeRun:
    status = "completed" if conclusion else "in_progress"
    files = {"CI": "ci.yml", "Deploy": "deploy.yml", "Nightly": "nightly.yml"}
    run = FakeRun(
        id=run_id,
        repo=repo,
        name=name,
        event=event,
        status=status,
        conclusion=conclusion,
        head_branch=extra.pop("branch", "main"),
        head_sha=extra.pop("sha", fake_sha("scenario", run_id)),
        run_attempt=1,
        actor=actor,
        triggering_actor=actor,
        created_at=_at(minute),
        updated_at=_at(minute + 10),
        run_started_at=_at(minute),
        run_number=run_id - 9000,
        workflow_id=70 + len(files[name]),
        path=f".github/workflows/{files[name]}",
        display_title=extra.pop("title", name),
    )
    for key, value in extra.items():
        setattr(run, key, value)
    return run


def _sdeploy(
    repo: FakeRepo,
    dep_id: int,
    run: FakeRun,
    env: str,
    creator: FakeUser,
    minute: int,
    states: Iterable[tuple[int, str, int]],
) -> FakeDeployment:
    deployment = FakeDeployment(
        dep_id,
        repo.name,
        env,
        run.head_branch,
        run.head_sha,
        creator,
        _at(minute),
        run.id,
        job_id=dep_id + 40_000,
    )
    for status_id, state, status_minute in states:
        deployment.statuses.append(FakeStatus(status_id, state, creator, _at(status_minute)))
    return repo.add_deployment(deployment)


def _sapprove(
    repo: FakeRepo,
    run: FakeRun,
    user: FakeUser,
    env: str,
    state: str = "approved",
    comment: str = "LGTM",
) -> None:
    repo.add_approval(FakeApproval(run.id, user, state, comment, [env]))


def _spull(
    repo: FakeRepo,
    number: int,
    author: FakeUser,
    run: FakeRun,
    reviews: Iterable[tuple[int, FakeUser, str, int]],
) -> FakePull:
    pull = FakePull(
        number,
        repo.name,
        author,
        run.head_sha,
        run.created_at - timedelta(minutes=1),
        f"feature/change-{number}",
        title=run.display_title,
        created_at=run.created_at - timedelta(days=1),
        merged_by=run.actor,
    )
    for review_id, user, state, minute in reviews:
        pull.reviews.append(FakeReview(review_id, user, state, _at(minute), pull.head_sha))
    return repo.add_pull(pull)


def _scenario_api(repo: FakeRepo) -> None:
    repo.add_run(_srun(9001, "api", "CI", "push", ALICE, 0))
    r2 = repo.add_run(_srun(9002, "api", "Deploy", "push", ALICE, 10, title="Add login"))
    _sdeploy(
        repo, 5001, r2, "production", ALICE, 11, [(7001, "in_progress", 15), (7002, "success", 18)]
    )
    _sapprove(repo, r2, BOB, "production", comment="Ship it!")
    _spull(repo, 11, ALICE, r2, [(8001, BOB, "APPROVED", -300)])
    repo.add_run(
        _srun(
            9003,
            "api",
            "CI",
            "pull_request",
            DEPENDABOT,
            20,
            branch="dependabot/pip/requests-2.32.0",
            title="Bump requests from 2.31.0 to 2.32.0",
        )
    )
    r4 = repo.add_run(
        _srun(9004, "api", "Deploy", "workflow_dispatch", CAROL, 30, "failure", title="Deploy")
    )
    _sdeploy(
        repo, 5002, r4, "production", CAROL, 31, [(7003, "in_progress", 33), (7004, "failure", 36)]
    )
    _sapprove(repo, r4, CAROL, "production", comment="self-approving, urgent")
    _spull(
        repo,
        12,
        DAVE,
        r4,
        [(8002, BOB, "CHANGES_REQUESTED", -600), (8003, CAROL, "APPROVED", -120)],
    )
    r5 = repo.add_run(
        _srun(
            9005,
            "api",
            "Deploy",
            "push",
            BOB,
            40,
            run_attempt=2,
            triggering_actor=CAROL,
            run_started_at=_at(70),
            updated_at=_at(85),
            title="Hotfix",
        )
    )
    _sdeploy(repo, 5003, r5, "production", BOB, 41, [(7005, "failure", 45)])
    _sapprove(repo, r5, ALICE, "production", "rejected", "Not during the freeze")
    _sdeploy(
        repo, 5004, r5, "production", CAROL, 71, [(7006, "in_progress", 75), (7007, "success", 80)]
    )
    _sapprove(repo, r5, DAVE, "production")


def _scenario_web(repo: FakeRepo) -> None:
    repo.add_run(_srun(9006, "web", "CI", "push", DAVE, 5))
    r7 = repo.add_run(_srun(9007, "web", "Deploy", "push", DAVE, 15, title="New header"))
    _sdeploy(
        repo,
        5005,
        r7,
        "staging",
        DAVE,
        16,
        [(7008, "in_progress", 20), (7009, "success", 22), (7015, "inactive", 66)],
    )
    _sapprove(repo, r7, ALICE, "staging")
    _spull(repo, 3, DAVE, r7, [])
    repo.add_run(_srun(9008, "web", "Nightly", "schedule", ALICE, 25, "failure"))
    r11 = repo.add_run(_srun(9011, "web", "Deploy", "push", ALICE, 55, title="Footer"))
    _sdeploy(
        repo, 5008, r11, "staging", ALICE, 56, [(7013, "in_progress", 60), (7014, "success", 65)]
    )
    _sapprove(repo, r11, DAVE, "staging")


def _scenario_infra(repo: FakeRepo) -> None:
    r9 = repo.add_run(
        _srun(
            9009,
            "infra",
            "Deploy",
            "workflow_dispatch",
            BOB,
            35,
            title="Rotate certificates",
            branch="v3.1.0",
        )
    )
    repo.add_tag("v3.1.0", r9.head_sha)
    _sdeploy(repo, 5006, r9, "staging", BOB, 36, [(7010, "success", 40)])
    _sapprove(repo, r9, ALICE, "staging")
    _sdeploy(
        repo, 5007, r9, "production", BOB, 41, [(7011, "in_progress", 45), (7012, "success", 50)]
    )
    _sapprove(repo, r9, CAROL, "production")
    _spull(repo, 7, BOB, r9, [(8004, ALICE, "APPROVED", -200)])
    repo.add_run(_srun(9010, "infra", "CI", "push", CAROL, 90, None))


def scenario_org() -> FakeOrg:
    """Small hand-written org ``acme``: repos api, web, infra; 11 runs; 8 deployments.

    Notables: run 9004 is self-approved by carol; run 9005 was rejected by alice, re-run by
    carol (attempt 2) and approved by dave (two deployments); 9009 deploys staging and
    production from the tag ``v3.1.0``; 9003 is by ``dependabot[bot]``; 9010 is in progress;
    deployment 5005 got an ``inactive`` status when 5008 succeeded.  PR 12 had
    CHANGES_REQUESTED then APPROVED.
    """
    org = FakeOrg(login="acme", id=9_000_001)
    builders = {"api": _scenario_api, "web": _scenario_web, "infra": _scenario_infra}
    for offset, (name, build) in enumerate(builders.items()):
        repo = org.add_repo(FakeRepo(name=name, id=101 + offset, description=f"acme {name}"))
        build(repo)
    org.teams = {
        "release-managers": {"alice", "carol"},
        "developers": {"alice", "bob", "carol", "dave"},
    }
    org.team_maintainers = {"release-managers": {"alice"}}
    return org
