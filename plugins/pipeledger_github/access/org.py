"""An organization's snapshot: its members and their role (owner ``admin`` or ``member``),
its teams, each team's members (``maintainer`` or ``member``) and the repositories a team
can reach with which role.

Requests: one listing pass per resource — members by role, the team list, and per team its
members by role and its repositories; unchanged listings cost 304s only.
"""

from __future__ import annotations

from urllib.parse import quote

from pipeledger.plugin import AuditEvent, CursorReader, Grant, Protection
from pipeledger_github.access.resource import AccessContext, Built, Resource, nothing, read_part
from pipeledger_github.access.scope import Outcome, Part, Request, ResourceFetch, ScopeSnapshot
from pipeledger_github.listing import list_items
from pipeledger_github.normalize.access import (
    member_grants,
    team_member_grants,
    team_repository_grants,
    team_slugs,
)

TEAMS = "teams"


def organization_snapshot(
    context: AccessContext, org: str, cursors: CursorReader
) -> tuple[list[AuditEvent], dict[str, str]]:
    base = f"/orgs/{quote(org, safe='')}"
    snap = ScopeSnapshot(context.instance, org, cursors, context.now())
    snap.add(read_part(context, snap, _members(base, org)))
    teams = read_part(context, snap, _teams(base))
    snap.add(teams)
    current = _slugs(teams.memo if teams.outcome is Outcome.READ else _prior_slugs(snap))
    for slug in current:
        for resource in _team_resources(base, org, slug):
            if teams.outcome is Outcome.UNREADABLE:
                part = Part(resource.name, resource.belongs, Outcome.UNREADABLE)
                snap.add(snap.carried(part))
            else:
                snap.add(read_part(context, snap, resource))
    if teams.outcome is Outcome.READ:
        for slug in sorted(set(_prior_slugs(snap)) - set(current)):
            for resource in _team_resources(base, org, slug):
                snap.add(Part(resource.name, resource.belongs, Outcome.READ, forget=True))
    return snap.result()


def _members(base: str, org: str) -> Resource:
    requests = {
        "admins": Request(f"{base}/members", {"role": "admin"}, list_items()),
        "members": Request(f"{base}/members", {"role": "member"}, list_items()),
    }

    def build(fetch: ResourceFetch) -> Built:
        admins = member_grants(fetch.items("admins", requests["admins"]), "admin", org)
        members = member_grants(fetch.items("members", requests["members"]), "member", org)
        return admins + members, [], None

    return Resource("members", "organization members", _is_member, requests.get, build)


def _is_member(item: Grant | Protection) -> bool:
    return (
        isinstance(item, Grant)
        and item.subject_type == "user"
        and item.via is None
        and item.scope.repository is None
    )


def _teams(base: str) -> Resource:
    request = Request(f"{base}/teams", None, list_items())

    def build(fetch: ResourceFetch) -> Built:
        return [], [], team_slugs(fetch.items("list", request))

    return Resource(TEAMS, "teams", nothing, lambda _: request, build)


def _prior_slugs(snap: ScopeSnapshot) -> list[str]:
    prior = snap.prior(TEAMS)
    return _slugs(prior.memo if prior is not None else None)


def _slugs(memo: object) -> list[str]:
    return [str(slug) for slug in memo] if isinstance(memo, list) else []


def _team_resources(base: str, org: str, slug: str) -> list[Resource]:
    team = f"{base}/teams/{quote(slug, safe='')}"
    members = {
        "maintainers": Request(f"{team}/members", {"role": "maintainer"}, list_items()),
        "members": Request(f"{team}/members", {"role": "member"}, list_items()),
    }
    repos = Request(f"{team}/repos", None, list_items())

    def build_members(fetch: ResourceFetch) -> Built:
        lead = fetch.items("maintainers", members["maintainers"])
        rest = fetch.items("members", members["members"])
        grants = team_member_grants(lead, slug, "maintainer", org)
        grants += team_member_grants(rest, slug, "member", org)
        return grants, [], None

    def build_repos(fetch: ResourceFetch) -> Built:
        return team_repository_grants(fetch.items("list", repos), slug, org), [], None

    def in_team(item: Grant | Protection) -> bool:
        return isinstance(item, Grant) and item.via == f"team:{slug}"

    def team_access(item: Grant | Protection) -> bool:
        return isinstance(item, Grant) and item.subject_type == "team" and item.subject == slug

    return [
        Resource(
            f"team:{slug}:members",
            "team members",
            in_team,
            members.get,
            build_members,
            parent=TEAMS,
        ),
        Resource(
            f"team:{slug}:repos",
            "team repository access",
            team_access,
            lambda _: repos,
            build_repos,
            parent=TEAMS,
        ),
    ]
