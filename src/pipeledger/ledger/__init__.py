"""The ledger: its hash chain and everything that checks, signs, exports, queries and reads it.

- :mod:`~pipeledger.ledger.chain` — the chain as a ledger store writes and reads it: new rows,
  the indexed columns beside each body, stored rows back as records (what a ledger plugin
  needs, exported through :mod:`pipeledger.plugin`);
- :mod:`~pipeledger.ledger.chain_check` — checking the links and the indexed columns of stored
  rows against anchors;
- :mod:`~pipeledger.ledger.verify` — full verification: chain, checkpoints, copies, signatures;
- :mod:`~pipeledger.ledger.signing` — Ed25519 keys and checkpoint signatures;
- :mod:`~pipeledger.ledger.checkpoint_file` — a checkpoint exported to a file and compared later;
- :mod:`~pipeledger.ledger.sql` — the one ``EventFilter`` → SQL translation of the SQL ledgers;
- :mod:`~pipeledger.ledger.facts` — a ledger's events as the facts that stand;
- :mod:`~pipeledger.ledger.quarantine` — what could not become an event, kept aside.

The contract a ledger implements (``Ledger``, ``LedgerRecord``, ``ChainCheckpoint``) is a kind
of sink and lives in :mod:`pipeledger.sinks.contract`. A module whose name starts with an
underscore is private to its package (see docs/design.md); this file imports nothing, so
importing one module of the package loads no other.
"""
