"""Bot detection, and the resumable time-cursor walk with GitLab's inclusive time filters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pipeledger.events import ActorType, format_time
from pipeledger_gitlab.cursor import Mark, Start, start_from, walk_by_time
from pipeledger_gitlab.normalize.actors import actor_from_user, actor_type

T0 = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("project_6_bot", ActorType.BOT),
        ("project_123_bot_4f2a9c0d", ActorType.BOT),
        ("group_77_bot_abc123", ActorType.BOT),
        ("ghost", ActorType.BOT),
        ("support-bot", ActorType.BOT),
        ("service_account_group_5_a1b2", ActorType.SERVICE),
        ("project_bot_fan", ActorType.USER),
        ("root", ActorType.USER),
    ],
)
def test_actor_types(username: str, expected: ActorType) -> None:
    assert actor_type(username) is expected


def test_bot_flag_wins_and_missing_user_is_unknown() -> None:
    assert actor_from_user({"id": 3, "username": "deployer", "bot": True}).type is ActorType.BOT
    assert actor_from_user(None).type is ActorType.UNKNOWN
    assert actor_from_user({"id": 3}).login is None


def _items(stamps: list[int]) -> list[dict[str, Any]]:
    return [
        {"id": n, "updated_at": format_time(T0 + timedelta(seconds=s))}
        for n, s in enumerate(stamps, start=1)
    ]


class FakeList:
    """GitLab's semantics: updated_after is inclusive, ascending order with id tiebreak."""

    def __init__(self, items: list[dict[str, Any]]) -> None:
        self.items = items
        self.calls = 0

    def __call__(self, after: datetime | None, page: int) -> list[dict[str, Any]]:
        self.calls += 1
        chosen = [i for i in self.items if after is None or _t(i) >= after]
        chosen.sort(key=lambda i: (_t(i), i["id"]))
        return chosen[(page - 1) * 100 : page * 100]


def _t(item: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(item["updated_at"].replace("Z", "+00:00"))


def _walk(fetch: FakeList, start: Start) -> tuple[list[int], list[Mark]]:
    seen: list[int] = []
    marks: list[Mark] = []
    for step in walk_by_time(fetch, start):
        seen.extend(int(i["id"]) for i in step.fresh)
        if step.through is not None:
            marks.append(start.mark(step.through, step.ids))
    return seen, marks


def test_walk_sees_every_item_once_even_with_ties_across_pages() -> None:
    # 130 items share one time, straddling the page size; the rest are spread out.
    stamps = [0] * 30 + [5] * 130 + list(range(10, 150))
    fetch = FakeList(_items(stamps))
    seen, _ = _walk(fetch, Start(None))
    assert sorted(seen) == list(range(1, len(stamps) + 1))
    assert len(seen) == len(set(seen))


def test_resuming_from_any_mark_finishes_exactly() -> None:
    stamps = [0] * 30 + [5] * 130 + list(range(10, 150))
    fetch = FakeList(_items(stamps))
    _, marks = _walk(fetch, Start(None))
    for mark in marks:
        stored = {int(i["id"]) for i in fetch.items if _t(i) < mark.through} | set(
            map(int, mark.ids)
        )
        rest, _ = _walk(fetch, start_from(Mark.decode(mark.encode()), None))
        assert stored.isdisjoint(rest)
        assert stored | set(rest) == set(range(1, len(stamps) + 1))


def test_item_updated_during_the_walk_is_seen_again_not_skipped() -> None:
    fetch = FakeList(_items(list(range(250))))
    walk = walk_by_time(fetch, Start(None))
    first = next(walk)
    moved = fetch.items[0]  # already seen, now updated: GitLab moves it to the end
    moved["updated_at"] = format_time(T0 + timedelta(seconds=999))
    seen = [int(i["id"]) for i in first.fresh]
    for step in walk:
        seen.extend(int(i["id"]) for i in step.fresh)
    assert sorted(set(seen)) == list(range(1, 251))
    assert seen.count(1) == 2  # its new state is a new observation


def test_mark_covers_only_windows_it_reaches_back_to() -> None:
    mark = Mark(T0, T0 + timedelta(days=3), frozenset({"9"}))
    assert start_from(mark, T0 + timedelta(days=1)) == Start(mark.through, mark.ids, T0)
    assert start_from(mark, T0 - timedelta(days=1)).after == T0 - timedelta(days=1)
    assert start_from(mark, None).after is None
    assert start_from(Mark(None, mark.through, mark.ids), None).after == mark.through
    assert start_from(mark, T0 + timedelta(days=9)).after == T0 + timedelta(days=9)


@pytest.mark.parametrize("text", [None, "", "{", '{"through": 3}', '{"since": null}'])
def test_unreadable_cursor_starts_over(text: str | None) -> None:
    assert Mark.decode(text) is None


def test_an_item_with_an_unusable_time_or_id_is_refused_not_followed() -> None:
    """A time after the window (2099) would move the cursor past every later item for good;
    a time that cannot be read or an id that is no number would stop the walk. Each is
    refused with its reason, and the walk and its mark go on without it."""
    items = _items([1, 2, 3, 4])
    items[1]["updated_at"] = "2099-01-01T00:00:00Z"
    items[2]["updated_at"] = "9999-12-31T23:59:59-01:00"
    hostile = {"id": "../../groups", "updated_at": format_time(T0)}
    fetch = FakeList(items)
    steps = list(
        walk_by_time(
            lambda a, p: [*fetch(a, p), hostile], Start(None), latest=T0 + timedelta(hours=1)
        )
    )
    assert [int(i["id"]) for step in steps for i in step.fresh] == [1, 4]
    refused = {str(item["id"]): reason for step in steps for item, reason in step.refused}
    assert set(refused) == {"2", "3", "../../groups"}
    assert "outside" in refused["2"] and "cannot be read" in refused["3"]
    assert "not a number" in refused["../../groups"]
    assert steps[-1].through == T0 + timedelta(seconds=4)
