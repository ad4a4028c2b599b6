"""An HTTP sink's endpoint turned hostile: a reply larger than any sink sends, a reply that
never ends, a redirect elsewhere (never followed: the delivery headers carry API keys), and a
refusal whose text tries to write workflow commands. Each fails the delivery with a clear
SinkError; the events stay in the ledger for the next run."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from pipeledger.errors import SinkError
from pipeledger.http.client import RetryPolicy
from pipeledger.http.sink import Hints, HttpSinkClient
from tests.adversarial.hostile import ForeignHost, HostileProxy, answer, huge, redirect, trickle

KEY = "CANARY-sink-api-key-0123456789"
HINTS = Hints(credentials="Check the key.", permission="Check the role.", not_found="Check URL.")


@pytest.fixture
def endpoint() -> Iterator[HostileProxy]:
    with HostileProxy("http://127.0.0.1:9") as server:  # nothing is forwarded
        yield server


def deliver(endpoint: HostileProxy, **policy: float) -> SinkError:
    client = HttpSinkClient(
        "webhook+http://sink.example/hook",
        HINTS,
        headers={"DD-API-KEY": KEY},
        secrets=[KEY],
        policy=replace(RetryPolicy.for_sinks(), max_retries=0, **policy),  # type: ignore[arg-type]
    )
    try:
        with pytest.raises(SinkError) as failed:
            client.send("POST", f"{endpoint.base_url}/hook", body=b'[{"event": 1}]')
    finally:
        client.close()
    assert KEY not in failed.value.describe()
    return failed.value


@pytest.mark.parametrize("declared", [False, True])
def test_a_reply_larger_than_any_sink_sends_is_not_read(
    endpoint: HostileProxy, declared: bool
) -> None:
    endpoint.on("^/hook", huge(65 * 1024 * 1024, declared=declared))
    assert "more than 64 MiB" in deliver(endpoint).describe()


def test_a_reply_that_never_ends_is_given_up_on(endpoint: HostileProxy) -> None:
    endpoint.on("^/hook", trickle(0.05))
    error = deliver(endpoint, timeout=0.3)
    assert "Giving up" in error.describe() and "ledger" in error.describe()


def test_a_redirect_elsewhere_is_not_followed(endpoint: HostileProxy, foreign: ForeignHost) -> None:
    endpoint.on("^/hook", redirect(307, f"{foreign.base_url}/hook"))
    assert "(a redirect)" in deliver(endpoint).describe()
    assert foreign.seen == []


def test_a_refusal_cannot_write_workflow_commands(endpoint: HostileProxy) -> None:
    body = b"bad\n::stop-commands::x\n::error::owned \x1b[2J " + KEY.encode()
    endpoint.on("^/hook", answer(400, body))
    text = deliver(endpoint).describe()
    assert "\n" not in text and "\x1b" not in text
