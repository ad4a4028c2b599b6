"""Every documentation link pipeledger prints leads to a page and anchor of the built site.

The site is built here exactly as ``make docs`` builds it (``mkdocs build --strict``), and each
link — the literal ``https://pipeledger.dev/docs/…`` URLs in the code, every ``docs_url(...)``
call, the docs link of every rule type, and the README's links into the site — is looked up
in the HTML: the page must exist and carry the anchor.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from pipeledger.anomalies.detectors import DETECTOR_NAMES
from pipeledger.docs_links import DOCS_ROOT, detector_docs_url, docs_url
from pipeledger.policy.model import RuleSpec, Severity
from pipeledger.policy.rules import RULE_TYPES
from tests.paths import ROOT

CODE_DIRS = (ROOT / "src", ROOT / "plugins")
LITERAL_URL = re.compile(re.escape(DOCS_ROOT) + r"[^\s\"'`)<>]*")
BUILD_TIMEOUT = 120


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    argv = [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet"]
    argv += ["--config-file", str(ROOT / "mkdocs.yml"), "--site-dir", str(out)]
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run(
        argv, cwd=ROOT, capture_output=True, text=True, timeout=BUILD_TIMEOUT, env=env, check=False
    )
    assert done.returncode == 0, f"mkdocs build --strict failed (make docs):\n{done.stderr}"
    return out


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.ids.update(value for name, value in attrs if name == "id" and value)


def unresolved(url: str, site: Path) -> str | None:
    """Why ``url`` does not lead into the built site, or None when it does."""
    if not url.startswith(DOCS_ROOT):
        return "not under " + DOCS_ROOT
    parts = urlsplit(url)
    path = url[len(DOCS_ROOT) :].split("#", 1)[0]
    if path and not path.endswith("/"):
        return "a page URL ends with / (directory URLs)"
    page = site / path / "index.html"
    if not page.is_file():
        return f"no page {path or '(home)'}"
    if parts.fragment:
        ids = _Ids()
        ids.feed(page.read_text(encoding="utf-8"))
        if parts.fragment not in ids.ids:
            return f"page {path} has no anchor #{parts.fragment}"
    return None


def _python_files() -> Iterator[Path]:
    for folder in CODE_DIRS:
        yield from sorted(folder.rglob("*.py"))


def _is_docs_url_call(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
    return name == "docs_url"


def docs_url_calls(source: str) -> tuple[list[str], list[str]]:
    """The URLs of ``docs_url(...)`` calls with literal arguments, and the functions that call
    it with anything else."""
    urls: list[str] = []
    dynamic: list[str] = []
    for function, node in _calls(ast.parse(source), "<module>"):
        args = [*node.args, *(keyword.value for keyword in node.keywords)]
        if all(isinstance(arg, ast.Constant) and isinstance(arg.value, str) for arg in args):
            keywords = {kw.arg or "": ast.literal_eval(kw.value) for kw in node.keywords}
            urls.append(docs_url(*(ast.literal_eval(arg) for arg in node.args), **keywords))
        else:
            dynamic.append(function)
    return urls, dynamic


def _calls(node: ast.AST, function: str) -> Iterator[tuple[str, ast.Call]]:
    for child in ast.iter_child_nodes(node):
        inner = function
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
            inner = child.name
        if _is_docs_url_call(child):
            assert isinstance(child, ast.Call)
            yield inner, child
        yield from _calls(child, inner)


def code_urls() -> tuple[dict[str, set[str]], list[str]]:
    """Every docs URL the code can print, with where it comes from; and calls that build one
    from values this test cannot see (each must be covered another way)."""
    found: dict[str, set[str]] = {}
    dynamic: list[str] = []
    for path in _python_files():
        source = path.read_text(encoding="utf-8")
        where = str(path.relative_to(ROOT))
        calls, lines = docs_url_calls(source)
        for url in [*LITERAL_URL.findall(source), *calls]:
            found.setdefault(url, set()).add(where)
        dynamic += [f"{where}:{name}" for name in lines]
    for rule_type in RULE_TYPES:
        spec = RuleSpec(id="r", type=rule_type, severity=Severity.ERROR, line=1)
        found.setdefault(spec.docs_url, set()).add(f"rule type {rule_type}")
    for detector in DETECTOR_NAMES:
        found.setdefault(detector_docs_url(detector), set()).add(f"detector {detector}")
    return found, dynamic


def readme_urls() -> set[str]:
    return set(LITERAL_URL.findall((ROOT / "README.md").read_text(encoding="utf-8")))


def test_every_docs_url_the_code_prints_resolves(site: Path) -> None:
    found, _dynamic = code_urls()
    broken = [
        f"{url}: {why} (from {', '.join(sorted(where))})"
        for url, where in sorted(found.items())
        if (why := unresolved(url, site))
    ]
    assert broken == []


def test_the_code_builds_docs_urls_only_from_literals_or_the_rule_type() -> None:
    _found, dynamic = code_urls()
    # rule_docs_url() joins the rule type in, detector_docs_url() the anomaly detector's name;
    # every type and detector is checked above.
    assert sorted(dynamic) == [
        "src/pipeledger/docs_links.py:detector_docs_url",
        "src/pipeledger/docs_links.py:rule_docs_url",
    ]


def test_every_rule_type_has_its_own_page(site: Path) -> None:
    found, _dynamic = code_urls()
    rule_urls = {
        url for url, where in found.items() if any(w.startswith("rule type") for w in where)
    }
    assert len(rule_urls) == len(RULE_TYPES) >= 8


def test_every_readme_link_into_the_site_resolves(site: Path) -> None:
    urls = readme_urls()
    assert len(urls) > 10
    assert {url: unresolved(url, site) for url in urls if unresolved(url, site)} == {}


def test_a_wrong_page_or_anchor_is_caught(site: Path) -> None:
    assert unresolved(docs_url("policies", "rules"), site) is None
    assert unresolved(docs_url("policies/require-approval"), site) is None
    assert unresolved(docs_url(), site) is None
    assert unresolved(docs_url("policies/no-such-rule"), site) == "no page policies/no-such-rule/"
    assert "no anchor" in str(unresolved(docs_url("policies", "no-such-heading"), site))
    assert unresolved("https://pipeledger.dev/docs/policies#actor", site) is not None
    assert unresolved("https://example.com/docs/", site) is not None


def test_the_scan_sees_literals_and_calls() -> None:
    source = (
        f'A = "{DOCS_ROOT}sinks/#x"\n'
        'B = docs_url("events", "the-ledger-record")\n'
        "def f(page):\n    return links.docs_url(page)\n"
    )
    calls, dynamic = docs_url_calls(source)
    assert calls == [f"{DOCS_ROOT}events/#the-ledger-record"]
    assert dynamic == ["f"]
    assert LITERAL_URL.findall(source) == [f"{DOCS_ROOT}sinks/#x"]
