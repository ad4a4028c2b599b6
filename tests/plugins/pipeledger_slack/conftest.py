"""The Slack alert route posts the anomalies found in the synthetic history the anomaly
tests use; its fixtures (the history and a ledger of it) come from there."""

from tests.core.anomalies.conftest import history, ledger_file

__all__ = ["history", "ledger_file"]
