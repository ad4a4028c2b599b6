"""GitHub's organization audit log (Enterprise Cloud): its entries as events (``events``) and
the incremental read of them (``stream``)."""
