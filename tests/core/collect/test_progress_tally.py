"""The one count both collect displays draw from (``ProgressTally``): a repository counted
once however often it reports, a listing page that belongs to the repository being read, and
a count that starts over when the repositories are announced."""

from __future__ import annotations

import io

from pipeledger.cli.collect_progress import PlainProgress
from pipeledger.collect.progress import ProgressTally


def test_repositories_reporting_in_turn_are_each_counted_once() -> None:
    tally = ProgressTally()
    firsts = [
        tally.update(repository=name, pages=1, events=2) for name in ("a/x", "a/y", "a/x", "a/y")
    ]
    assert firsts == [True, True, False, False]
    assert (tally.repositories, tally.pages, tally.events, tally.current) == (2, 4, 8, "a/y")


def test_a_listing_page_belongs_to_the_repository_being_read() -> None:
    tally = ProgressTally()
    tally.update(repository="a/x")
    tally.expect(listing_page=(3, 12), rate_reset=1_700_000_000.0)
    tally.update(pages=1)
    assert tally.listing_page == (3, 12)
    tally.update(repository="a/y")
    assert tally.listing_page is None
    assert tally.rate_reset == 1_700_000_000.0


def test_announcing_the_repositories_starts_the_count_over() -> None:
    tally = ProgressTally()
    tally.update(repository="acme", events=5)  # the organization's own records
    tally.expect(finish_at=1_700_000_100.0)
    tally.expect(repositories=3)
    assert (tally.repositories, tally.repositories_total, tally.finish_at) == (0, 3, None)
    assert tally.update(repository="acme/web") is True
    assert tally.events == 5  # events and pages are not repositories: they keep counting


def test_the_log_lines_number_each_repository_once() -> None:
    stream = io.StringIO()
    progress = PlainProgress(stream)
    progress.expect(repositories=2)
    for name in ("a/x", "a/y", "a/x"):
        progress.update(repository=name, pages=1)
    assert stream.getvalue().splitlines() == [
        "pipeledger: collecting a/x (1/2)",
        "pipeledger: collecting a/y (2/2)",
    ]
    assert progress.repositories_seen == 2
