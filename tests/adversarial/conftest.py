"""The adversarial suite reuses the GitHub adapter's fixtures: a fake API built from the
official payload examples, a fake clock and a real SQLite ledger."""

from tests.adversarial.hostile_env import foreign, github, github_proxy
from tests.plugins.pipeledger_github.conftest import clock, hub, make_adapter, sinks

__all__ = ["clock", "foreign", "github", "github_proxy", "hub", "make_adapter", "sinks"]
