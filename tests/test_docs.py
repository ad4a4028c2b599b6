"""README.md and BENCHMARKS.md are assembled from docs/; they must not drift from it."""

from __future__ import annotations

import importlib.util
import re

from tests.conftest import ROOT


def _builder():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("build_docs", ROOT / "tools" / "build_docs.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_docs_are_current() -> None:
    for path, text in _builder().outputs().items():
        assert path.read_text(encoding="utf-8") == text, (
            f"run python tools/build_docs.py ({path.name})"
        )


def test_the_quickstart_has_exactly_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quickstart = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^make \w+", quickstart, flags=re.MULTILINE)
    assert commands == ["make demo", "make test"]


def test_every_cli_command_is_documented() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = sorted(
        p.stem.removesuffix("_cmd") for p in (ROOT / "src" / "pipeledger" / "cli").glob("*_cmd.py")
    )
    missing = [c for c in commands if f"pipeledger {c}" not in readme and f"`{c}" not in readme]
    assert missing == []
