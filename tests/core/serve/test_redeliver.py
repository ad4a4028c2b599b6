"""``pipeledger webhooks redeliver`` against GitHub's hook deliveries API (``responses``):
failed deliveries that never succeeded since are asked for again, once per GUID."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from pipeledger.cli.main import main

API = "https://api.github.com"
NOW = datetime.now(UTC)


def delivery(ident: int, guid: str, code: int, minutes_ago: int) -> dict[str, object]:
    """The shape of GitHub's ``hook-delivery-item`` (id, guid, delivered_at, redelivery,
    duration, status, status_code, event, action, installation_id, repository_id)."""
    return {
        "id": ident,
        "guid": guid,
        "delivered_at": (NOW - timedelta(minutes=minutes_ago)).isoformat().replace("+00:00", "Z"),
        "redelivery": False,
        "duration": 0.03,
        "status": "OK" if code < 300 else "Service Unavailable",
        "status_code": code,
        "event": "workflow_run",
        "action": "completed",
        "installation_id": None,
        "repository_id": 7,
    }


def run(argv: list[str], environ: dict[str, str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, environ=environ, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@responses.activate
def test_failed_deliveries_of_an_organization_are_asked_for_again() -> None:
    responses.get(f"{API}/orgs/acme/hooks", json=[{"id": 11}])
    deliveries = [
        delivery(5, "guid-a", 200, 1),  # a successful redelivery of guid-a
        delivery(4, "guid-b", 503, 2),
        delivery(3, "guid-a", 503, 3),
        delivery(2, "guid-c", 0, 4),  # connection refused: GitHub records status_code 0
        delivery(1, "guid-old", 503, 60 * 24 * 5),  # older than --since
    ]
    responses.get(f"{API}/orgs/acme/hooks/11/deliveries", json=deliveries)
    asked = [
        responses.post(f"{API}/orgs/acme/hooks/11/deliveries/{ident}/attempts", status=202)
        for ident in (4, 2)
    ]
    code, out, _ = run(
        ["webhooks", "redeliver", "--org", "acme", "--since", "3d"], {"GITHUB_TOKEN": "ghp_x" * 4}
    )
    assert code == 0
    assert [call.call_count for call in asked] == [1, 1]
    assert "failed  guid-b" in out and "failed  guid-c" in out and "guid-a" not in out
    assert "4 deliveries since 3d; 2 failed" in out


@responses.activate
def test_the_app_reads_its_own_hook_with_its_jwt() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    listing = responses.get(f"{API}/app/hook/deliveries", json=[delivery(9, "g", 500, 1)])
    responses.post(f"{API}/app/hook/deliveries/9/attempts", status=202)
    environ = {"PIPELEDGER_GITHUB_APP_ID": "42", "PIPELEDGER_GITHUB_APP_PRIVATE_KEY": pem}
    code, out, _ = run(["webhooks", "redeliver", "--app", "--dry-run"], environ)
    assert code == 0
    assert listing.calls[0].request.headers["Authorization"].startswith("Bearer ey")
    assert "would ask for 1 redeliveries" in out
    assert len(responses.calls) == 1  # --dry-run asks for nothing


@responses.activate
def test_a_token_without_hook_rights_gets_a_remedy_not_a_traceback() -> None:
    responses.get(f"{API}/repos/acme/web/hooks", status=404, json={"message": "Not Found"})
    code, _, err = run(
        ["webhooks", "redeliver", "--repo", "acme/web"], {"GITHUB_TOKEN": "ghp_secret_value_1"}
    )
    assert code == 3
    assert "admin" in err and "Traceback" not in err and "ghp_secret_value_1" not in err


def test_without_a_scope_it_is_a_usage_error() -> None:
    code, _, err = run(["webhooks", "redeliver"], {})
    assert code == 2
    assert "--org ORG, --repo OWNER/NAME or --app" in err
