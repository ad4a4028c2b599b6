"""GitHub's refusals as the project's errors, naming the token permission that is missing."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from pipeledger.plugin import (
    ApiResponse,
    PermissionDenied,
    PipeledgerError,
    PlatformError,
    one_line,
)


class NotFound(PermissionDenied):
    """404: GitHub answers it both for what does not exist and for what the token cannot see."""


class NotProtected(NotFound):
    """404 "Branch not protected": the branch has no classic protection (not a refusal)."""


class Unprocessable(PlatformError):
    """422: GitHub cannot answer for this input (a commit that no longer exists)."""


@dataclass(frozen=True)
class Need:
    """What an endpoint needs: the fine-grained permission, the Actions ``permissions:`` key
    (None where GITHUB_TOKEN cannot get it), and what the data is."""

    permission: str
    workflow: str | None
    purpose: str


# First match wins.
# Patterns searched with re.search (its cache compiles each once, when first needed).
_NEEDS: tuple[tuple[str, Need], ...] = (
    (
        r"/actions/runs/\d+/approvals$",
        Need("actions: read", "actions: read", "environment approvals"),
    ),
    (r"/actions/", Need("actions: read", "actions: read", "workflow runs")),
    (
        r"/deployments",
        Need("deployments: read", "deployments: read", "deployments and their statuses"),
    ),
    (
        r"/commits/[^/]+/pulls$",
        Need("pull_requests: read", "pull-requests: read", "the pull requests of a commit"),
    ),
    (r"/pulls", Need("pull_requests: read", "pull-requests: read", "reviews")),
    (
        r"/orgs/[^/]+/audit-log$",
        Need(
            "administration: read (organization; classic tokens: `read:audit_log`)",
            None,
            "the organization's audit log (GitHub Enterprise Cloud only)",
        ),
    ),
    (
        r"/orgs/[^/]+/(teams|members)(/|$)",
        Need("members: read (organization)", None, "organization members, teams and their access"),
    ),
    (
        r"/branches/.+/protection$",
        Need(
            "administration: read",
            None,
            "branch protection (a classic token needs admin rights on the repository)",
        ),
    ),
    (
        r"/collaborators$",
        Need(
            "metadata: read, with push access to the repository",
            None,
            "repository collaborators and their roles",
        ),
    ),
    (
        r"/environments",
        Need("actions: read", "actions: read", "environments and their protection rules"),
    ),
    (
        r"/rules/branches/",
        Need("metadata: read", "contents: read", "the rules that apply to a branch"),
    ),
    (
        r"/orgs/[^/]+/repos$",
        Need("metadata: read", None, "the organization's repositories"),
    ),
)
_DEFAULT_NEED = Need("metadata: read", "contents: read", "the repository")
_CLASSIC_SCOPES = "classic personal access token: scope `repo` (and `read:org` for --org and teams)"


def translate_error(response: ApiResponse) -> PipeledgerError:
    """The error ApiClient raises for a final 4xx/5xx answer; never carries the token."""
    path = urlsplit(response.url).path
    message = _github_message(response.body)
    if response.status == 401:
        return PermissionDenied(
            f"GitHub rejected the token (HTTP 401 on {path}: {message}).",
            "The token is wrong, expired or revoked: set a valid GITHUB_TOKEN or GH_TOKEN (or"
            " the PIPELEDGER_GITHUB_APP_* variables for a GitHub App).",
        )
    if response.status == 403:
        return _forbidden(response, path, message)
    if response.status == 404 and message == "Branch not protected":
        return NotProtected(f"{path}: the branch is not protected.", "Nothing to fix.")
    if response.status == 404:
        return NotFound(
            f"GitHub answered 404 Not Found for {path}.",
            "The repository or organization does not exist, or the token cannot see it: check"
            " the name and that the token has access to that repository"
            f" (`{need_for(path).permission}` for {need_for(path).purpose}).",
        )
    kind = Unprocessable if response.status == 422 else PlatformError
    return kind(
        f"GitHub answered HTTP {response.status} for {path}: {message}.",
        "If this persists, check https://www.githubstatus.com and --api-url; what was"
        " collected before is saved.",
    )


def need_for(path: str) -> Need:
    """The permission an endpoint needs, and what for."""
    for pattern, need in _NEEDS:
        if re.search(pattern, path):
            return need
    return _DEFAULT_NEED


def _forbidden(response: ApiResponse, path: str, message: str) -> PipeledgerError:
    headers = response.headers
    if "x-github-sso" in headers:
        return PermissionDenied(
            f"GitHub refused {path}: the organization enforces SAML single sign-on ({message}).",
            "Authorize the token for the organization's SSO (token settings → Configure SSO).",
        )
    need = need_for(path)
    needed = _accepted_permissions(headers) or f"`{need.permission}`"
    workflow = (
        f" In a GitHub Actions workflow add `permissions: {{{need.workflow}}}` to the job."
        if need.workflow
        else " The workflow's GITHUB_TOKEN cannot get it; use a GitHub App or a token."
    )
    return PermissionDenied(
        f"The token may not read {need.purpose} ({path}): GitHub answered 403 ({message}).",
        f"Give it {needed} (fine-grained token or GitHub App); {_CLASSIC_SCOPES}.{workflow}",
    )


def _accepted_permissions(headers: Mapping[str, str]) -> str | None:
    """``x-accepted-github-permissions: actions=read; contents=read,pull_requests=read`` →
    "`actions: read` or `contents: read` and `pull_requests: read`"."""
    raw = headers.get("x-accepted-github-permissions", "").strip()
    if not raw:
        return None
    alternatives = []
    for option in raw.split(";"):
        items = [item.strip().replace("=", ": ") for item in option.split(",") if item.strip()]
        if items:
            alternatives.append(" and ".join(f"`{item}`" for item in items))
    return " or ".join(alternatives) or None


def _github_message(body: Any) -> str:
    if isinstance(body, Mapping) and isinstance(body.get("message"), str):
        return one_line(str(body["message"]), 300)
    return "no message"
