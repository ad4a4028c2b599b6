"""The GitHub Action's install step, cold: a new virtualenv, the hash-pinned locks installed
with ``--require-hashes --only-binary :all: --no-cache-dir`` (nothing from pip's cache), then
the source built offline — the two commands action.yml runs. Reports wall time (median of 3)
and what it adds to disk; the image size needs a Docker daemon (said so when there is none).

Target: cold install under 30 s on a 2-core runner with the package index reachable.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = 3


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def _install_once(scratch: Path) -> tuple[float, int, int]:
    venv = scratch / "venv"
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-cache-dir"]
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    locks = ["-r", str(ROOT / "requirements" / "runtime.txt")]
    locks += ["-r", str(ROOT / "requirements" / "build.txt")]
    subprocess.run(
        [*pip, "--require-hashes", "--only-binary", ":all:", "--no-deps", *locks], check=True
    )
    subprocess.run([*pip, "--no-deps", "--no-build-isolation", "--no-index", str(ROOT)], check=True)
    elapsed = time.perf_counter() - started
    site = next(venv.glob("lib/python3*/site-packages"))
    without_pip = _size(site) - sum(_size(p) for p in site.glob("pip*"))
    return elapsed, _size(venv), without_pip


def main() -> None:
    results = []
    for _ in range(RUNS):
        with tempfile.TemporaryDirectory(prefix="pipeledger-bench-install-") as scratch:
            results.append(_install_once(Path(scratch)))
    times = [r[0] for r in results]
    print(
        f"action install, cold: median {statistics.median(times):.1f} s "
        f"(runs: {', '.join(f'{t:.1f}' for t in times)})"
    )
    print(
        f"virtualenv on disk: {results[0][1] / 1e6:.1f} MB; "
        f"site-packages without pip: {results[0][2] / 1e6:.1f} MB"
    )
    docker = shutil.which("docker")
    info = [docker, "info"] if docker else None
    daemon = info and subprocess.run(info, check=False, capture_output=True).returncode == 0
    if not daemon:
        print("image size: not measured (no Docker daemon on this machine)")
