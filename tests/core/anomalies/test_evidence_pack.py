"""The evidence pack (``pipeledger report``) mentions the recorded alerts that touch a
deployment, end to end from ``anomalies --record`` and ``anomalies ack``: its evidence page
lists each with detector, severity and sentence, and its acknowledgement with the reason; the
summary counts alerts, not acknowledgements."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

from pipeledger.cli.main import main


def run_main(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), environ={}, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_the_evidence_pack_lists_recorded_alerts(ledger_file: Path, tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.db"
    shutil.copy(ledger_file, ledger)
    sink = f"sqlite:///{ledger}"
    code, out, err = run_main(
        "anomalies", "--sink", sink, "--since", "2026-03-01", "--format", "json", "--record"
    )
    assert code == 0, err
    alerts = json.loads(out)["anomalies"]
    assert len(alerts) >= 5
    acked = alerts[0]
    code, _, err = run_main(
        "anomalies", "ack", acked["id"], "--reason", "CHG-88 filed late", "--by", "root",
        "--sink", sink,
    )  # fmt: skip
    assert code == 0, err
    pack = tmp_path / "pack"
    code, out, err = run_main(
        "report", "--period", "2026-03", "--out", str(pack), "--sink", sink, "--seed", "1",
        "--unsigned",
    )  # fmt: skip
    assert code == 0, err
    data = json.loads((pack / "data.json").read_text())
    assert data["summary"]["anomalies"] == len(alerts)
    pages = {p.name: p.read_text() for p in (pack / "deployments").glob("*.html")}
    for alert in alerts:
        deployment = alert["subject"]["deployment_id"]
        [page] = [text for name, text in pages.items() if f"-{deployment}-" in name]
        assert f"<td>{alert['detector']}</td>" in page, deployment
        assert f'<span class="tag">{alert["severity"]}</span>' in page, deployment
        sentence = alert["message"].replace("'", "&#39;")
        assert sentence in page, deployment
    [page] = [t for n, t in pages.items() if f"-{acked['subject']['deployment_id']}-" in n]
    assert "by root at" in page and ": CHG-88 filed late" in page
