"""A repository's snapshot: its collaborators and their roles, and what guards its deploys —
environment protection rules, and the classic protection and rules of its default branch.

Requests: one listing pass per resource (collaborators; environments, plus the branch
policies of each environment limited to chosen branches; the protected branches, plus the
classic protection of the default branch when it is among them; branch rules), and the
repository itself when the default branch is not known from an --org listing.
"""

from __future__ import annotations

from urllib.parse import quote

from pipeledger.plugin import AuditEvent, CursorReader, Protection, Scope
from pipeledger_github.access.resource import (
    AccessContext,
    Built,
    Resource,
    is_grant,
    nothing,
    protection_of,
    read_part,
)
from pipeledger_github.access.scope import Outcome, Part, Request, ResourceFetch, ScopeSnapshot
from pipeledger_github.listing import list_items, one_object
from pipeledger_github.normalize.access import (
    branch_policy_names,
    branch_protection,
    collaborator_grants,
    environment_protection,
    needs_branch_policies,
    ruleset_protections,
)
from pipeledger_github.normalize.fields import text

ENVIRONMENTS = "environments"
POLICIES = "policies:"
PROTECTED = "protected-branches"


def repository_snapshot(
    context: AccessContext,
    repository: str,
    default_branch: str | None,
    cursors: CursorReader,
) -> tuple[list[AuditEvent], dict[str, str]]:
    owner, _, name = repository.partition("/")
    scope = Scope(owner=owner, repository=name)
    base = context.client.repos_path(repository)
    snap = ScopeSnapshot(context.instance, repository, cursors, context.now())
    branch = default_branch or _default_branch(context, snap, base)
    snap.add(read_part(context, snap, _collaborators(base, scope)))
    snap.add(read_part(context, snap, _environments(base, scope)))
    protection, rules = _branch_resources(base, scope, branch)
    if branch is None:
        for resource in (protection, rules):
            snap.add(snap.carried(Part(resource.name, resource.belongs, Outcome.UNREADABLE)))
    else:
        snap.add(_branch_protection(context, snap, base, branch, protection))
        snap.add(read_part(context, snap, rules))
    return snap.result()


def _branch_protection(
    context: AccessContext, snap: ScopeSnapshot, base: str, branch: str, resource: Resource
) -> Part:
    """GitHub answers ``404 Branch not protected`` without an ETag, so the protection of an
    unprotected branch cannot be re-checked for free; the list of protected branches can.
    A branch last seen protected is re-checked through its protection's own ETag (which a
    push does not change); any other through the list, and its protection is asked for
    only when it is on the list."""
    prior = snap.prior(resource.name)
    if prior is not None and prior.pages and prior.memo == resource.memo:
        return read_part(context, snap, resource)
    listing = read_part(context, snap, _protected_branches(base))
    snap.add(listing)
    if listing.outcome is Outcome.UNREADABLE:
        return snap.carried(Part(resource.name, resource.belongs, Outcome.UNREADABLE))
    protected = isinstance(listing.memo, list) and branch in listing.memo
    if protected and not (listing.outcome is Outcome.SAME and _rules_only(snap, resource)):
        return read_part(context, snap, resource)
    # Unprotected (or, with the same listing as when it last answered 404, guarded by
    # rulesets only): nothing classic guards it, an empty reading.
    return Part(resource.name, resource.belongs, Outcome.READ, memo=resource.memo)


def _rules_only(snap: ScopeSnapshot, resource: Resource) -> bool:
    """The protection was read, and found empty, together with the listing as stored: the
    branch is protected by rulesets only. (Read before the listing, or refused since, it is
    asked for again.)"""
    prior, listing = snap.prior(resource.name), snap.prior(PROTECTED)
    if prior is None or listing is None or prior.pages:
        return False
    return prior.memo == resource.memo and prior.read_at >= listing.read_at


def _protected_branches(base: str) -> Resource:
    request = Request(f"{base}/branches", {"protected": "true"}, list_items())

    def build(fetch: ResourceFetch) -> Built:
        names = sorted(
            {name for item in fetch.items("list", request) if (name := text(item, "name"))}
        )
        return [], [], names

    return Resource(PROTECTED, "protected branches", nothing, lambda _: request, build)


def _default_branch(context: AccessContext, snap: ScopeSnapshot, base: str) -> str | None:
    request = Request(base, None, one_object, paged=False)

    def build(fetch: ResourceFetch) -> Built:
        items = fetch.items("get", request)
        return [], [], text(items[0], "default_branch") if items else None

    resource = Resource("repository", "repository details", nothing, lambda _: request, build)
    part = read_part(context, snap, resource)
    if part.outcome is Outcome.UNREADABLE:
        prior = snap.prior("repository")
        part.memo = prior.memo if prior is not None else None
    snap.add(part)
    return part.memo if isinstance(part.memo, str) else None


def _collaborators(base: str, scope: Scope) -> Resource:
    request = Request(f"{base}/collaborators", {"affiliation": "all"}, list_items())

    def build(fetch: ResourceFetch) -> Built:
        return collaborator_grants(fetch.items("list", request), scope), [], None

    return Resource("collaborators", "collaborators", is_grant, lambda _: request, build)


def _environments(base: str, scope: Scope) -> Resource:
    listing = Request(f"{base}/environments", None, list_items("environments"))

    def policies(environment: str) -> Request:
        path = f"{base}/environments/{quote(environment, safe='')}/deployment-branch-policies"
        return Request(path, None, list_items("branch_policies"))

    def spec(name: str) -> Request | None:
        if name == ENVIRONMENTS:
            return listing
        return policies(name[len(POLICIES) :]) if name.startswith(POLICIES) else None

    def build(fetch: ResourceFetch) -> Built:
        protections: list[Protection] = []
        for environment in fetch.items(ENVIRONMENTS, listing):
            env_name = text(environment, "name")
            patterns = None
            if env_name and needs_branch_policies(environment):
                items = fetch.items(POLICIES + env_name, policies(env_name))
                patterns = branch_policy_names(items)
            protection = environment_protection(environment, patterns, scope)
            if protection is not None:
                protections.append(protection)
        return [], protections, None

    belongs = protection_of("environment:")
    return Resource(ENVIRONMENTS, "environment protection rules", belongs, spec, build)


def _branch_resources(base: str, scope: Scope, branch: str | None) -> tuple[Resource, Resource]:
    branch_path = quote(branch or "", safe="")
    protection = Request(f"{base}/branches/{branch_path}/protection", None, one_object, False)
    rules = Request(f"{base}/rules/branches/{branch_path}", None, list_items())

    def build_protection(fetch: ResourceFetch) -> Built:
        items = fetch.items("get", protection)
        return [], [branch_protection(items[0], branch or "", scope)] if items else [], branch

    def build_rules(fetch: ResourceFetch) -> Built:
        return [], ruleset_protections(fetch.items("list", rules), branch or "", scope), branch

    return (
        Resource(
            "branch-protection",
            "branch protection",
            protection_of("branch:"),
            lambda _: protection,
            build_protection,
            memo=branch,
        ),
        Resource(
            "branch-rules",
            "branch rules (rulesets)",
            protection_of("ruleset:"),
            lambda _: rules,
            build_rules,
            memo=branch,
        ),
    )
