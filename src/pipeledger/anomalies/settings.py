"""The ``anomalies:`` section of a policy file: look-back, people to ignore, and per detector
whether it runs, its severity and its thresholds. Every key has a default, so detectors work
with no section at all; ``schemas/policy.v1.schema.json`` validates what is written."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from fnmatch import fnmatchcase
from typing import Any

from pipeledger.anomalies.model import AlertSeverity

DEFAULT_LOOKBACK_DAYS = 90


@dataclass(frozen=True)
class DetectorSettings:
    enabled: bool = True
    severity: AlertSeverity | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    allow: tuple[str, ...] = ()

    def number(self, name: str, default: float) -> float:
        value = self.params.get(name)
        return float(value) if isinstance(value, int | float) else default

    def whole(self, name: str, default: int) -> int:
        return int(self.number(name, default))

    def words(self, name: str, default: tuple[str, ...]) -> tuple[str, ...]:
        value = self.params.get(name)
        return tuple(str(v).lower() for v in value) if isinstance(value, list) else default

    def allows(self, login: str | None) -> bool:
        """True when the detector must not judge this person (its ``allow`` list)."""
        return login is not None and any(matches(login, g) for g in self.allow)

    def severity_or(self, default: AlertSeverity) -> AlertSeverity:
        return self.severity or default


@dataclass(frozen=True)
class AnomalySettings:
    lookback_days: int = DEFAULT_LOOKBACK_DAYS
    ignore_actors: tuple[str, ...] = ("*[bot]",)
    detectors: Mapping[str, DetectorSettings] = field(default_factory=dict)

    @property
    def lookback(self) -> timedelta:
        return timedelta(days=self.lookback_days)

    def detector(self, name: str) -> DetectorSettings:
        return self.detectors.get(name) or DetectorSettings()

    def ignores(self, login: str | None) -> bool:
        return login is not None and any(matches(login, g) for g in self.ignore_actors)

    @classmethod
    def from_mapping(cls, section: Mapping[str, Any] | None) -> AnomalySettings:
        """From an ``anomalies:`` section the policy schema already validated."""
        section = section or {}
        detectors = {
            str(name): _detector(spec)
            for name, spec in (section.get("detectors") or {}).items()
            if isinstance(spec, Mapping)
        }
        ignore = section.get("ignore_actors")
        return cls(
            lookback_days=int(section.get("lookback_days", DEFAULT_LOOKBACK_DAYS)),
            ignore_actors=tuple(str(g).lower() for g in ignore)
            if isinstance(ignore, list)
            else cls.ignore_actors,
            detectors=detectors,
        )


def matches(login: str, pattern: str) -> bool:
    """``*`` and ``?`` are wildcards; brackets are literal, so ``*[bot]`` means bots."""
    literal = pattern.lower().replace("[", "[[]")
    return fnmatchcase(login.lower(), literal)


def _detector(spec: Mapping[str, Any]) -> DetectorSettings:
    severity = spec.get("severity")
    params = {k: v for k, v in spec.items() if k not in ("enabled", "severity", "allow")}
    return DetectorSettings(
        enabled=bool(spec.get("enabled", True)),
        severity=AlertSeverity(severity) if severity else None,
        params=params,
        allow=tuple(str(g).lower() for g in spec.get("allow") or ()),
    )
