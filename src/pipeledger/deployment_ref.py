"""How a person names one deployment on the command line (``provenance``, ``events
--deployment``): the platform's deployment id, ``OWNER/REPO#ID``, the event id,
``OWNER/REPO@SHA`` (a commit prefix of 7+ characters), or the URL of the run or pipeline
that deployed it, copied from the browser."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from pipeledger.policy.deployment_context import DeploymentContext

SHA_FORM = re.compile(r"^(?P<repo>[^@\s]+/[^@\s]+)@(?P<sha>[0-9a-fA-F]{7,40})$")
# GitHub: /OWNER/REPO/actions/runs/ID[/attempts/N][/job/J]
# GitLab: /GROUP[/SUB...]/PROJECT/-/pipelines/ID
RUN_PATH = re.compile(r"^/(?P<repo>.+?)(?:/actions/runs|/-/pipelines)/(?P<run>\d+)(?:/.*)?$")
DEPLOYMENT_PATH = re.compile(
    r"^/(?P<repo>.+?)(?:/deployments|/-/environments/\d+/deployments)/(?P<id>\d+)/?$"
)


@dataclass(frozen=True)
class DeploymentRef:
    """A parsed name; ``matches`` says whether a deployment is the one named."""

    text: str
    repository: str | None = None
    ident: str | None = None
    sha: str | None = None
    run_id: str | None = None

    @classmethod
    def parse(cls, text: str) -> DeploymentRef:
        text = text.strip()
        if text.startswith(("http://", "https://")):
            return cls._from_url(text)
        if match := SHA_FORM.match(text):
            return cls(text, repository=match["repo"], sha=match["sha"].lower())
        if "#" in text:
            repository, _, ident = text.rpartition("#")
            return cls(text, repository=repository or None, ident=ident)
        return cls(text, ident=text)

    @classmethod
    def _from_url(cls, text: str) -> DeploymentRef:
        path = urlsplit(text).path.rstrip("/")
        if match := RUN_PATH.match(path):
            return cls(text, repository=match["repo"], run_id=match["run"])
        if match := DEPLOYMENT_PATH.match(path):
            return cls(text, repository=match["repo"], ident=match["id"])
        return cls(text, ident=text)  # matched against the deployment's own links below

    def matches(self, ctx: DeploymentContext) -> bool:
        if self.repository and (ctx.repository or "").lower() != self.repository.lower():
            return False
        if self.sha is not None:
            return (ctx.sha or "").lower().startswith(self.sha)
        if self.run_id is not None:
            return ctx.run_id == self.run_id
        return self.ident in (ctx.deployment_key, ctx.deployment.id) or self.ident in (
            ctx.deployment.links.values()
        )

    @property
    def ambiguity_hint(self) -> str:
        if self.sha is not None or self.run_id is not None:
            return "Name one of them as OWNER/REPO#ID."
        return "Name it as OWNER/REPO#ID."


def describe(ctx: DeploymentContext) -> str:
    """``acme/web#42 (production)``: how a list of candidates names each one."""
    return f"{ctx.repository}#{ctx.deployment_key} ({ctx.environment or 'no environment'})"
