"""A canary-token scan: every secret a run could hold — the API token, the signing key, a sink
password, an unrelated secret in the environment — set to a recognisable value, then a full
run (collect into two sinks, verify with the public key, events, audit with every findings
format, and a collection that fails half-way), and every stream and every file the run wrote
searched for each canary. The count found must be 0."""

from __future__ import annotations

from pathlib import Path

from pipeledger.ledger.signing import SIGNING_KEY_ENV
from tests.adversarial.hostile_env import GITHUB_TOKEN, Outcome, run
from tests.core.policy.test_check_cmd import SIGNING_PEM
from tests.fakes.github_api import FakeGitHubServer
from tests.fakes.sink_receivers import Answer, FakeServer

ROOT = Path(__file__).resolve().parents[2]
BASELINE = str(ROOT / "examples" / "policies" / "baseline.yml")
WEBHOOK_SECRET = "CANARY-webhook-hmac-secret-0123456789"
UNRELATED = "CANARY-unrelated-api-key-0123456789"
KEY_LINES = [line for line in SIGNING_PEM.splitlines() if not line.startswith("-----")]
CANARIES = [GITHUB_TOKEN, WEBHOOK_SECRET, UNRELATED, *KEY_LINES]


def found_in(outcomes: list[Outcome], folder: Path) -> list[str]:
    """Where a canary turned up: 'canary in stream' or 'canary in file'."""
    found = []
    for canary in CANARIES:
        for number, outcome in enumerate(outcomes):
            if canary in outcome.out + outcome.err:
                found.append(f"{canary} in the output of run {number}")
        for path in sorted(folder.rglob("*")):
            if path.is_file() and canary.encode() in path.read_bytes():
                found.append(f"{canary} in {path.name}")
    return found


def test_no_canary_in_any_stream_or_file_of_a_full_run(tmp_path: Path) -> None:
    webhook = FakeServer(lambda received: Answer(200, b"{}")).up()
    db, copy = tmp_path / "ledger.db", tmp_path / "copy.jsonl"
    public = tmp_path / "signing.pub"
    environ = {
        "GITHUB_TOKEN": GITHUB_TOKEN,
        SIGNING_KEY_ENV: SIGNING_PEM,
        "PIPELEDGER_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "SOME_VENDOR_API_KEY": UNRELATED,
    }
    sinks = [
        "--sink",
        f"sqlite:///{db}",
        "--sink",
        f"jsonl:///{copy}",  # jsonl:// + /tmp/… would be tmp/… under the working directory
        "--sink",
        f"webhook+http://127.0.0.1:{webhook.port}/hook",
    ]
    try:
        with FakeGitHubServer(tmp_path_org(), token=GITHUB_TOKEN) as fake:
            collect = [
                "collect",
                "--platform",
                "github",
                "--api-url",
                fake.base_url,
                "--org",
                "acme",
                "--since",
                "2025-01-01",
                "--retries",
                "0",
                "--backoff",
                "0.01",
            ]
            outcomes = [run([*collect, *sinks], environ)]
            fake.fail_path(r"/deployments", times=100, status=500)
            outcomes.append(run([*collect, *sinks], environ))  # fails half-way: exit 3
    finally:
        webhook.down()
    assert outcomes[0].code == 0, outcomes[0].err
    assert outcomes[1].code == 3, outcomes[1].err
    public.write_text(public_half(SIGNING_PEM), encoding="utf-8")
    ledger = ["--sink", f"sqlite:///{db}"]
    outcomes += [
        run(["verify", *ledger, "--public-key", str(public)], environ),
        run(["events", *ledger, "--format", "json"], environ),
        run(["events", *ledger, "--format", "csv"], environ),
        run(
            [
                "audit",
                "--policy",
                BASELINE,
                *ledger,
                "--allow-empty",
                "--format",
                "json",
                "--output",
                f"sarif={tmp_path / 'findings.sarif'}",
                "--output",
                f"junit={tmp_path / 'findings.xml'}",
                "--output",
                f"github={tmp_path / 'annotations.txt'}",
                "--output",
                f"gitlab={tmp_path / 'codequality.json'}",
            ],
            environ,
        ),
    ]
    assert outcomes[2].code == 0, outcomes[2].out + outcomes[2].err
    assert webhook.received, "the webhook sink got nothing: the scan would miss its copy"
    assert copy.stat().st_size > 0, "the JSONL copy is not in tmp_path: the scan would miss it"
    delivered = b"".join(received.body for received in webhook.received)
    assert not [canary for canary in CANARIES if canary.encode() in delivered]
    assert found_in(outcomes, tmp_path) == []


def tmp_path_org():  # type: ignore[no-untyped-def]
    from tests.fakes.github_data import scenario_org

    return scenario_org()


def public_half(pem: str) -> str:
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(pem.encode(), password=None)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
