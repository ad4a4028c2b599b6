"""Anomaly alerts: what no policy rule foresaw, found by comparing each deployment, approval
and access change with the baseline the ledger's own history sets."""
