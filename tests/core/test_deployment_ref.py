"""How a deployment is named on the command line, parsed."""

from __future__ import annotations

import pytest

from pipeledger.deployment_ref import DeploymentRef


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5001", DeploymentRef("5001", ident="5001")),
        ("acme/api#5001", DeploymentRef("acme/api#5001", repository="acme/api", ident="5001")),
        (
            "acme/api@ABCDEF1",
            DeploymentRef("acme/api@ABCDEF1", repository="acme/api", sha="abcdef1"),
        ),
        (
            "https://github.com/acme/api/actions/runs/42/attempts/2",
            DeploymentRef(
                "https://github.com/acme/api/actions/runs/42/attempts/2",
                repository="acme/api",
                run_id="42",
            ),
        ),
        (
            "https://gitlab.example.com/acme/platform/web/-/pipelines/77",
            DeploymentRef(
                "https://gitlab.example.com/acme/platform/web/-/pipelines/77",
                repository="acme/platform/web",
                run_id="77",
            ),
        ),
        (
            "https://gitlab.example.com/acme/web/-/environments/3/deployments/9",
            DeploymentRef(
                "https://gitlab.example.com/acme/web/-/environments/3/deployments/9",
                repository="acme/web",
                ident="9",
            ),
        ),
    ],
)
def test_every_form_a_person_would_paste(text: str, expected: DeploymentRef) -> None:
    assert DeploymentRef.parse(text) == expected


def test_a_short_hex_after_at_is_not_a_commit() -> None:
    # Fewer than 7 characters is too ambiguous to be a commit: taken as an id.
    assert DeploymentRef.parse("acme/api@abc").sha is None
