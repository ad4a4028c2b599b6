"""The DORA metrics as flat rows (CSV for spreadsheets and dashboards) and as text."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipeledger.dora._metrics import DoraMetrics
from pipeledger.dora.deploys import FailureCause
from pipeledger.dora.stats import human

CSV_COLUMNS = (
    "scope",
    "deployments",
    "deployments_per_day",
    "deployments_per_week",
    "lead_time_changes",
    "lead_time_median_seconds",
    "lead_time_p90_seconds",
    "lead_time_without_start",
    "finished_deployments",
    "failed_deployments",
    "change_failure_rate",
    *(f"failed_by_{cause.value}" for cause in FailureCause),
    "restores",
    "time_to_restore_median_seconds",
    "time_to_restore_p90_seconds",
    "not_restored",
)


def rows(metrics: DoraMetrics) -> list[dict[str, Any]]:
    """``overall`` first, then one row per repository by name."""
    return rows_from_dict(metrics.to_dict())


def rows_from_dict(metrics: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The same rows from the metrics' JSON form (as data.json holds it)."""
    scopes = [("overall", metrics["overall"]), *sorted(metrics["repositories"].items())]
    return [_row(name, scope) for name, scope in scopes]


def _row(name: str, data: Mapping[str, Any]) -> dict[str, Any]:
    frequency, lead = data["deployment_frequency"], data["lead_time"]
    failure, restore = data["change_failure_rate"], data["time_to_restore"]
    return {
        "scope": name,
        "deployments": frequency["deployments"],
        "deployments_per_day": frequency["per_day"],
        "deployments_per_week": frequency["per_week"],
        "lead_time_changes": lead["count"],
        "lead_time_median_seconds": lead["median_seconds"],
        "lead_time_p90_seconds": lead["p90_seconds"],
        "lead_time_without_start": lead["without_start"],
        "finished_deployments": failure["finished"],
        "failed_deployments": failure["failed"],
        "change_failure_rate": failure["rate"],
        **{f"failed_by_{cause}": count for cause, count in failure["by_cause"].items()},
        "restores": restore["count"],
        "time_to_restore_median_seconds": restore["median_seconds"],
        "time_to_restore_p90_seconds": restore["p90_seconds"],
        "not_restored": restore["not_restored"],
    }


def as_text(metrics: DoraMetrics) -> str:
    period = metrics.period
    lines = [
        f"DORA metrics for {period.label}"
        f" ({period.start.date()} to {period.end.date()}, end exclusive),"
        f" production = {', '.join(metrics.settings.production)}",
        "",
    ]
    for row in rows(metrics):
        rate = row["change_failure_rate"]
        lines += [
            row["scope"],
            f"  deployment frequency  {row['deployments']} deploys,"
            f" {row['deployments_per_week'] or 0:.2f}/week",
            f"  lead time             median {human(row['lead_time_median_seconds'])},"
            f" p90 {human(row['lead_time_p90_seconds'])} over {row['lead_time_changes']}"
            f" changes ({row['lead_time_without_start']} without a recorded start)",
            f"  change failure rate   {'n/a' if rate is None else f'{rate:.1%}'}"
            f" ({row['failed_deployments']} of {row['finished_deployments']})",
            f"  time to restore       median {human(row['time_to_restore_median_seconds'])},"
            f" p90 {human(row['time_to_restore_p90_seconds'])}"
            f" ({row['not_restored']} not restored)",
        ]
    lines += ["", "Definitions: pipeledger metrics --format json, or the Metrics page of the docs."]
    return "\n".join(lines)
