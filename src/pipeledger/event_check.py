"""The last check before an event is appended: is it what ``schemas/event.v1.schema.json``
promises, and can every store hold it?

A compiled equivalent of the schema (a test holds it to the schema itself on fuzzed events):
a few regular expressions and type checks (about 30 µs an event on a loaded 2-core machine,
docs/bench/integrity.md), so collection keeps its speed. On top of the schema it rejects what no
store can hold (text that is not valid UTF-8, NaN) and times outside :data:`EARLIEST` ..
:data:`LATEST`, which only a broken or hostile payload carries.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pipeledger.events import CORRELATION_KEYS, ActorType, AuditEvent, EventKind
from pipeledger.ledger.quarantine import QuarantinedRecord, quarantined

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
_ID = re.compile(r"[0-9a-f]{32}")
_PLATFORM = re.compile(r"[a-z][a-z0-9_-]*")
_SHA = re.compile(r"[0-9a-f]{7,64}")
# RFC 3986: a scheme, then no whitespace, controls or characters a URI never holds raw.
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s\x00-\x1f\x7f<>\"{}|\\^`]*")
_KINDS = frozenset(EventKind)
_CORRELATION = frozenset(CORRELATION_KEYS)


def event_problem(event: AuditEvent) -> str | None:
    """Why the event must not be stored, or None when it is fine."""
    return (
        _identity_problem(event)
        or _actor_problem(event)
        or _scope_problem(event)
        or _optional_problem(event)
        or _storable_problem(event)
    )


def _identity_problem(event: AuditEvent) -> str | None:
    if not (isinstance(event.id, str) and _ID.fullmatch(event.id)):
        return "its id is not 32 hex digits"
    if event.kind not in _KINDS:
        return f"its kind {event.kind!r} is not a known kind"
    if not _text(event.action):
        return "its action is empty"
    if not (isinstance(event.platform, str) and _PLATFORM.fullmatch(event.platform)):
        return "its platform is not a lowercase name"
    if not _text(event.instance):
        return "its instance is empty"
    return _time_problem(event)


def _time_problem(event: AuditEvent) -> str | None:
    for name in ("occurred_at", "observed_at"):
        moment = getattr(event, name)
        if moment is not None and not EARLIEST <= moment < LATEST:
            return f"its {name} {moment.isoformat()} is outside {EARLIEST.year}-{LATEST.year}"
    return None


def _actor_problem(event: AuditEvent) -> str | None:
    actor = event.actor
    if not isinstance(actor.type, ActorType):
        return "its actor type is not a known type"
    if actor.type is ActorType.UNKNOWN and (actor.login is not None or actor.id is not None):
        return "its unknown actor has a login or id"
    if actor.type is not ActorType.UNKNOWN and not isinstance(actor.login, str):
        return "its actor has no login"
    if actor.id is not None and not isinstance(actor.id, str):
        return "its actor id is not text"
    if actor.name is not None and not isinstance(actor.name, str):
        return "its actor name is not text"
    return None


def _scope_problem(event: AuditEvent) -> str | None:
    scope, source = event.scope, event.source
    if not _text(scope.owner):
        return "its scope has no owner"
    for name in ("repository", "environment"):
        value = getattr(scope, name)
        if value is not None and not _text(value):
            return f"its scope {name} is empty"
    if not _text(source.endpoint) or not _text(source.native_id):
        return "its source has no endpoint or native id"
    return None


def _optional_problem(event: AuditEvent) -> str | None:
    for name in ("ref", "outcome"):
        value = getattr(event, name)
        if value is not None and not isinstance(value, str):
            return f"its {name} is not text"
    if event.sha is not None and not (isinstance(event.sha, str) and _SHA.fullmatch(event.sha)):
        return "its sha is not 7 to 64 lowercase hex digits"
    for name in ("target", "change", "attributes", "correlation", "links"):
        if not isinstance(getattr(event, name) or {}, Mapping):
            return f"its {name} is not an object"
    for key, value in event.correlation.items():
        if key not in _CORRELATION or not isinstance(value, str):
            return f"its correlation {key!r} is not a known key with a text value"
    for key, value in event.links.items():
        if not (isinstance(value, str) and _URI.fullmatch(value)):
            return f"its link {key!r} is not a URI"
    return _supersedes_problem(event.supersedes)


def _supersedes_problem(ids: Sequence[str]) -> str | None:
    if len(set(ids)) != len(ids) or not all(isinstance(i, str) and _ID.fullmatch(i) for i in ids):
        return "its supersedes is not a list of distinct event ids"
    return None


def _storable_problem(event: AuditEvent) -> str | None:
    try:
        text = json.dumps(event.to_dict(), ensure_ascii=False, allow_nan=False)
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "it holds text that is not valid UTF-8 (a lone surrogate)"
    except ValueError:
        return "it holds a number JSON cannot carry (NaN or infinity)"
    except (TypeError, AttributeError, RecursionError):
        return "it holds a value that is not JSON"
    return None


def _text(value: Any) -> bool:
    return isinstance(value, str) and value != ""


@dataclass
class Screened:
    """A batch's events split into those fit to store and those to quarantine."""

    valid: list[AuditEvent] = field(default_factory=list)
    refused: list[QuarantinedRecord] = field(default_factory=list)


def screen(events: Sequence[AuditEvent]) -> Screened:
    result = Screened()
    for event in events:
        problem = event_problem(event)
        if problem is None:
            result.valid.append(event)
        else:
            result.refused.append(_refused(event, problem))
    return result


def _refused(event: AuditEvent, problem: str) -> QuarantinedRecord:
    platform = event.platform if isinstance(event.platform, str) else "?"
    endpoint = getattr(event.source, "endpoint", "?")
    return quarantined(
        platform,
        endpoint if isinstance(endpoint, str) else "?",
        getattr(event.source, "native_id", None),
        f"the {getattr(event.kind, 'value', event.kind)} event is not valid: {problem}",
        _event_raw(event),
    )


def _event_raw(event: AuditEvent) -> object:
    try:
        return event.to_dict()
    except Exception:
        return repr(event)
