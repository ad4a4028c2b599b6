"""The policy engine's values: severities, a loaded policy, subjects and findings.

A finding is data (rule id, severity, message, evidence, remedy); rules never raise for a
violation.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import FrozenInstanceError, dataclass, field
from enum import StrEnum
from typing import Any

from pipeledger.docs_links import rule_docs_url


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    NOTICE = "notice"

    @property
    def rank(self) -> int:
        return _RANKS[self]


_RANKS = {Severity.ERROR: 3, Severity.WARNING: 2, Severity.NOTICE: 1}


class FailOn(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    NEVER = "never"

    def fails(self, severity: Severity) -> bool:
        if self is FailOn.NEVER:
            return False
        return severity.rank >= Severity(self.value).rank


@dataclass(frozen=True)
class RuleSpec:
    """What every rule has, whatever its type; ``params`` holds the type's own keys."""

    id: str
    type: str
    severity: Severity
    line: int
    description: str | None = None
    remedy: str | None = None
    docs: str | None = None
    match: Mapping[str, Any] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def docs_url(self) -> str:
        return self.docs or rule_docs_url(self.type)


@dataclass(frozen=True, slots=True)
class Subject:
    """What a finding is about: a deployment, or a single recorded event."""

    kind: str
    key: str
    repository: str | None = None
    environment: str | None = None
    ref: str | None = None
    sha: str | None = None
    run_id: str | None = None
    url: str | None = None

    def describe(self) -> str:
        where = f" to {self.environment}" if self.environment else ""
        repo = f" in {self.repository}" if self.repository else ""
        ref = f" from {self.ref}" if self.ref else ""
        run = f" (run {self.run_id})" if self.run_id else ""
        return f"{self.kind} {self.key}{where}{ref}{repo}{run}"

    def to_dict(self) -> dict[str, Any]:
        data = {
            "kind": self.kind,
            "key": self.key,
            "repository": self.repository,
            "environment": self.environment,
            "ref": self.ref,
            "sha": self.sha,
            "run_id": self.run_id,
            "url": self.url,
        }
        return {k: v for k, v in data.items() if v is not None}


@dataclass(frozen=True)
class Violation:
    """What a rule reports; the engine adds the rule's identity and the subject."""

    message: str
    evidence: Sequence[str] = ()
    links: Sequence[str] = ()
    remedy: str | None = None


@dataclass(frozen=True, slots=True)
class _RuleFacts:
    """What every finding of one rule has in common, held once and shared."""

    rule_id: str
    rule_type: str
    severity: Severity
    remedy: str
    docs_url: str
    rule_line: int


@functools.lru_cache(maxsize=1024)
def _rule_facts(
    rule_id: str, rule_type: str, severity: Severity, remedy: str, docs_url: str, rule_line: int
) -> _RuleFacts:
    return _RuleFacts(rule_id, rule_type, severity, remedy, docs_url, rule_line)


@functools.lru_cache(maxsize=4096)
def _shared_message(message: str) -> str:
    """The first of equal messages, for every finding that has it: a rule on single events
    says the same thing again and again (``dev4 weakened the branch protection of main``),
    and each would otherwise hold its own copy."""
    return message


# A finding's evidence and links, packed (see Finding): one flag byte, then each evidence id
# of the usual shape (32 lowercase hex digits, as event_id makes them) as its 16 bytes.
_NO_LINKS, _SUBJECT_LINK = 0, 1
Refs = bytes | tuple[tuple[str, ...], tuple[str, ...]]


def _pack_refs(evidence: Sequence[str], links: Sequence[str], subject: Subject) -> Refs:
    if not links:
        flag = _NO_LINKS
    elif len(links) == 1 and links[0] == subject.url:
        flag = _SUBJECT_LINK
    else:
        return tuple(evidence), tuple(links)
    packed = bytearray((flag,))
    for ident in evidence:
        if len(ident) != 32:
            return tuple(evidence), tuple(links)
        try:
            raw = bytes.fromhex(ident)
        except ValueError:
            return tuple(evidence), tuple(links)
        if raw.hex() != ident:  # upper case, or spaces fromhex skipped
            return tuple(evidence), tuple(links)
        packed += raw
    return bytes(packed)


