"""The synthetic history, built once per session and written to a real SQLite ledger."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeledger_sqlite.sink import SqliteSink
from tests.core.anomalies.synthetic import History, build


@pytest.fixture(scope="session")
def history() -> History:
    return build()


@pytest.fixture(scope="session")
def ledger_file(history: History, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("anomalies") / "ledger.db"
    ledger = SqliteSink(path)
    ledger.append(history.events, {})
    ledger.close()
    return path
