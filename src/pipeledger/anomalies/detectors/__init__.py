"""The built-in detectors, one module each, in the order their alerts are listed."""

from __future__ import annotations

from pipeledger.anomalies.detectors._base import Detector, Judging
from pipeledger.anomalies.detectors._deploy_burst import DeployBurstDetector
from pipeledger.anomalies.detectors._dormant_account import DormantAccountDetector
from pipeledger.anomalies.detectors._first_deployer import FirstDeployerDetector
from pipeledger.anomalies.detectors._new_approver_pair import NewApproverPairDetector
from pipeledger.anomalies.detectors._privilege_escalation import PrivilegeEscalationDetector
from pipeledger.anomalies.detectors._protection_toggle import ProtectionToggleDetector
from pipeledger.anomalies.detectors._unusual_time import UnusualTimeDetector

DETECTORS: tuple[type[Detector], ...] = (
    FirstDeployerDetector,
    UnusualTimeDetector,
    PrivilegeEscalationDetector,
    ProtectionToggleDetector,
    DeployBurstDetector,
    DormantAccountDetector,
    NewApproverPairDetector,
)
DETECTOR_NAMES = tuple(d.name for d in DETECTORS)

__all__ = ["DETECTORS", "DETECTOR_NAMES", "Detector", "Judging"]
