"""The GitHub App token exchange (PyGithub, with the app's signed JWT) against a server that
redirects it to another host: refused as pipeledger's own error, nothing sent there."""

from __future__ import annotations

import pytest

from pipeledger.errors import PlatformError
from pipeledger_github.auth import resolve_token
from tests.adversarial.hostile import ForeignHost, HostileProxy, redirect
from tests.plugins.pipeledger_github.test_auth import app_environ


@pytest.mark.parametrize("status", [301, 302, 307])
def test_a_redirected_token_request_is_refused(foreign: ForeignHost, status: int) -> None:
    with HostileProxy("http://127.0.0.1:9") as server:
        server.on("access_tokens", redirect(status, f"{foreign.base_url}/app/tokens"))
        with pytest.raises(PlatformError) as refused:
            resolve_token(app_environ(), server.base_url)
    assert foreign.seen == []
    assert "eyJ" not in refused.value.describe()  # no JWT in the message
