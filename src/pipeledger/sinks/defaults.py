"""Defaults of the sink options that a command's parser shows before any sink is opened,
apart from :mod:`pipeledger.sinks.fanout` so that building a parser imports neither the fan-out
nor the sinks."""

from __future__ import annotations

# A chain checkpoint to every sink each N events and at the end of a run.
DEFAULT_CHECKPOINT_EVERY = 1000
# The ledger when no --sink names one.
DEFAULT_LEDGER_URL = "sqlite:///pipeledger.db"
