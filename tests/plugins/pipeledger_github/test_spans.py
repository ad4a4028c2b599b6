"""What is left to read given the stored span, window halving, and cursor round trips."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipeledger_github.cursor import Pending, SourceCursor, Span, cursor_key
from pipeledger_github.spans import ACTIONS_EPOCH, Gap, Side, created_query, halves, plan_gaps

T = datetime(2026, 5, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def test_nothing_stored_is_one_fresh_gap() -> None:
    assert plan_gaps(None, T, None) == [Gap(T, None, Side.FRESH)]


def test_stored_span_leaves_the_newer_and_the_older_part() -> None:
    span = Span(T, T + 5 * DAY)
    assert plan_gaps(span, T - DAY, None) == [
        Gap(T + 5 * DAY, None, Side.UPPER),
        Gap(T - DAY, T, Side.LOWER),
    ]
    assert plan_gaps(span, T + DAY, T + 2 * DAY) == []
    assert plan_gaps(Span(None, T), None, None) == [Gap(T, None, Side.UPPER)]


def test_ranges_apart_from_the_span_do_not_move_it() -> None:
    span = Span(T, T + DAY)
    assert plan_gaps(span, T + 3 * DAY, None) == [Gap(T + 3 * DAY, None, Side.APART)]
    assert plan_gaps(span, T - 3 * DAY, T - 2 * DAY) == [Gap(T - 3 * DAY, T - 2 * DAY, Side.APART)]


def test_span_edges_are_open() -> None:
    upper = Gap(T, None, Side.UPPER)
    lower = Gap(None, T, Side.LOWER)
    assert not upper.contains(T)
    assert upper.contains(T + timedelta(seconds=1))
    assert not lower.contains(T)
    assert Gap(T, T, Side.FRESH).contains(T)


def test_created_query_syntax() -> None:
    assert created_query(T, None) == ">=2026-05-01T00:00:00+00:00"
    assert created_query(None, T) == "2018-10-01T00:00:00+00:00..2026-05-01T00:00:00+00:00"


def test_halves_cover_the_range_without_overlap() -> None:
    (first_low, first_high), (second_low, second_high) = halves(T, T + DAY)
    assert (first_low, second_high) == (T, T + DAY)
    assert second_low - first_high == timedelta(seconds=1)
    assert halves(T, T) == ((T, T),)
    assert len(halves(ACTIONS_EPOCH, T)) == 2


def test_cursor_round_trip_and_garbage() -> None:
    cursor = SourceCursor(
        span=Span(None, T),
        etag='W/"abc"',
        floor=T - DAY,
        pending={"7": Pending(T, 'W/"x"', {"id": 7})},
    )
    assert SourceCursor.loads(cursor.dumps()) == cursor
    for garbage in (None, "", "not json", "[]", '{"span": 3, "pending": {"1": 2}}'):
        assert SourceCursor.loads(garbage) == SourceCursor()


@pytest.mark.parametrize("source", ["runs", "deployments"])
def test_cursor_key(source: str) -> None:
    key = cursor_key("github.com", "acme/web", source)
    assert key == f"github:github.com:acme/web:{source}"
