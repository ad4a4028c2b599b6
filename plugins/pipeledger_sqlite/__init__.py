"""The embedded default ledger: an append-only, hash-chained SQLite database."""
