"""Reading GitHub payloads defensively: typed field access, actors, times, and the oddities
(missing fields, unknown enum values) reported once instead of crashing."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pipeledger.plugin import (
    UNKNOWN_ACTOR,
    Actor,
    ActorType,
    Holding,
    MalformedResponse,
    parse_time,
)

PLATFORM = "github"
_SHA = re.compile(r"^[0-9a-f]{7,64}$")
_RUN_URL = re.compile(r"/actions/runs/(\d+)")
_REPO_URL = re.compile(r"/repos/([^/]+)/([^/]+?)(?:/|$)")
_WEB_URL = re.compile(r"https?://[^\s\x00-\x1f\x7f<>\"{}|\\^`]+", re.IGNORECASE)


class MissingField(Exception):
    """A record lacks a field it cannot be recorded without; the record is skipped."""

    def __init__(self, kind: str, native_id: str, field: str) -> None:
        super().__init__(f"{kind} {native_id} has no usable {field!r}")
        self.field = field


class Oddities:
    """Collects what a payload got wrong, each message once, for ``progress.notice``."""

    def __init__(self) -> None:
        self._seen: set[str] = set()
        self.pending: list[str] = []
        # Where a record that cannot be recorded goes: collect's quarantine, when it has one.
        self.holding: Holding | None = None

    def refuse(self, endpoint: str, native_id: object, reason: str, record: object) -> None:
        """A record (a deployment status, an approval, a review) that cannot be recorded:
        quarantined with ``reason`` when collecting, else noted as skipped."""
        if self.holding is not None:
            self.holding.hold(endpoint, native_id, reason, record)
        else:
            self.note(f"{reason}; it is skipped.")

    def note(self, message: str) -> None:
        if message not in self._seen:
            self._seen.add(message)
            self.pending.append(message)

    def unknown_value(self, what: str, value: object) -> None:
        self.note(
            f"GitHub sent an unknown {what} {value!r}; the record is kept with that value."
            " A newer pipeledger may know it."
        )

    def take(self) -> list[str]:
        messages, self.pending = self.pending, []
        return messages


def require_object(body: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(body, Mapping):
        raise MalformedResponse(
            f"GitHub answered {what} with {type(body).__name__}, not a JSON object.",
            "This is not the documented shape; check --api-url points at the GitHub REST API.",
        )
    return body


def require_list(body: Any, what: str) -> list[Any]:
    if not isinstance(body, list):
        raise MalformedResponse(
            f"GitHub answered {what} with {type(body).__name__}, not a JSON list.",
            "This is not the documented shape; check --api-url points at the GitHub REST API.",
        )
    return body


def native_id(record: Mapping[str, Any], kind: str) -> str:
    value = ident_of(record)
    if not value:
        raise MissingField(kind, "?", "id")
    return value


def text(record: Mapping[str, Any], key: str) -> str | None:
    value = record.get(key)
    return value if isinstance(value, str) and value else None


def number(record: Mapping[str, Any], key: str) -> int | None:
    value = record.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def time_field(record: Mapping[str, Any], key: str) -> datetime | None:
    value = record.get(key)
    if not isinstance(value, str):
        return None
    try:
        return parse_time(value)
    except ValueError:
        return None


def required_time(record: Mapping[str, Any], key: str, kind: str, ident: str) -> datetime:
    moment = time_field(record, key)
    if moment is None:
        raise MissingField(kind, ident, key)
    return moment


def sha_field(record: Mapping[str, Any], key: str) -> str | None:
    value = text(record, key)
    return value if value is not None and _SHA.match(value) else None


def actor(user: Any) -> Actor | None:
    """A GitHub user object as an Actor; None when there is no usable login."""
    if not isinstance(user, Mapping):
        return None
    login = text(user, "login")
    if login is None:
        return None
    ident = user.get("id")
    return Actor(
        login=login,
        id=str(ident) if isinstance(ident, int | str) and not isinstance(ident, bool) else None,
        type=actor_type(user, login),
    )


def actor_type(user: Mapping[str, Any], login: str) -> ActorType:
    if user.get("type") == "Bot" or login.endswith("[bot]"):
        return ActorType.BOT
    return ActorType.USER


def run_id_from_url(*urls: str | None) -> str | None:
    """Actions-made deployments point at their run: ``…/actions/runs/<id>/job/<job>``."""
    for url in urls:
        if url:
            match = _RUN_URL.search(url)
            if match:
                return match.group(1)
    return None


def branch_ref(name: str | None) -> str | None:
    """A branch-like name as a full ref; full refs stay, commit SHAs are not refs."""
    if not name:
        return None
    if name.startswith("refs/"):
        return name
    if re.fullmatch(r"[0-9a-f]{40}", name):
        return None
    return f"refs/heads/{name}"


@dataclass(frozen=True)
class RefNames:
    """What is known about the bare names GitHub reports as ``head_branch`` or a deployment's
    ``ref`` (a tag push reports the tag's name): the repository's tags (name → commit), and
    names whose full ref is certain (the running job's ``GITHUB_REF``)."""

    tags: Mapping[str, str] = field(default_factory=dict)
    certain: Mapping[str, str] = field(default_factory=dict)

    def full_ref(self, name: str | None, sha: str | None) -> str | None:
        """The full ref of ``name`` as used at commit ``sha``: a certain one; the tag when the
        repository has a tag of that name on that commit (a branch of the same name elsewhere
        is not mistaken for it); otherwise a branch."""
        ref = branch_ref(name)
        if ref is None or name is None or name.startswith("refs/"):
            return ref
        if name in self.certain:
            return self.certain[name]
        tagged = self.tags.get(name)
        if tagged is not None and sha is not None and tagged.lower() == sha.lower():
            return f"refs/tags/{name}"
        return ref


NO_REFS = RefNames()


def known_actor(user: Any, what: str, notes: Oddities) -> Actor:
    """The user as an Actor, or the unknown actor with a note when the payload names none."""
    found = actor(user)
    if found is None:
        notes.note(f"{what} names no user; it is recorded with an unknown actor.")
        return UNKNOWN_ACTOR
    return found


def html_link(record: Mapping[str, Any]) -> dict[str, str]:
    """The record's web page, when it is an absolute http(s) URL (nothing else is a link)."""
    html = text(record, "html_url")
    return {"html": html} if html and _WEB_URL.fullmatch(html) else {}


def repository_of(
    record: Mapping[str, Any], fallback: str | None, kind: str, ident: str
) -> tuple[str, str]:
    """``owner``/``name`` from the payload's repository, its API URLs, or the caller."""
    repository = record.get("repository")
    full_name = text(repository, "full_name") if isinstance(repository, Mapping) else None
    if full_name is None:
        full_name = text(record, "full_name")
    if full_name is None:
        for key in ("repository_url", "url"):
            match = _REPO_URL.search(text(record, key) or "")
            if match:
                full_name = f"{match.group(1)}/{match.group(2)}"
                break
    full_name = full_name or fallback
    owner, _, name = (full_name or "").partition("/")
    if not owner or not name:
        raise MissingField(kind, ident, "repository")
    return owner, name


def ident_of(record: Mapping[str, Any] | None) -> str | None:
    """A record's ``id`` as text, or None."""
    if record is None:
        return None
    value = record.get("id")
    return str(value) if isinstance(value, int | str) and not isinstance(value, bool) else None
