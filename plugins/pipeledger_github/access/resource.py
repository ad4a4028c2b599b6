"""Reading one snapshot resource: re-check its pages conditionally, read it afresh when one
changed, and keep its last known state (with one notice) when the token may not read it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from pipeledger.plugin import Grant, PermissionDenied, Protection
from pipeledger_github.access.scope import (
    Belongs,
    Outcome,
    Part,
    Refusals,
    Request,
    ResourceFetch,
    ScopeSnapshot,
)
from pipeledger_github.client import GitHubClient
from pipeledger_github.errors import NotProtected
from pipeledger_github.listing import ListingReader

Built = tuple[list[Grant], list[Protection], object]


@dataclass
class AccessContext:
    """What every resource reader shares within one collection."""

    client: GitHubClient
    reader: ListingReader
    instance: str
    refusals: Refusals
    now: Callable[[], datetime]


@dataclass(frozen=True)
class Resource:
    name: str
    kind: str  # what the notices call it: "branch protection", "collaborators", …
    belongs: Belongs
    spec: Callable[[str], Request | None]
    build: Callable[[ResourceFetch], Built]
    parent: str | None = None
    memo: object = None  # when set, stored pages are only reused while it matches (a branch)


def read_part(context: AccessContext, snap: ScopeSnapshot, resource: Resource) -> Part:
    prior = snap.prior(resource.name)
    reusable = prior
    if prior is not None and resource.memo is not None and prior.memo != resource.memo:
        reusable = None
    fetch = ResourceFetch(context.reader, reusable)
    part = Part(resource.name, resource.belongs, Outcome.READ, parent=resource.parent)
    try:
        if reusable is not None and fetch.unchanged(resource.spec):
            part.outcome, part.pages, part.memo = Outcome.SAME, fetch.pages, reusable.memo
            return snap.carried(part)
        part.grants, part.protections, part.memo = resource.build(fetch)
    except NotProtected:
        part.memo = resource.memo  # nothing guards it now: an empty reading, not a refusal
    except PermissionDenied as refused:  # 403, and 404 (GitHub's answer when it may not say)
        context.refusals.note(resource.kind, snap.scope_key, refused)
        part.outcome = Outcome.UNREADABLE
        return snap.carried(part)
    part.pages = fetch.pages
    return part


def is_grant(item: Grant | Protection) -> bool:
    return isinstance(item, Grant)


def protection_of(prefix: str) -> Belongs:
    def belongs(item: Grant | Protection) -> bool:
        return isinstance(item, Protection) and item.target.startswith(prefix)

    return belongs


def nothing(item: Grant | Protection) -> bool:
    return False
