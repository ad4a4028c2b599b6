"""DORA's four keys — deployment frequency, lead time for changes, change failure rate and time
to restore — computed from the facts in the ledger, each definition written down in
``_definitions.py`` and on the documentation page."""

from pipeledger.dora._metrics import DoraMetrics, compute_metrics
from pipeledger.dora.deploys import DoraSettings, ProductionDeploy, production_deploys

__all__ = [
    "DoraMetrics",
    "DoraSettings",
    "ProductionDeploy",
    "compute_metrics",
    "production_deploys",
]
