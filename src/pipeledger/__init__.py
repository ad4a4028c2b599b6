"""pipeledger: who did what in CI/CD, recorded in a verifiable ledger."""

__version__ = "0.1.0"
