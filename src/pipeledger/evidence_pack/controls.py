"""The control mapping: which parts of the pack serve which SOC 2, ISO/IEC 27001 and SOX
control, read from a YAML file users can edit (the bundled ``controls.yml`` by default)."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from pipeledger.errors import ConfigError

REQUIRED = ("framework", "control", "title", "evidence")


@dataclass(frozen=True)
class Control:
    framework: str
    control: str
    title: str
    evidence: tuple[str, ...]
    sections: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "framework": self.framework,
            "control": self.control,
            "title": self.title,
            "evidence": list(self.evidence),
            "sections": list(self.sections),
        }


@dataclass(frozen=True)
class ControlMapping:
    source: str
    text: str
    controls: tuple[Control, ...]


def bundled_text() -> str:
    return resources.files("pipeledger.evidence_pack").joinpath("controls.yml").read_text("utf-8")


def load_controls(path: str | None) -> ControlMapping:
    if path is None:
        return parse_controls(bundled_text(), "the bundled controls.yml")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(
            f"The controls file {path} cannot be read: {error.strerror}.", "Check --controls."
        ) from None
    return parse_controls(text, path)


def parse_controls(text: str, source: str) -> ControlMapping:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        raise _invalid(source, "it is not valid YAML") from None
    entries = data.get("controls") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise _invalid(source, "it needs a non-empty list under controls:")
    return ControlMapping(
        source, text, tuple(_control(e, n, source) for n, e in enumerate(entries))
    )


def _control(entry: Any, number: int, source: str) -> Control:
    where = f"entry {number + 1}"
    if not isinstance(entry, dict):
        raise _invalid(source, f"{where} is not a mapping")
    missing = [key for key in REQUIRED if not entry.get(key)]
    if missing:
        raise _invalid(source, f"{where} lacks {', '.join(missing)}")
    evidence, sections = entry["evidence"], entry.get("sections") or []
    if not isinstance(evidence, list) or not isinstance(sections, list):
        raise _invalid(source, f"{where}: evidence and sections must be lists")
    return Control(
        framework=str(entry["framework"]),
        control=str(entry["control"]),
        title=" ".join(str(entry["title"]).split()),
        evidence=tuple(str(item) for item in evidence),
        sections=tuple(str(item) for item in sections),
    )


def _invalid(source: str, why: str) -> ConfigError:
    return ConfigError(
        f"The control mapping {source} cannot be used: {why}.",
        "Start from the bundled file (pipeledger report --help names it; docs: Evidence pack)"
        " and keep framework, control, title and evidence in every entry.",
    )
