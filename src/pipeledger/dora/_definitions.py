"""The definitions every output of the DORA metrics carries, word for word as documented in
docs/metrics.md, so a number is never read without what it counts."""

from __future__ import annotations

DEFINITIONS: dict[str, str] = {
    "production": (
        "A production deployment is a deployment event whose environment matches one of the"
        " production patterns (default prod, prod-*, prod_*, production, production-*, live;"
        " case-insensitive). It counts at the time of its first success status (it went live),"
        " else of its first failure status."
    ),
    "deployment_frequency": (
        "Production deployments that reached a success status in the period, divided by the"
        " period's days (per day) and by its days / 7 (per week); overall and per repository."
    ),
    "lead_time": (
        "For each commit at its first successful production deployment of its repository in the"
        " period: from when its change began — the pull/merge request's creation when the"
        " ledger records it (target.created_at), else the first recorded review of that"
        " request — to the deployment's success. Median and p90 (nearest rank). Deployments"
        " with no recorded pull/merge request behind the commit are counted as without a start."
    ),
    "change_failure_rate": (
        "Production deployments that finished (success or failure status) in the period and"
        " failed, divided by all that finished. A deployment failed when it has a failure or"
        " error status; or when, within the failure window (default 24 h) after it went live,"
        " the next successful deployment of the same repository and environment rolled back"
        " to a commit deployed there before it; or was of a revert or hotfix (ref matching"
        " the hotfix patterns, default hotfix/*, hotfix-*, revert-*, or a reviewed request"
        " titled 'Revert …')."
    ),
    "time_to_restore": (
        "For each failed production deployment: from the failure (its failure status, or when"
        " the deployment that was later rolled back or fixed went live) to the next success"
        " status of a deployment of the same repository and environment. Median and p90"
        " (nearest rank); failures with no later success are counted as not restored."
    ),
}
