"""An alert is data: a stable id, the detector that raised it, how severe and how strong it
is, what it is about, and one sentence that explains it against its baseline."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from pipeledger.events import format_time, full_name

SCHEMA_ID = "pipeledger/anomalies/v1"


class AlertSeverity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return _RANKS[self]


_RANKS = {AlertSeverity.LOW: 1, AlertSeverity.MEDIUM: 2, AlertSeverity.HIGH: 3}


@dataclass(frozen=True)
class AlertSubject:
    """What the alert is about, as the platform names it (ids are strings)."""

    event_ids: tuple[str, ...]
    deployment_id: str | None = None
    run_id: str | None = None
    pipeline_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "deployment_id": self.deployment_id,
            "run_id": self.run_id,
            "pipeline_id": self.pipeline_id,
        }
        return {k: v for k, v in data.items() if v is not None} | {
            "event_ids": list(self.event_ids)
        }


@dataclass(frozen=True)
class Anomaly:
    id: str
    detector: str
    severity: AlertSeverity
    score: float
    occurred_at: datetime
    platform: str
    instance: str
    owner: str
    repository: str | None
    environment: str | None
    subject: AlertSubject
    actors: tuple[str, ...]
    message: str
    baseline: Mapping[str, Any] = field(default_factory=dict)
    links: Mapping[str, str] = field(default_factory=dict)

    @property
    def repository_name(self) -> str | None:
        return full_name(self.owner, self.repository)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "detector": self.detector,
            "severity": self.severity.value,
            "score": round(self.score, 3),
            "occurred_at": format_time(self.occurred_at),
            "platform": self.platform,
            "instance": self.instance,
            "repository": self.repository_name or self.owner,
            "environment": self.environment,
            "subject": self.subject.to_dict(),
            "actors": list(self.actors),
            "message": self.message,
            "baseline": dict(self.baseline),
            "links": dict(self.links),
        }


def alert_id(detector: str, platform: str, instance: str, key: Sequence[str]) -> str:
    """Stable: the same anomaly found again — by another run, over another window — has the
    same id, so recording, acknowledging and notifying happen once."""
    material = "\x1f".join((detector, platform, instance.lower(), *key))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()[:32]


def at_least(severity: AlertSeverity, floor: AlertSeverity) -> bool:
    return severity.rank >= floor.rank
