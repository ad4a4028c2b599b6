"""The fence between the engine and its plugins: a plugin imports pipeledger only through
:mod:`pipeledger.plugin` and never imports another plugin; that module exports exactly what the
plugins use, and importing it loads none of the engine."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pipeledger.plugin
from tests.paths import ROOT

PLUGINS = ROOT / "plugins"
API = "pipeledger.plugin"


def plugin_files() -> list[Path]:
    files = sorted(PLUGINS.glob("pipeledger_*/**/*.py"))
    assert files, f"no plugin sources under {PLUGINS}"
    return files


def imports(path: Path) -> Iterator[tuple[int, str, list[str]]]:
    """(line, module, imported names) of every absolute import in ``path``, at any depth —
    inside functions and ``if TYPE_CHECKING:`` blocks too; ``import a.b`` imports no names."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, []
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module, [alias.name for alias in node.names]


def fence_breach(module: str, own_package: str) -> str | None:
    """Why a plugin of ``own_package`` may not import ``module``; None when it may."""
    package = module.partition(".")[0]
    if package == "pipeledger" and module != API:
        return f"imports the engine-internal {module}: import it from {API}"
    if package.startswith("pipeledger_") and package != own_package:
        return f"imports another plugin, {module}: move what they share into {API}"
    return None


def where(path: Path, line: int) -> str:
    return f"{path.relative_to(ROOT)}:{line}"


def names_taken_from_the_api() -> dict[str, list[str]]:
    """Each name plugins import from the API, with where they import it."""
    taken: dict[str, list[str]] = {}
    for path in plugin_files():
        for line, module, names in imports(path):
            if module == API:
                for name in names:
                    taken.setdefault(name, []).append(where(path, line))
    return taken


def test_plugins_import_only_the_plugin_api_and_their_own_package() -> None:
    breaches = [
        f"{where(path, line)} {problem}"
        for path in plugin_files()
        for line, module, _ in imports(path)
        if (problem := fence_breach(module, path.relative_to(PLUGINS).parts[0]))
    ]
    assert breaches == [], "\n".join(breaches)


def test_the_fence_names_what_it_refuses() -> None:
    assert fence_breach(API, "pipeledger_github") is None
    assert fence_breach("pipeledger_github.client", "pipeledger_github") is None
    assert fence_breach("pipeledger", "pipeledger_github") is not None
    assert fence_breach("pipeledger.events", "pipeledger_github") is not None
    assert fence_breach("pipeledger_sqlite.sink", "pipeledger_postgres") is not None


def test_plugins_import_only_names_the_api_exports() -> None:
    unknown = [
        f"{place} imports {name}, which {API} does not export"
        for name, places in names_taken_from_the_api().items()
        if name not in pipeledger.plugin.__all__
        for place in places
    ]
    assert unknown == [], "\n".join(unknown)


def test_every_exported_name_is_used_by_a_plugin() -> None:
    unused = set(pipeledger.plugin.__all__) - set(names_taken_from_the_api())
    assert unused == set(), f"{API} exports names no plugin uses: {sorted(unused)}"


def test_every_exported_name_resolves() -> None:
    missing = [name for name in pipeledger.plugin.__all__ if not hasattr(pipeledger.plugin, name)]
    assert missing == [], f"{API} exports names it cannot resolve: {missing}"


def test_the_lazy_table_holds_exactly_the_exports() -> None:
    assert sorted(pipeledger.plugin._HOME) == sorted(pipeledger.plugin.__all__)


def test_dir_lists_exactly_the_exports() -> None:
    assert dir(pipeledger.plugin) == sorted(pipeledger.plugin.__all__)


def test_importing_the_api_loads_none_of_the_engine() -> None:
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sys, {API}; print(*sorted(m for m in sys.modules if 'pipeledger' in m))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert loaded == ["pipeledger", API]
