"""``pipeledger serve``: the webhook receiver, its ledger writer and metrics."""
