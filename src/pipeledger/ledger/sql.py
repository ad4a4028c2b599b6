"""The one translation of an :class:`~pipeledger.sinks.contract.EventFilter` into SQL
conditions, for the ledgers that keep events in a SQL table (SQLite, PostgreSQL). Both index
the same columns (``kind``, ``actor``, ``repository``, ``environment``, ``occurred_at``); they
differ only in the placeholder and in how a time is passed, which the caller names."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pipeledger.sinks.contract import EventFilter

FILTERED_COLUMNS = ("actor", "repository", "environment")


def event_conditions(
    selection: EventFilter, mark: str, time_value: Callable[[datetime], Any]
) -> tuple[list[str], list[Any]]:
    """The conditions a selection puts on the events table (to be joined with ``AND``) and
    their parameters in order. ``mark`` is the driver's placeholder (``?``, ``%s``);
    ``time_value`` turns a moment into what the ``occurred_at`` column compares with. Paging
    (``after_seq``) and ordering are the caller's."""
    clauses: list[str] = []
    params: list[Any] = []
    if selection.kinds:
        clauses.append(f"kind IN ({', '.join(mark for _ in selection.kinds)})")
        params.extend(kind.value for kind in selection.kinds)
    for column in FILTERED_COLUMNS:
        value = getattr(selection, column)
        if value is not None:
            clauses.append(f"{column} = {mark}")
            params.append(value)
    if selection.since is not None:
        clauses.append(f"occurred_at >= {mark}")
        params.append(time_value(selection.since))
    if selection.until is not None:
        clauses.append(f"occurred_at < {mark}")
        params.append(time_value(selection.until))
    return clauses, params
