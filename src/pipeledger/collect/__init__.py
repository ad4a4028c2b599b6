"""Collection: what an adapter implements and how the core runs it into the ledger.

- :mod:`~pipeledger.collect.adapter` — the adapter contract: collecting (``Adapter``,
  ``CollectRequest``, ``Batch``, scopes, cursors) and the deployment gate's evidence
  (``GateSource``, ``GateEvidence``), exported to plugins through :mod:`pipeledger.plugin`;
- :mod:`~pipeledger.collect.run` — an adapter run into the ledger, batch by batch, with its
  cursors, quarantine and fan-out;
- :mod:`~pipeledger.collect.progress` — what a collection (and the API client under it) tells
  the person waiting for it.

Private to the package: ``_scopes`` (``collect --concurrency N``: scopes fetched by worker
threads, stored by one writer) and ``_shared_progress`` (progress from those threads, and the
projected finish). This file imports nothing, so importing one module of the package loads no
other.
"""
