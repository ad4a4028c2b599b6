"""DORA's four keys on march_history(), every expected value worked out by hand here."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from pipeledger.dora import DoraSettings, compute_metrics
from pipeledger.dora.stats import nearest_rank
from pipeledger.events import EventKind
from pipeledger.period import parse_period
from pipeledger.policy.deployment_context import deployment_contexts
from tests.core.report.history import Pull, deploy, march_history

HOUR = 3600.0
DAY = 24 * HOUR


def _metrics(settings: DoraSettings | None = None) -> dict:  # type: ignore[type-arg]
    contexts = deployment_contexts(march_history())
    period = parse_period("2026-03")
    return compute_metrics(contexts, period, settings or DoraSettings()).to_dict()


def test_acme_api_in_march() -> None:
    api = _metrics()["repositories"]["acme/api"]
    # Live in production: deploys 1, 2, 4, 5, 6, 7, 8, 9, 10 (3 and 12 failed; 11 is staging).
    assert api["deployment_frequency"] == {
        "deployments": 9,
        "per_day": round(9 / 31, 4),
        "per_week": round(9 * 7 / 31, 4),
    }
    # First production deploy of each commit: 1 (PR opened 24 h before), 2 (first review
    # 12 h before), 4 (commit s3's PR opened 6 h before), 7 (24 h), 9 (2 h); 5, 8 and 10 have
    # no pull request behind them; 6 re-deploys s3.
    assert api["lead_time"] == {
        "count": 5,
        "median_seconds": 12 * HOUR,
        "p90_seconds": DAY,  # nearest rank: ceil(0.9 * 5) = 5th of 2, 6, 12, 24, 24 h
        "by_start": {"first_review": 1, "pull_request_created": 4},
        "without_start": 3,
    }
    # Finished: 1-10 and 12. Failed: 3 and 12 (failure status), 5 (6 rolled back to s3,
    # deployed before 5), 9 (hotfix 10 went live 4 h later). 7 is not: hotfix 8 came 2 days
    # later, past the 24 h window.
    assert api["change_failure_rate"] == {
        "finished": 11,
        "failed": 4,
        "rate": round(4 / 11, 4),
        "by_cause": {"failed_status": 2, "rollback": 1, "revert_or_hotfix": 1},
    }
    # 3: failed 12:05, 4 live 13:05 -> 1 h; 5: live 10:05, rolled back 11:05 -> 1 h;
    # 9: live 10:05, hotfix 14:05 -> 4 h; 12 has no later success.
    assert api["time_to_restore"] == {
        "count": 3,
        "median_seconds": HOUR,
        "p90_seconds": 4 * HOUR,
        "not_restored": 1,
    }


def test_acme_web_counts_what_happened_around_the_period() -> None:
    web = _metrics()["repositories"]["acme/web"]
    # 20 (February) and 23 (April) are outside March; 22 failed on 31 March 23:30 and 23
    # restored it an hour later, in April: the restore is measured all the same.
    assert web["deployment_frequency"]["deployments"] == 1
    assert web["lead_time"]["median_seconds"] == DAY
    assert web["change_failure_rate"]["rate"] == 0.5
    assert web["time_to_restore"]["median_seconds"] == HOUR


def test_overall_in_march() -> None:
    overall = _metrics()["overall"]
    assert overall["deployment_frequency"]["deployments"] == 10
    assert overall["deployment_frequency"]["per_week"] == round(70 / 31, 4)
    # 2, 6, 12, 24, 24 (api) and 24 h (web): median (12 + 24) / 2, p90 the 6th value.
    assert overall["lead_time"]["median_seconds"] == 18 * HOUR
    assert overall["lead_time"]["p90_seconds"] == DAY
    assert overall["change_failure_rate"]["failed"] == 5
    assert overall["change_failure_rate"]["finished"] == 13
    assert overall["time_to_restore"]["count"] == 4
    assert overall["time_to_restore"]["p90_seconds"] == 4 * HOUR


def test_a_wider_failure_window_blames_the_deploy_before_a_late_hotfix() -> None:
    api = _metrics(DoraSettings(failure_window=timedelta(days=3)))["repositories"]["acme/api"]
    # Hotfix 8 came 2 days after 7: now 7 failed too, restored when 8 went live (2 days).
    assert api["change_failure_rate"]["by_cause"]["revert_or_hotfix"] == 2
    assert api["time_to_restore"]["count"] == 4


def test_staging_counts_when_named_production() -> None:
    settings = DoraSettings(production=("staging",))
    api = _metrics(settings)["repositories"]["acme/api"]
    assert api["deployment_frequency"]["deployments"] == 1


@pytest.mark.parametrize(
    ("values", "percent", "expected"),
    [([1.0], 90, 1.0), ([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0], 90, 9.0),
     ([5.0, 1.0, 3.0], 50, 3.0), ([], 90, None)],
)  # fmt: skip
def test_nearest_rank(values: list[float], percent: float, expected: float | None) -> None:
    assert nearest_rank(values, percent) == expected


@pytest.mark.parametrize("where", ["attributes", "target"])
def test_a_revert_request_marks_the_deploy_before_it_failed(where: str) -> None:
    """GitLab's collector records the request's title in attributes, GitHub's in target."""
    events = [
        *deploy("acme/app", 1, "03-02 10:00", "a1", success="03-02 10:05"),
        *deploy("acme/app", 2, "03-02 12:00", "a2", success="03-02 12:05",
                pull=Pull(2, created_at="03-02 11:00", reviewed_at="03-02 11:30",
                          title='Revert "Add cache"')),
    ]  # fmt: skip
    if where == "target":
        events = [
            replace(e, attributes={}, target={**(e.target or {}), "title": 'Revert "Add cache"'})
            if e.kind is EventKind.CHANGE_REVIEW
            else e
            for e in events
        ]
    metrics = compute_metrics(deployment_contexts(events), parse_period("2026-03"), DoraSettings())
    app = metrics.to_dict()["repositories"]["acme/app"]
    # 1 went live 10:05, the revert 2 at 12:05: 1 failed, restored 2 h later.
    assert app["change_failure_rate"]["by_cause"]["revert_or_hotfix"] == 1
    assert app["time_to_restore"]["median_seconds"] == 2 * HOUR
    assert app["lead_time"]["by_start"] == {"pull_request_created": 1}
