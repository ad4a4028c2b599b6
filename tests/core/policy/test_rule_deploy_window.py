"""deploy-window: weekdays and hours in a time zone, freezes with a reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeledger.errors import ConfigError
from tests.core.policy.builders import deployment, judge, messages, policy_from, rule_yaml

WEEKDAYS = """
  - id: window
    type: deploy-window
    timezone: {zone}
    allow:
      - days: [mon, tue, wed, thu, fri]
        hours: "{hours}"
"""


def allowed(tmp_path: Path, at: str, zone: str = "UTC", hours: str = "06:00-20:00") -> bool:
    loaded = policy_from(tmp_path, rule_yaml(WEEKDAYS.format(zone=zone, hours=hours)))
    return judge(loaded, [deployment(run_id=None, at=at)]).findings == []


@pytest.mark.parametrize(
    ("at", "ok"),
    [
        ("2026-03-11T10:00:00Z", True),  # Wednesday
        ("2026-03-11T06:00:00Z", True),  # opening minute
        ("2026-03-11T05:59:59Z", False),
        ("2026-03-11T19:59:59Z", True),
        ("2026-03-11T20:00:00Z", False),  # the end is exclusive
        ("2026-03-14T02:00:00Z", False),  # Saturday 02:00
        ("2026-03-15T12:00:00Z", False),  # Sunday
    ],
)
def test_utc_weekday_hours(tmp_path: Path, at: str, ok: bool) -> None:
    assert allowed(tmp_path, at) is ok


@pytest.mark.parametrize(
    ("at", "ok"),
    [
        ("2026-03-11T04:59:00Z", False),  # 05:59 in Berlin (CET, +1)
        ("2026-03-11T05:00:00Z", True),  # 06:00 in Berlin
        ("2026-03-11T18:59:00Z", True),  # 19:59 in Berlin
        ("2026-03-11T19:00:00Z", False),  # 20:00 in Berlin
        ("2026-03-31T04:30:00Z", True),  # 06:30 in Berlin after the switch to CEST (+2)
        ("2026-03-13T23:30:00Z", False),  # Saturday 00:30 in Berlin, still Friday in UTC
    ],
)
def test_time_zone_boundaries(tmp_path: Path, at: str, ok: bool) -> None:
    assert allowed(tmp_path, at, zone="Europe/Berlin") is ok


def test_saturday_in_utc_is_friday_evening_in_new_york(tmp_path: Path) -> None:
    assert allowed(tmp_path, "2026-03-14T02:00:00Z", zone="America/New_York", hours="06:00-23:00")


@pytest.mark.parametrize(
    ("at", "ok"),
    [
        ("2026-03-13T21:59:00Z", False),  # Friday before the window opens
        ("2026-03-13T22:00:00Z", True),  # Friday night
        ("2026-03-14T01:59:00Z", True),  # after midnight, still Friday's window
        ("2026-03-14T02:00:00Z", False),
        ("2026-03-14T23:00:00Z", False),  # Saturday night is not listed
    ],
)
def test_window_past_midnight(tmp_path: Path, at: str, ok: bool) -> None:
    loaded = policy_from(
        tmp_path,
        rule_yaml(
            "  - id: night\n    type: deploy-window\n"
            '    allow: [{days: [fri], hours: "22:00-02:00"}]\n'
        ),
    )
    assert (judge(loaded, [deployment(run_id=None, at=at)]).findings == []) is ok


def test_until_midnight(tmp_path: Path) -> None:
    assert allowed(tmp_path, "2026-03-11T23:59:00Z", hours="18:00-24:00")
    assert not allowed(tmp_path, "2026-03-12T00:00:00Z", hours="18:00-24:00")
    assert allowed(tmp_path, "2026-03-12T00:00:00Z", hours="18:00-02:00")


FREEZE = """
  - id: freeze
    type: deploy-window
    timezone: Europe/Berlin
    freezes:
      - from: "2026-03-13T22:00"
        to: "2026-03-14T06:00"
        reason: Database migration night
"""


@pytest.mark.parametrize(
    ("at", "frozen"),
    [
        ("2026-03-13T20:59:00Z", False),  # 21:59 Berlin
        ("2026-03-13T21:00:00Z", True),  # 22:00 Berlin, the freeze starts
        ("2026-03-13T23:30:00Z", True),  # 00:30 Berlin, past midnight
        ("2026-03-14T04:59:00Z", True),  # 05:59 Berlin
        ("2026-03-14T05:00:00Z", False),  # 06:00 Berlin, over
    ],
)
def test_freeze_spanning_midnight(tmp_path: Path, at: str, frozen: bool) -> None:
    loaded = policy_from(tmp_path, rule_yaml(FREEZE))
    found = messages(judge(loaded, [deployment(run_id=None, at=at)]))
    assert bool(found) is frozen
    if frozen:
        assert "freeze (Database migration night)" in found[0]


def test_freeze_wins_over_an_allowed_window(tmp_path: Path) -> None:
    text = rule_yaml(
        FREEZE + '    allow: [{days: [mon, tue, wed, thu, fri, sat, sun], hours: "00:00-24:00"}]\n'
    )
    loaded = policy_from(tmp_path, text)
    assert judge(loaded, [deployment(run_id=None, at="2026-03-13T23:30:00Z")]).findings


def test_unknown_time_zone_suggests_the_right_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="Did you mean Europe/Berlin"):
        policy_from(
            tmp_path, rule_yaml(WEEKDAYS.format(zone="Europe/Berlinn", hours="06:00-20:00"))
        )
