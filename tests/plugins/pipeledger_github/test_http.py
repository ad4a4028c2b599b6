"""How the adapter meets GitHub's limits and refusals: rate-limit waits, secondary limits,
retries, and errors that name the missing permission without showing the token."""

from __future__ import annotations

import pytest

from pipeledger.errors import (
    ExitCode,
    MalformedResponse,
    PermissionDenied,
    PlatformError,
    RateLimitStop,
)
from pipeledger.sinks.fanout import SinkSet
from tests.fakes.github_responses import FakeHub
from tests.plugins.pipeledger_github import payloads
from tests.plugins.pipeledger_github.conftest import (
    NOW,
    AdapterFactory,
    FakeClock,
    RecordingProgress,
    run_collect,
)

TOKEN = "ghp_test_token_value"


@pytest.fixture
def one_run(hub: FakeHub) -> FakeHub:
    hub.repo("acme/web").runs.append(payloads.run(9001, "2026-05-04T10:00:00Z"))
    return hub


def test_exhausted_rate_limit_waits_for_the_reset(
    one_run: FakeHub, make_adapter: AdapterFactory, sinks: SinkSet, clock: FakeClock
) -> None:
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 30)}
    one_run.fail(
        "/actions/runs", 403, headers=headers, body='{"message": "API rate limit exceeded"}'
    )
    progress = RecordingProgress()
    summary = run_collect(make_adapter(), sinks, progress=progress)
    assert clock.slept == [31.0]
    assert any("waiting 31 s" in notice for notice in progress.notices)
    assert summary.stored == 1


def test_a_wait_longer_than_max_wait_stops_with_what_was_saved(
    one_run: FakeHub, make_adapter: AdapterFactory, sinks: SinkSet, clock: FakeClock
) -> None:
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 3600)}
    one_run.fail(
        "/deployments", 403, headers=headers, body='{"message": "API rate limit exceeded"}'
    )
    with pytest.raises(RateLimitStop) as stopped:
        run_collect(make_adapter(max_wait=60), sinks)
    assert "--max-wait" in stopped.value.describe()
    assert "saved" in stopped.value.describe()
    assert stopped.value.exit_code == ExitCode.PLATFORM
    assert clock.slept == []
    assert sinks.ledger.head_seq() == 1  # the run was stored before the stop


def test_remaining_zero_on_a_success_waits_before_the_next_request(
    one_run: FakeHub, make_adapter: AdapterFactory, sinks: SinkSet, clock: FakeClock
) -> None:
    one_run.rate_headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 10)}
    run_collect(make_adapter(), sinks)
    assert clock.slept == [11.0]


def test_secondary_limit_honours_retry_after(
    one_run: FakeHub, make_adapter: AdapterFactory, sinks: SinkSet, clock: FakeClock
) -> None:
    body = '{"message": "You have exceeded a secondary rate limit. Please wait a few minutes."}'
    one_run.fail("/actions/runs", 403, headers={"Retry-After": "45"}, body=body)
    summary = run_collect(make_adapter(), sinks)
    assert clock.slept == [45.0]
    assert summary.stored == 1


def test_server_errors_are_retried_with_backoff(
    one_run: FakeHub, make_adapter: AdapterFactory, sinks: SinkSet, clock: FakeClock
) -> None:
    one_run.fail("/actions/runs", 502, times=2)
    summary = run_collect(make_adapter(), sinks)
    assert len(clock.slept) == 2
    assert clock.slept[1] > clock.slept[0]
    assert summary.stored == 1


def test_persistent_server_errors_give_up_clearly(
    one_run: FakeHub, make_adapter: AdapterFactory, sinks: SinkSet
) -> None:
    one_run.fail("/actions/runs", 503, times=10)
    with pytest.raises(PlatformError, match="Giving up after 3 attempts"):
        run_collect(make_adapter(), sinks)


