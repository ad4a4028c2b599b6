"""PostgreSQL ledger: a shared, append-only, hash-chained store for many collectors."""
