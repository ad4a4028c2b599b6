"""The gate says what it is waiting for: a retry against an unreachable API is announced
on stderr (and silenced by -q), instead of seconds of silence in the job log."""

from __future__ import annotations

import re
from pathlib import Path

from tests.e2e.test_github_check import CASES, case_org, closed_port, gate, job_environ


def _down(tmp_path: Path, *extra: str) -> tuple[int, str]:
    case = next(c for c in CASES if c.api_down)
    sha = next(iter(case_org(case).repos["web"].runs.values())).head_sha
    port = closed_port()
    environ = job_environ(f"http://127.0.0.1:{port}", case, sha)
    code, _, err = gate(
        environ,
        tmp_path / "l.db",
        case,
        "--retries",
        "2",
        "--backoff",
        "1",
        "--timeout",
        "2",
        *extra,
    )
    return code, err.replace(str(port), "PORT")


def test_each_retry_of_the_gate_is_announced(tmp_path: Path) -> None:
    code, err = _down(tmp_path)
    assert code == 3
    assert re.findall(r"pipeledger: 127\.0\.0\.1:PORT unreachable, retry \d/2 in \d s", err) == [
        "pipeledger: 127.0.0.1:PORT unreachable, retry 1/2 in 1 s",
        "pipeledger: 127.0.0.1:PORT unreachable, retry 2/2 in 2 s",
    ]


def test_quiet_keeps_only_the_error(tmp_path: Path) -> None:
    code, err = _down(tmp_path, "-q")
    assert code == 3
    assert "unreachable, retry" not in err
    assert err.splitlines()[-1].startswith("pipeledger: error: Giving up after 3 attempts")