def test_bad_credentials(one_run: FakeHub, make_adapter: AdapterFactory, sinks: SinkSet) -> None:
    one_run.fail("/actions/runs", 401, body='{"message": "Bad credentials"}')
    with pytest.raises(PermissionDenied) as denied:
        run_collect(make_adapter(), sinks)
    text = denied.value.describe()
    assert "Bad credentials" in text
    assert "GITHUB_TOKEN" in text
    assert TOKEN not in text


@pytest.mark.parametrize(
    ("path", "permission", "workflow"),
    [
        ("/actions/runs", "`actions: read`", "actions: read"),
        ("/deployments", "`deployments: read`", "deployments: read"),
        ("/statuses", "`deployments: read`", "deployments: read"),
        ("/approvals", "`actions: read`", "actions: read"),
        ("/pulls", "`pull_requests: read`", "pull-requests: read"),
    ],
)
def test_forbidden_names_the_missing_permission(
    hub: FakeHub,
    make_adapter: AdapterFactory,
    sinks: SinkSet,
    path: str,
    permission: str,
    workflow: str,
) -> None:
    from tests.plugins.pipeledger_github.test_collect import seed

    seed(hub)
    body = '{"message": "Resource not accessible by integration"}'
    hub.fail(path, 403, body=body)
    with pytest.raises(PermissionDenied) as denied:
        run_collect(make_adapter(), sinks)
    text = denied.value.describe()
    assert permission in text
    assert f"permissions: {{{workflow}}}" in text
    assert "`repo`" in text  # the classic token scope
    assert TOKEN not in text


def test_forbidden_prefers_the_permissions_github_accepts(
    one_run: FakeHub, make_adapter: AdapterFactory, sinks: SinkSet
) -> None:
    headers = {"x-accepted-github-permissions": "deployments=read; contents=read,metadata=read"}
    one_run.fail(
        "/deployments", 403, headers=headers, body='{"message": "Resource not accessible"}'
    )
    with pytest.raises(PermissionDenied) as denied:
        run_collect(make_adapter(), sinks)
    assert "`deployments: read` or `contents: read` and `metadata: read`" in denied.value.describe()


def test_unknown_repository(hub: FakeHub, make_adapter: AdapterFactory, sinks: SinkSet) -> None:
    with pytest.raises(PermissionDenied) as missing:
        run_collect(make_adapter(), sinks)
    text = missing.value.describe()
    assert "404" in text
    assert "cannot see it" in text
    assert "skipped" in text


def test_body_that_is_not_json_is_a_clear_error(
    one_run: FakeHub, make_adapter: AdapterFactory, sinks: SinkSet
) -> None:
    one_run.fail("/actions/runs", 200, body="<html>proxy error</html>", times=5)
    with pytest.raises(MalformedResponse) as malformed:
        run_collect(make_adapter(max_retries=1), sinks)
    assert malformed.value.exit_code == ExitCode.PLATFORM
    assert "not valid JSON" in malformed.value.describe()


@pytest.mark.parametrize("body", ['[{"id": 1}]', '{"total_count": 1}', '"runs"'])
def test_wrong_shape_is_malformed(
    one_run: FakeHub, make_adapter: AdapterFactory, sinks: SinkSet, body: str
) -> None:
    one_run.fail("/actions/runs", 200, body=body)
    with pytest.raises(MalformedResponse, match="not a JSON"):
        run_collect(make_adapter(), sinks)


def test_requests_send_the_documented_headers(
    one_run: FakeHub, make_adapter: AdapterFactory, sinks: SinkSet
) -> None:
    run_collect(make_adapter(), sinks)
    sent = one_run.last_headers
    assert sent["Authorization"] == f"Bearer {TOKEN}"
    assert sent["Accept"] == "application/vnd.github+json"
    assert sent["X-GitHub-Api-Version"] == "2022-11-28"
    assert sent["User-Agent"].startswith("pipeledger/")
    assert all(entry.query.get("per_page") == "100" for entry in one_run.log)
