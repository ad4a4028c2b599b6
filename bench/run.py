"""Runs every ``bench/bench_*.py`` module's ``main()``; each prints its own figures, its
headline figures next to the previous run's and their limits (:mod:`bench.figures`), which
are recorded in ``bench/figures.json`` after each module.

``python -m bench.run NAME ...`` runs only the named ones (``github``, ``audit``, …).
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

from bench import figures


def main(argv: list[str]) -> int:
    here = Path(__file__).parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))
    chosen = [n for n in names if not argv or n.removeprefix("bench_") in argv]
    for name in chosen:
        print(f"\n=== {name}", flush=True)
        module = importlib.import_module(f"bench.{name}")
        module.main()
        figures.save()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
