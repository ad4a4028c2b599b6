"""Where events go: the sink and ledger contracts and the fan-out that feeds every sink from
the ledger.

- :mod:`~pipeledger.sinks.contract` — what a sink and a ledger implement (``Sink``,
  ``Ledger``, ``LedgerRecord``, ``ChainCheckpoint``, ``EventFilter``, ``StoredRow``), exported
  to plugins through :mod:`pipeledger.plugin`;
- :mod:`~pipeledger.sinks.url` — a sink URL parsed into its parts and known options;
- :mod:`~pipeledger.sinks.defaults` — the sink options' defaults a parser shows, apart from
  the fan-out so that building a parser opens nothing;
- :mod:`~pipeledger.sinks.fanout` — the ledger plus the sinks it feeds, with their delivery
  cursors.

The sink plugins themselves are packages of their own (``plugins/pipeledger_<name>/``), found
through the ``pipeledger.sinks`` entry points. This file imports nothing, so importing one
module of the package loads no other.
"""
