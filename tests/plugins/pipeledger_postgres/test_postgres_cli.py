"""The CLI against the PostgreSQL ledger: verify, events, flush, sinks check; and a
PostgreSQL sink that goes down part-way through a run and catches up exactly once."""

from __future__ import annotations

import io
import json
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from pipeledger.cli.main import main
from pipeledger.errors import SinkError
from pipeledger.ledger.chain_check import verify_rows
from pipeledger.ledger.signing import signer_from_environ
from pipeledger.sinks.contract import SinkSettings
from pipeledger.sinks.fanout import SinkSet, delivery_key
from pipeledger_postgres.sink import PostgresSink
from pipeledger_sqlite.sink import SqliteSink
from tests.core.ledgers.factory import make_events
from tests.plugins.pipeledger_postgres.proxy import TcpProxy

SETTINGS = SinkSettings(environ={}, timeout=5)
pytestmark = pytest.mark.postgres


def _cli(*args: str, environ: dict[str, str] | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), environ=environ or {}, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def _lines(path: Path) -> int:
    return len(path.read_text().splitlines())


def _via(proxy: TcpProxy, url: str) -> str:
    parts = urlsplit(url)
    netloc = f"{parts.username}@127.0.0.1:{proxy.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


def test_verify_and_events_against_a_signed_postgres_ledger(
    postgres_url: str, tmp_path: Path
) -> None:
    assert _cli("keygen", "--out", str(tmp_path / "key"))[0] == 0
    environ = {"PIPELEDGER_SIGNING_KEY": str(tmp_path / "key.key")}
    sinks = SinkSet.open(
        [postgres_url], SETTINGS, signer=signer_from_environ(environ), checkpoint_every=10
    )
    for start in range(1, 31, 6):
        sinks.append(make_events(6, start=start), {})
    sinks.close()

    code, out, err = _cli(
        "verify", "--sink", postgres_url, "--public-key", str(tmp_path / "key.pub")
    )
    assert code == 0, err
    assert "30 records verified" in out
    # Batches end at 6, 12, 18, 24, 30: checkpoints at 12 and 24 (10 apart), and 30 at the end.
    assert "3 checkpoints in the ledger agree with the chain; signatures verified" in out

    code, out, _ = _cli(
        "events", "--sink", postgres_url, "--kind", "deployment", "--format", "json"
    )
    assert code == 0
    deployments = json.loads(out)
    assert len(deployments) == 10
    assert {event["kind"] for event in deployments} == {"deployment"}


def test_sinks_check_says_what_to_fix_per_sink(postgres_url: str, tmp_path: Path) -> None:
    ledger = f"sqlite:///{tmp_path}/l.db"
    code, out, _ = _cli("sinks", "check", "--sink", ledger, "--sink", postgres_url)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith(f"OK    {ledger} (ledger)")
    assert lines[1].startswith("OK    postgresql://***@127.0.0.1:5432/test?schema=")
    assert "unsigned" in out

    with TcpProxy(("127.0.0.1", 5432)) as proxy:
        down = _via(proxy, postgres_url).replace("postgres@", "postgres:pw-s3cret@")
        proxy.down()
        code, out, _ = _cli("sinks", "check", "--sink", ledger, "--sink", down)
    assert code == 3
    assert f"FAIL  postgresql://postgres:***@127.0.0.1:{proxy.port}/test" in out
    assert "Check the host and port" in out
    assert "pw-s3cret" not in out


def test_a_postgres_sink_down_mid_run_catches_up_exactly_once_on_flush(
    postgres_url: str, tmp_path: Path
) -> None:
    ledger_url = f"sqlite:///{tmp_path}/l.db"
    copy_url = f"jsonl:///{tmp_path}/copy.jsonl"
    with TcpProxy(("127.0.0.1", 5432)) as proxy:
        remote = _via(proxy, postgres_url)
        run = SinkSet.open([ledger_url, copy_url, remote], SETTINGS, checkpoint_every=10)
        run.append(make_events(8), {})
        proxy.down()  # the server goes away part-way through the run
        run.append(make_events(8, start=9), {})
        run.append(make_events(8, start=17), {})
        run.close()
        assert [url.split("?")[0] for url in run.failures] == [
            f"postgresql://***@127.0.0.1:{proxy.port}/test"
        ]
        assert _lines(tmp_path / "copy.jsonl") == 24 + 2  # records and checkpoints 16, 24

        code, out, err = _cli("flush", "--sink", ledger_url, "--sink", copy_url, "--sink", remote)
        assert code == 3  # still down: said so, nothing lost
        assert "FAIL  postgresql://***@127.0.0.1" in err
        assert "16 records pending after seq 8" in err
        assert f"OK    {copy_url}: holds every record through seq 24" in out

        proxy.up()
        code, out, err = _cli("flush", "--sink", ledger_url, "--sink", copy_url, "--sink", remote)
        assert code == 0, err
        assert "holds every record through seq 24" in out

    central = PostgresSink.open(postgres_url, SETTINGS)
    ids = [record.event.id for record in central.records()]
    assert ids == [event.id for event in make_events(24)]  # each once, in order
    assert verify_rows(central.rows()).ok
    local = SqliteSink(tmp_path / "l.db")
    assert [c.seq for c in central.stored_checkpoints()] == [c.seq for c in local.own_checkpoints()]
    central.close()
    code, out, err = _cli("verify", "--sink", ledger_url, "--against", postgres_url)
    assert code == 0, err
    assert "checkpoints of this chain agree" in out


class ForgetfulLedger(SqliteSink):
    """Loses the delivery cursor once, as a crash between the write and the cursor would."""

    failed = False

    def set_cursors(self, cursors: dict[str, str]) -> None:  # type: ignore[override]
        if not self.failed and any(key.startswith("delivery:") for key in cursors):
            ForgetfulLedger.failed = True
            raise SinkError("crashed before the cursor moved")
        super().set_cursors(cursors)


def test_redelivery_after_a_lost_cursor_writes_nothing_twice(
    postgres_url: str, tmp_path: Path
) -> None:
    central = PostgresSink.open(postgres_url, SETTINGS)
    ledger = ForgetfulLedger(tmp_path / "l.db")
    first = SinkSet(ledger=ledger, others=[central])
    first.append(make_events(5), {})
    assert list(first.failures) == [central.display_url]
    assert ledger.cursor(delivery_key(central)) is None
    SinkSet(ledger=ledger, others=[central]).deliver()
    assert [r.seq for r in central.records()] == [1, 2, 3, 4, 5]
    assert ledger.cursor(delivery_key(central)) == "5"
    central.close()
