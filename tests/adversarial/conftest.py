"""The adversarial suite reuses the GitHub adapter's fixtures: a fake API built from the
official payload examples, a fake clock and a real SQLite ledger."""

from tests.github.conftest import clock, hub, make_adapter, sinks

__all__ = ["clock", "hub", "make_adapter", "sinks"]
