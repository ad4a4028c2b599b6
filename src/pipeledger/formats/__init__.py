"""Schemas a sink can emit instead of the native ledger record: OCSF 1.8 and ECS.

Each mapping is a pure function from a :class:`LedgerRecord` to a JSON-ready dict; SIEM sinks
pick one with the URL option ``format=native|ocsf|ecs``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pipeledger.errors import UsageError
from pipeledger.events import canonical_json
from pipeledger.formats.ecs import to_ecs
from pipeledger.formats.ocsf import to_ocsf
from pipeledger.sinks.contract import ChainCheckpoint, LedgerRecord


class RecordSchema(StrEnum):
    NATIVE = "native"
    OCSF = "ocsf"
    ECS = "ecs"

    @classmethod
    def parse(cls, value: str | None) -> RecordSchema:
        if value is None:
            return cls.NATIVE
        try:
            return cls(value.lower())
        except ValueError:
            choices = ", ".join(member.value for member in cls)
            raise UsageError(
                f"Unknown sink format {value!r}.", f"Use format={choices} in the sink URL."
            ) from None


def render(record: LedgerRecord, output: RecordSchema) -> dict[str, Any]:
    """The document a sink stores for one record."""
    match output:
        case RecordSchema.NATIVE:
            return record.to_dict()
        case RecordSchema.OCSF:
            return to_ocsf(record)
        case RecordSchema.ECS:
            return to_ecs(record)


def render_json(record: LedgerRecord, output: RecordSchema) -> str:
    """:func:`render` as canonical JSON; the native form reuses the ledger's stored text."""
    if output is RecordSchema.NATIVE:
        return record.to_json()
    return canonical_json(render(record, output))


def checkpoint_document(checkpoint: ChainCheckpoint) -> dict[str, Any]:
    """A chain checkpoint as its own document. No SIEM schema has a class for a hash-chain
    head, so it keeps the native shape whatever the records' format."""
    return {"pipeledger_checkpoint": checkpoint.to_dict()}


__all__ = ["RecordSchema", "checkpoint_document", "render", "to_ecs", "to_ocsf"]
