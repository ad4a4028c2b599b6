"""The audit event: one immutable record of who did what, shared by every platform and store.

Its JSON form is the public contract described by ``schemas/event.v1.schema.json``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

SCHEMA_ID = "pipeledger/event/v1"

JsonObject = dict[str, Any]
_E = TypeVar("_E", bound=StrEnum)


class EventKind(StrEnum):
    PIPELINE_RUN = "pipeline.run"
    DEPLOYMENT = "deployment"
    DEPLOYMENT_APPROVAL = "deployment.approval"
    CHANGE_REVIEW = "change.review"
    PERMISSION_CHANGE = "permission.change"
    PROTECTION_CHANGE = "protection.change"
    GATE_DECISION = "gate.decision"
    # An alert the anomaly detectors raised (``raised``) or someone acknowledged.
    ANOMALY = "anomaly"


class ActorType(StrEnum):
    USER = "user"
    BOT = "bot"
    APP = "app"
    SERVICE = "service"
    # A change seen only by comparing snapshots: nobody can say who made it.
    UNKNOWN = "unknown"


CORRELATION_KEYS = (
    "run_id",
    "run_attempt",
    "deployment_id",
    "pull_request",
    "pipeline_id",
    "job_id",
)


@dataclass(frozen=True, slots=True)
class Actor:
    """``login`` is always the platform username (what ``events --actor`` matches on every
    forge); ``name`` is the display name ("Alice Admin") where the source gave one."""

    login: str | None
    id: str | None
    type: ActorType
    name: str | None = None

    def to_dict(self) -> JsonObject:
        data: JsonObject = {"login": self.login, "id": self.id, "type": self.type.value}
        if self.name is not None:
            data["name"] = self.name
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Actor:
        return cls(
            login=data.get("login"),
            id=data.get("id"),
            type=_enum(_ACTOR_TYPES, data["type"], ActorType),
            name=data.get("name"),
        )


# Reading a ledger parses every event: plain dict lookups are several times faster than
# calling the enum classes.
_KINDS = {kind.value: kind for kind in EventKind}
_ACTOR_TYPES = {kind.value: kind for kind in ActorType}

UNKNOWN_ACTOR = Actor(login=None, id=None, type=ActorType.UNKNOWN)


@dataclass(frozen=True, slots=True)
class Scope:
    owner: str
    repository: str | None = None
    environment: str | None = None

    @property
    def full_name(self) -> str | None:
        """``OWNER/NAME`` (a GitLab project path may have more slashes), or None when the
        scope is the owner itself (an organization or group)."""
        return full_name(self.owner, self.repository)

    def to_dict(self) -> JsonObject:
        return _without_none(
            {"owner": self.owner, "repository": self.repository, "environment": self.environment}
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Scope:
        return cls(
            owner=data["owner"],
            repository=data.get("repository"),
            environment=data.get("environment"),
        )


def full_name(owner: str, repository: str | None) -> str | None:
    """A repository's ``OWNER/NAME``, the one way every part of pipeledger writes it; None
    without a repository."""
    return f"{owner}/{repository}" if repository else None


@dataclass(frozen=True, slots=True)
class Source:
    """Where the record came from: the API endpoint (a template, not a URL) and the native id."""

    endpoint: str
    native_id: str

    def to_dict(self) -> JsonObject:
        return {"endpoint": self.endpoint, "native_id": self.native_id}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Source:
        """Built without the frozen ``__init__``: reading a ledger makes one per event."""
        source = _new(cls)
        _set_endpoint(source, _name(data["endpoint"]))
        _set_native_id(source, data["native_id"])
        return source


@dataclass(frozen=True, slots=True)
class AuditEvent:
    id: str
    kind: EventKind
    action: str
    occurred_at: datetime
    platform: str
    instance: str
    actor: Actor
    scope: Scope
    source: Source
    target: Mapping[str, Any] | None = None
    change: Mapping[str, Any] | None = None
    ref: str | None = None
    sha: str | None = None
    outcome: str | None = None
    correlation: Mapping[str, str] = field(default_factory=dict)
    links: Mapping[str, str] = field(default_factory=dict)
    attributes: Mapping[str, Any] = field(default_factory=dict)
    observed_at: datetime | None = None
    # Ids of earlier events that this one replaces as the record of the same fact (an audit
    # log entry and a snapshot difference of one change): see :mod:`pipeledger.facts`.
    supersedes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _require_utc("occurred_at", self.occurred_at)
        if self.observed_at is not None:
            _require_utc("observed_at", self.observed_at)

    def to_dict(self) -> JsonObject:
        data: JsonObject = {
            "schema": SCHEMA_ID,
            "id": self.id,
            "kind": self.kind.value,
            "action": self.action,
            "occurred_at": format_time(self.occurred_at),
            "platform": self.platform,
            "instance": self.instance,
            "actor": self.actor.to_dict(),
            "scope": self.scope.to_dict(),
            "source": self.source.to_dict(),
            "target": dict(self.target) if self.target is not None else None,
            "change": dict(self.change) if self.change is not None else None,
            "ref": self.ref,
            "sha": self.sha,
            "outcome": self.outcome,
            "correlation": dict(self.correlation) or None,
            "links": dict(self.links) or None,
            "attributes": dict(self.attributes) or None,
            "observed_at": format_time(self.observed_at) if self.observed_at else None,
            "supersedes": list(self.supersedes) or None,
        }
        return _without_none(data)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AuditEvent:
        """The event a JSON object describes; raises KeyError, ValueError or TypeError when
        it does not describe one. Reading a ledger calls this for every record, so it builds
        the object directly (the checks ``__init__`` makes hold by construction: both times
        come from :func:`parse_time`, which returns UTC) and shares equal actors and scopes."""
        get = data.get
        observed, supersedes = get("observed_at"), get("supersedes")
        event = _new(cls)
        _set_id(event, data["id"])
        _set_kind(event, _enum(_KINDS, data["kind"], EventKind))
        _set_action(event, _name(data["action"]))
        _set_occurred_at(event, parse_time(data["occurred_at"]))
        _set_platform(event, _name(data["platform"]))
        _set_instance(event, _name(data["instance"]))
        _set_actor(event, _shared(_ACTORS, data["actor"], Actor.from_dict))
        _set_scope(event, _shared(_SCOPES, data["scope"], Scope.from_dict))
        _set_source(event, Source.from_dict(data["source"]))
        _set_target(event, get("target"))
        _set_change(event, get("change"))
        _set_ref(event, _name(get("ref")))
        _set_sha(event, get("sha"))
        _set_outcome(event, get("outcome"))
        _set_correlation(event, get("correlation") or _NOTHING)
        _set_links(event, get("links") or _NOTHING)
        _set_attributes(event, get("attributes") or _NOTHING)
        _set_observed_at(event, parse_time(observed) if observed else None)
        _set_supersedes(event, tuple(supersedes) if supersedes else ())
        return event

    def canonical_json(self) -> str:
        return canonical_json(self.to_dict())


_new = object.__new__


def _setter(cls: type, name: str) -> Callable[[Any, Any], None]:
    """The slot's own setter: ``from_dict`` fills an event without the frozen ``__init__``,
    one call per field (a loop over the fields cost a fifth of the time again)."""
    setter: Callable[[Any, Any], None] = cls.__dict__[name].__set__
    return setter


_set_id = _setter(AuditEvent, "id")
_set_kind = _setter(AuditEvent, "kind")
_set_action = _setter(AuditEvent, "action")
_set_occurred_at = _setter(AuditEvent, "occurred_at")
_set_platform = _setter(AuditEvent, "platform")
_set_instance = _setter(AuditEvent, "instance")
_set_actor = _setter(AuditEvent, "actor")
_set_scope = _setter(AuditEvent, "scope")
_set_source = _setter(AuditEvent, "source")
_set_target = _setter(AuditEvent, "target")
_set_change = _setter(AuditEvent, "change")
_set_ref = _setter(AuditEvent, "ref")
_set_sha = _setter(AuditEvent, "sha")
_set_outcome = _setter(AuditEvent, "outcome")
_set_correlation = _setter(AuditEvent, "correlation")
_set_links = _setter(AuditEvent, "links")
_set_attributes = _setter(AuditEvent, "attributes")
_set_observed_at = _setter(AuditEvent, "observed_at")
_set_supersedes = _setter(AuditEvent, "supersedes")
_set_endpoint = _setter(Source, "endpoint")
_set_native_id = _setter(Source, "native_id")


# Actors and scopes repeat across a ledger (a few hundred people, repositories and
# environments): one shared, immutable object each saves time and memory when reading.
_ACTORS: dict[tuple[Any, ...], Actor] = {}
_SCOPES: dict[tuple[Any, ...], Scope] = {}
_NAMES: dict[str, str] = {}
_NAME_LIMIT = 256  # characters; a ref or an endpoint template is far shorter
# What a parsed event without correlation, links or attributes holds: one empty dict shared
# by all of them instead of 64 bytes each (the fields are read-only Mappings).
_NOTHING: dict[str, Any] = {}
_SHARED_LIMIT = 10_000
_T = TypeVar("_T")


def _shared(
    table: dict[tuple[Any, ...], _T],
    data: Mapping[str, Any],
    build: Callable[[Mapping[str, Any]], _T],
) -> _T:
    key = tuple(data.items())
    try:
        found = table.get(key)
    except TypeError:  # a value that cannot be a key (not an event the ledger wrote)
        return build(data)
    if found is None:
        if len(table) >= _SHARED_LIMIT:
            table.clear()
        found = table[key] = build(data)
    return found


def _name(value: Any) -> Any:
    """One shared copy of a name that repeats across events (platform, instance, action,
    endpoint, ref): each parsed body brings its own, about 60 bytes apiece. Anything but a
    short string is left as it is: the table must not keep a hostile ledger's long values
    alive after their events are gone."""
    if type(value) is not str or len(value) > _NAME_LIMIT:
        return value
    found = _NAMES.get(value)
    if found is None:
        if len(_NAMES) >= _SHARED_LIMIT:
            _NAMES.clear()
        found = _NAMES[value] = value
    return found


def _enum(table: Mapping[str, _E], value: str, enum: type[_E]) -> _E:
    found = table.get(value)
    return found if found is not None else enum(value)  # raises the usual ValueError


def event_id(platform: str, instance: str, endpoint: str, native_id: str) -> str:
    """Deterministic id: collecting the same thing twice yields the same id."""
    material = "\x1f".join((platform, instance.lower(), endpoint, native_id))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()[:32]


def canonical_json(value: Any) -> str:
    """One byte-exact serialization, the input of every hash."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with ``Z``, keeping only the sub-second digits that carry information."""
    micro = moment.microsecond
    spec = "seconds" if micro == 0 else "milliseconds" if micro % 1000 == 0 else "microseconds"
    return moment.astimezone(UTC).isoformat(timespec=spec).replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    """RFC 3339 with offset or ``Z``; naive times are rejected, results are UTC. A time
    that has no UTC equivalent (``0001-01-01T00:00:00+01:00``) is a ValueError too."""
    moment = datetime.fromisoformat(text.replace("z", "Z"))  # 3.11 reads "Z" itself
    if moment.tzinfo is UTC:
        return moment
    if moment.tzinfo is None:
        raise ValueError(f"time {text!r} has no UTC offset")
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"time {text!r} is out of range") from None


def _require_utc(name: str, moment: datetime) -> None:
    if moment.tzinfo is UTC:  # the common case, and the cheap one: audit parses 100k of these
        return
    if moment.tzinfo is None or moment.utcoffset() != UTC.utcoffset(None):
        raise ValueError(f"{name} must be a UTC-aware datetime, got {moment!r}")


def _without_none(data: JsonObject) -> JsonObject:
    return {key: value for key, value in data.items() if value is not None}
