"""``python -m bench.audit_verdict POLICY SINK``: the streaming audit of a ledger, its verdict
kept in memory and not rendered — what ``bench_read_path`` measures next to the whole
``pipeledger audit`` command, whose text report of every finding is itself large."""

from __future__ import annotations

import sys

from pipeledger.policy.audit import audit_ledger
from pipeledger.policy.loader import load_policy
from pipeledger.registry import load_sink
from pipeledger.sinks.contract import Ledger, SinkSettings


def main(policy: str, url: str) -> None:
    ledger = load_sink(url).open(url, SinkSettings(environ={}, create_ledger=False))
    assert isinstance(ledger, Ledger)
    evaluation = audit_ledger(load_policy(policy), ledger)
    print(f"{evaluation.deployments} deployments, {len(evaluation.findings)} findings")


if __name__ == "__main__":
    main(*sys.argv[1:3])
