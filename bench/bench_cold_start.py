"""The gate's cold start: the CPU a fresh ``pipeledger check`` process spends before its first
request — the interpreter, parsing the command line (only ``check``'s own parser is built),
and loading the GitHub adapter, the SQLite ledger and the policy loader. Measured in child
processes from the kernel (``os.wait4``), best of seven, against the same work done the way
every command was started before (every command's module imported to build the parser).

Target (issue 13): at most 150 ms of the process's own time before the first request.
"""

from __future__ import annotations

import os
import subprocess
import sys

RUNS = 7
TARGET_MS = 150
BEFORE_FIRST_REQUEST = (
    "import pipeledger_github.adapter, pipeledger_sqlite.sink, pipeledger.policy.loader\n"
)
LAZY = (
    "from pipeledger.cli.main import build_parser\n"
    "build_parser(['check', '--environment', 'production'])\n" + BEFORE_FIRST_REQUEST
)
EVERY_COMMAND = (
    "from pipeledger.cli.main import build_parser\nbuild_parser()\n" + BEFORE_FIRST_REQUEST
)
NOTHING = "pass\n"


def cpu_ms(code: str) -> float:
    """The least CPU (user + system) a fresh interpreter needs to run ``code``."""
    best = float("inf")
    for _ in range(RUNS):
        process = subprocess.Popen([sys.executable, "-c", code])
        _, status, usage = os.wait4(process.pid, 0)
        if status != 0:
            raise SystemExit(f"the probe failed: {code!r}")
        best = min(best, (usage.ru_utime + usage.ru_stime) * 1000)
    return best


def heaviest_imports(code: str, count: int = 8) -> list[tuple[int, str]]:
    """The top-level imports with the most cumulative time (``python -X importtime``)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, check=True
    )
    rows = []
    for line in done.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit() and not parts[2].startswith("   "):
            rows.append((int(parts[1]), parts[2].strip()))
    return sorted(rows, reverse=True)[:count]


def main() -> None:
    interpreter = cpu_ms(NOTHING)
    lazy = cpu_ms(LAZY)
    eager = cpu_ms(EVERY_COMMAND)
    verdict = "met" if lazy <= TARGET_MS else "NOT met"
    print(f"interpreter alone: {interpreter:.0f} ms CPU (best of {RUNS})")
    print(
        f"check before its first request: {lazy:.0f} ms CPU; the same with every command's"
        f" module imported (as before): {eager:.0f} ms; target <= {TARGET_MS} ms: {verdict}"
    )
    heavy = ", ".join(f"{name} {micros / 1000:.0f} ms" for micros, name in heaviest_imports(LAZY))
    print(f"heaviest top-level imports (-X importtime, cumulative): {heavy}")


if __name__ == "__main__":
    main()
