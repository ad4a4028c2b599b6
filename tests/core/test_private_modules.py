"""The fence inside the engine: a module whose name starts with an underscore (``_budget.py``,
not ``__init__.py``) is private to the package it sits in. Only that package (its modules and
subpackages) and the package's own tests (``tests/core/<package>/``) may import it; any other
engine package, the CLI, a plugin, a benchmark, a tool or another test imports the package's
public modules instead. See "The map of the code" in docs/design.md."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pipeledger.plugin
from tests.paths import ROOT

SOURCE = ROOT / "src"
PACKAGE = SOURCE / "pipeledger"
CHECKED = ("src", "plugins", "tests", "bench", "tools")
# The engine packages grouped by what they are: each public module of these is used
# from outside its package, and what only the package uses is private.
GROUPED = (
    "pipeledger.collect",
    "pipeledger.http",
    "pipeledger.ledger",
    "pipeledger.sinks",
    "pipeledger.policy",
    "pipeledger.policy.rules",
    "pipeledger.report",
    "pipeledger.serve",
    "pipeledger.formats",
    "pipeledger.dora",
    "pipeledger.anomalies",
    "pipeledger.anomalies.detectors",
    "pipeledger.evidence_pack",
)


def python_files() -> list[Path]:
    files = [path for folder in CHECKED for path in sorted((ROOT / folder).rglob("*.py"))]
    assert files, f"no Python files under {ROOT}"
    return files


def is_private(part: str) -> bool:
    return part.startswith("_") and not part.startswith("__")


def is_module(dotted: str) -> bool:
    """Whether ``dotted`` names a module or package of pipeledger (not a name inside one)."""
    path = SOURCE.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def path_module(path: Path) -> str:
    return ".".join(path.relative_to(SOURCE).with_suffix("").parts)


def owner(module: str) -> str | None:
    """The package a private module of pipeledger is private to (``pipeledger.http`` for
    ``pipeledger.http._budget``); None when every part of the name is public."""
    parts = module.split(".")
    if parts[0] != "pipeledger":
        return None
    for index, part in enumerate(parts[1:], start=1):
        if is_private(part):
            return ".".join(parts[:index])
    return None


def own_package(path: Path) -> str | None:
    """The dotted package ``path`` belongs to when it is engine code (``src/pipeledger/...``)."""
    if not path.is_relative_to(PACKAGE):
        return None
    return ".".join(path.relative_to(SOURCE).parent.parts)


def may_import(path: Path, package: str) -> bool:
    """Whether the file ``path`` may import a module private to ``package``."""
    inside = own_package(path)
    if inside is not None:
        return inside == package or inside.startswith(package + ".")
    tests_of_package = ROOT / "tests" / "core" / Path(*package.split(".")[1:])
    return package != "pipeledger" and path.is_relative_to(tests_of_package)


def imported_modules(path: Path) -> Iterator[tuple[int, str]]:
    """(line, module) of every import of ``path``, at any depth; ``from a import b`` yields
    ``a.b`` too when ``b`` is a module of pipeledger, and relative imports are resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                package = own_package(path)
                if package is None:
                    continue
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, module] if module else base)
            yield node.lineno, module
            for alias in node.names:
                if is_module(f"{module}.{alias.name}"):
                    yield node.lineno, f"{module}.{alias.name}"


def breach(path: Path, module: str) -> str | None:
    """Why ``path`` may not import ``module``; None when it may."""
    package = owner(module)
    if package is None or may_import(path, package):
        return None
    return f"imports {module}, private to {package}: use a public module of {package}"


def test_no_private_module_is_imported_from_outside_its_package() -> None:
    breaches = [
        f"{path.relative_to(ROOT)}:{line} {problem}"
        for path in python_files()
        for line, module in imported_modules(path)
        if (problem := breach(path, module))
    ]
    assert breaches == [], "\n".join(breaches)


def test_what_only_its_package_uses_is_private() -> None:
    importers: dict[str, set[Path]] = {}
    for path in python_files():
        for _, module in imported_modules(path):
            importers.setdefault(module, set()).add(path)
    internal = []
    for package in GROUPED:
        for path in sorted(PACKAGE.joinpath(*package.split(".")[1:]).glob("[!_]*.py")):
            module = path_module(path)
            if all(may_import(user, package) for user in importers.get(module, ())):
                internal.append(module)
    assert internal == [], f"used only inside their package, so name them _<name>: {internal}"


def test_the_plugin_api_exports_nothing_from_a_private_module() -> None:
    private = sorted(home for home in set(pipeledger.plugin._HOME.values()) if owner(home))
    assert private == [], f"pipeledger.plugin re-exports private modules: {private}"


def test_the_fence_names_what_it_refuses() -> None:
    client = PACKAGE / "http" / "client.py"
    assert breach(client, "pipeledger.http._budget") is None
    assert (
        breach(ROOT / "tests" / "core" / "http" / "test_budget.py", "pipeledger.http._budget")
        is None
    )
    assert breach(PACKAGE / "collect" / "run.py", "pipeledger.http._budget") is not None
    assert breach(PACKAGE / "cli" / "main.py", "pipeledger.collect._scopes") is not None
    assert breach(ROOT / "tests" / "e2e" / "test_x.py", "pipeledger.http._errors") is not None
    assert breach(ROOT / "bench" / "bench_x.py", "pipeledger.http._budget") is not None
    assert breach(ROOT / "plugins" / "pipeledger_x" / "a.py", "pipeledger.http._budget")
    assert breach(client, "pipeledger.http.origin") is None
    assert breach(client, "pipeledger.plugin") is None
    assert breach(client, "http") is None


def test_the_convention_is_in_use() -> None:
    """Not vacuous: the packages that keep private modules still have them."""
    private = sorted(path_module(path) for path in PACKAGE.rglob("_*.py") if is_private(path.name))
    assert {"pipeledger.http._budget", "pipeledger.collect._scopes"} <= set(private), private
    assert all(owner(module) for module in private)
