"""GitLab through a hostile server: a redirect to another origin is refused whichever header
carries the token (``Authorization``, ``PRIVATE-TOKEN``, ``JOB-TOKEN``: requests would strip
only the first), and a foreign ``Link`` is asked of the API's own root, never of that host."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeledger.http.client import RetryPolicy
from pipeledger.http.origin import ForeignUrl
from pipeledger_gitlab.client import Credentials, GitLabClient
from tests.adversarial.hostile import ForeignHost, HostileProxy, redirect, with_next_link
from tests.adversarial.hostile_env import Outcome, assert_nothing_leaked, run
from tests.fakes.gitlab_api import API_PREFIX, DEFAULT_TOKEN, FakeGitLab
from tests.fakes.gitlab_generate import generate_group

JOB_TOKEN = "CANARY-job-token-0123456789"


@pytest.fixture
def gitlab_proxy() -> Iterator[HostileProxy]:
    with FakeGitLab(generate_group()) as fake, HostileProxy(f"http://127.0.0.1:{fake.port}") as p:
        yield p


def collect(proxy: HostileProxy, db: Path) -> Outcome:
    argv = [
        "collect",
        "--platform",
        "gitlab",
        "--api-url",
        proxy.base_url + API_PREFIX,
        "--group",
        "acme",
        "--sink",
        f"sqlite:///{db}",
        "--retries",
        "1",
        "--backoff",
        "0.01",
        "--no-snapshots",
    ]
    return run(argv, {"GITLAB_TOKEN": DEFAULT_TOKEN})


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_to_another_origin_is_refused(
    gitlab_proxy: HostileProxy, foreign: ForeignHost, tmp_path: Path, status: int
) -> None:
    gitlab_proxy.on(r"/pipelines\?", redirect(status, f"{foreign.base_url}/api/v4/pipelines"))
    outcome = collect(gitlab_proxy, tmp_path / "l.db")
    assert outcome.code == 3, outcome.err
    assert f"a redirect (HTTP {status})" in outcome.err
    assert_nothing_leaked(foreign, outcome, [DEFAULT_TOKEN], tmp_path)


def test_a_foreign_next_link_is_asked_of_the_api_itself(
    gitlab_proxy: HostileProxy, foreign: ForeignHost, tmp_path: Path
) -> None:
    # GitLab behind a proxy may write its internal host into Link; only the path is kept.
    target = f"{foreign.base_url}{API_PREFIX}/groups/101/projects?per_page=100&page=2"
    gitlab_proxy.on(r"/groups/101/projects\?", with_next_link(target), times=1, forward_first=True)
    outcome = collect(gitlab_proxy, tmp_path / "l.db")
    assert outcome.code == 0, outcome.err
    assert any("page=2" in seen.path for seen in gitlab_proxy.seen)
    assert_nothing_leaked(foreign, outcome, [DEFAULT_TOKEN], tmp_path)


@pytest.mark.parametrize("header", ["JOB-TOKEN", "PRIVATE-TOKEN", "Authorization"], ids=str.lower)
def test_no_credential_header_follows_a_redirect_elsewhere(
    gitlab_proxy: HostileProxy, foreign: ForeignHost, header: str
) -> None:
    gitlab_proxy.on(r"^/api/v4/job", redirect(307, f"{foreign.base_url}/api/v4/job"))
    credentials = Credentials("CI_JOB_TOKEN", header, JOB_TOKEN)
    client = GitLabClient(
        gitlab_proxy.base_url + API_PREFIX, credentials, RetryPolicy(max_retries=0)
    )
    with pytest.raises(ForeignUrl) as refused:
        client.get_object("/job")
    assert f"127.0.0.1:{foreign.port}" in refused.value.describe()
    assert foreign.seen == []
    assert JOB_TOKEN not in refused.value.describe()