class Finding:
    """One violation of one rule by one subject; immutable.

    An audit of a large ledger can hold a finding for each of 100,000s of deployments, so a
    finding is four references: the facts it shares with its rule's other findings (id, type,
    severity, remedy, docs URL, line), its message (shared with recent findings that say the
    same), its subject (shared by the rules that judged it) and its evidence ids and links
    packed into one ``bytes`` — 16 bytes an id rather than a tuple of 32-character strings,
    and no copy of a link that is the subject's own URL. The fields read as they are given."""

    __slots__ = ("_refs", "_rule", "message", "subject")
    _rule: _RuleFacts
    _refs: Refs
    message: str
    subject: Subject

    def __init__(
        self,
        *,
        rule_id: str,
        rule_type: str,
        severity: Severity,
        message: str,
        subject: Subject,
        evidence: Sequence[str],
        links: Sequence[str],
        remedy: str,
        docs_url: str,
        rule_line: int,
    ) -> None:
        facts = _rule_facts(rule_id, rule_type, severity, remedy, docs_url, rule_line)
        object.__setattr__(self, "_rule", facts)
        object.__setattr__(self, "_refs", _pack_refs(evidence, links, subject))
        object.__setattr__(self, "message", _shared_message(message))
        object.__setattr__(self, "subject", subject)

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    @property
    def rule_id(self) -> str:
        return self._rule.rule_id

    @property
    def rule_type(self) -> str:
        return self._rule.rule_type

    @property
    def severity(self) -> Severity:
        return self._rule.severity

    @property
    def remedy(self) -> str:
        return self._rule.remedy

    @property
    def docs_url(self) -> str:
        return self._rule.docs_url

    @property
    def rule_line(self) -> int:
        return self._rule.rule_line

    @property
    def evidence(self) -> tuple[str, ...]:
        refs = self._refs
        if isinstance(refs, tuple):
            return refs[0]
        return tuple(refs[start : start + 16].hex() for start in range(1, len(refs), 16))

    @property
    def links(self) -> tuple[str, ...]:
        refs = self._refs
        if isinstance(refs, tuple):
            return refs[1]
        if refs[0] == _SUBJECT_LINK and self.subject.url is not None:
            return (self.subject.url,)
        return ()

    def _fields(self) -> tuple[Any, ...]:
        return (
            self.rule_id,
            self.rule_type,
            self.severity,
            self.message,
            self.subject,
            self.evidence,
            self.links,
            self.remedy,
            self.docs_url,
            self.rule_line,
        )

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Finding)
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        shown = ", ".join(f"{n}={v!r}" for n, v in zip(_FIELDS, self._fields(), strict=True))
        return f"Finding({shown})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_finding_from, self._fields())

    @property
    def fingerprint(self) -> str:
        """Stable across runs: the same rule on the same subject gives the same id."""
        material = f"{self.rule_id}\x1f{self.subject.kind}\x1f{self.subject.key}"
        return hashlib.sha256(material.encode("utf-8")).hexdigest()[:32]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.fingerprint,
            "rule_id": self.rule_id,
            "rule_type": self.rule_type,
            "severity": self.severity.value,
            "message": self.message,
            "subject": self.subject.to_dict(),
            "evidence": list(self.evidence),
            "links": list(self.links),
            "remedy": self.remedy,
            "docs": self.docs_url,
            "rule_line": self.rule_line,
        }


_FIELDS = (
    "rule_id",
    "rule_type",
    "severity",
    "message",
    "subject",
    "evidence",
    "links",
    "remedy",
    "docs_url",
    "rule_line",
)


def _finding_from(*fields: Any) -> Finding:
    return Finding(**dict(zip(_FIELDS, fields, strict=True)))


@dataclass(frozen=True)
class Policy:
    path: str
    sha256: str
    rules: Sequence[RuleSpec]
    teams: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def team_names(self) -> list[str]:
        """Every team a rule names, in first-use order."""
        names: list[str] = []
        for rule in self.rules:
            for team in _teams_in(rule.params):
                if team not in names:
                    names.append(team)
        return names


def _teams_in(value: Any) -> list[str]:
    if isinstance(value, Mapping):
        found: list[str] = []
        for key, item in value.items():
            if key == "teams" and isinstance(item, list):
                found.extend(str(team) for team in item)
            else:
                found.extend(_teams_in(item))
        return found
    if isinstance(value, list):
        return [team for item in value for team in _teams_in(item)]
    return []
