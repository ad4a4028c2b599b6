"""The evidence pack as an auditor sees it, in a real headless Chromium (Debian's
``chromium``, driven by Playwright): the page loads with no console error and no network
request, the charts and the sample table are there, headings, table headers and chart labels
are in place, and a screenshot of the summary is written as a test artifact: to the folder
PIPELEDGER_TEST_ARTIFACTS names (.ci/run sets it to the checkout's test-artifacts/, ignored by
git), else to the test's temporary folder.

Skipped when Chromium or Playwright is missing, unless PIPELEDGER_REQUIRE_BROWSER=1 (which
.ci/run sets): then a missing browser fails the test."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeledger.events import EventKind, Scope
from tests.core.report.history import PACK_POLICY, at, event, pack_history, run_cli, write_ledger
from tests.sandbox import ARTIFACTS_ENV

HOSTILE = '<img src="https://evil.example/x.png" onerror="console.error(1)">'


def _browser() -> tuple[Any, str]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    if chromium is None or sync_playwright is None:
        missing = "chromium" if chromium is None else "playwright"
        if os.environ.get("PIPELEDGER_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{missing} is not installed and PIPELEDGER_REQUIRE_BROWSER=1")
        pytest.skip(
            f"{missing} is not installed (apt-get install chromium; pip install playwright)"
        )
    return sync_playwright, chromium


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("browser")
    hostile = event(
        EventKind.PROTECTION_CHANGE,
        "hostile/branch",
        at("03-11 09:00"),
        "mallory",
        action="updated",
        scope=Scope(owner="acme", repository="api"),
        target={"type": "branch", "name": HOSTILE},
        change={"from": 2, "to": 0},
    )
    url = write_ledger(root / "ledger.db", [*pack_history(), hostile])
    (root / "policy.yml").write_text(PACK_POLICY, encoding="utf-8")
    code, _, err = run_cli(
        ["report", "--period", "2026-03", "--out", str(root / "pack"), "--sink", url,
         "--policy", str(root / "policy.yml"), "--seed", "3", "--unsigned"]
    )  # fmt: skip
    assert code == 0, err
    return root / "pack"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_playwright, chromium = _browser()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            yield launched
        finally:
            launched.close()


class Visit:
    """One page load with every console message, page error and request recorded."""

    def __init__(self, browser: Any, path: Path) -> None:
        self.console: list[str] = []
        self.requests: list[str] = []
        self.page = browser.new_page(viewport={"width": 1200, "height": 900})
        self.page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        self.page.on("pageerror", lambda e: self.console.append(f"pageerror: {e}"))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.goto(path.as_uri())
        self.page.wait_for_load_state("load")

    def external_requests(self) -> list[str]:
        return [url for url in self.requests if not url.startswith("file://")]


def test_the_summary_loads_clean_with_charts_and_sample(
    browser: Any, pack: Path, tmp_path: Path
) -> None:
    visit = Visit(browser, pack / "index.html")
    page = visit.page
    assert visit.console == []
    assert visit.external_requests() == []
    assert page.locator("h1").count() == 1
    assert "Change and access evidence, 2026-03" in page.locator("h1").inner_text()
    charts = page.locator("svg.chart[role=img]")
    assert charts.count() == 3
    for index in range(charts.count()):
        chart = charts.nth(index)
        labelled = chart.get_attribute("aria-labelledby") or ""
        title_id = labelled.split()[0]
        assert page.locator(f"#{title_id}").text_content(), labelled
        assert chart.locator("rect").count() > 0
    rows = page.locator("#sample-table tbody tr")
    # Every March deployment: 6 flagged and the 8 others, fewer than --sample's default 25.
    assert rows.count() == 14
    artifacts = Path(os.environ.get(ARTIFACTS_ENV) or tmp_path)
    artifacts.mkdir(parents=True, exist_ok=True)
    screenshot = artifacts / "evidence-pack-summary.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.read_bytes().startswith(b"\x89PNG")
    assert screenshot.stat().st_size > 10_000
    page.close()


def test_every_table_has_header_cells_and_sections_have_headings(browser: Any, pack: Path) -> None:
    visit = Visit(browser, pack / "index.html")
    page = visit.page
    tables = page.locator("table")
    for index in range(tables.count()):
        assert tables.nth(index).locator("th").count() > 0
    for section in ("integrity", "summary", "approvals", "violations", "access", "coverage",
                    "dora", "controls", "sample"):  # fmt: skip
        assert page.locator(f"section#{section} h2").count() == 1, section
    assert page.locator("img").count() == 0  # charts are inline SVG, nothing to fetch
    page.close()


def test_a_hostile_branch_name_is_text_not_markup(browser: Any, pack: Path) -> None:
    visit = Visit(browser, pack / "index.html")
    page = visit.page
    assert page.locator("#access").inner_text().count(HOSTILE) == 1
    assert page.locator("#access img").count() == 0
    assert visit.external_requests() == []
    assert visit.console == []
    page.close()


def test_an_evidence_page_loads_clean_and_links_back(browser: Any, pack: Path) -> None:
    page_path = next((pack / "deployments").glob("acme-api-6-*.html"))
    visit = Visit(browser, page_path)
    page = visit.page
    assert visit.console == []
    assert visit.external_requests() == []
    assert page.locator("h1").inner_text() == "Deployment acme/api#6"
    assert page.locator("h2").count() >= 8
    assert "dave approved a deployment they triggered" in page.inner_text("body")
    page.click("text=Evidence pack 2026-03")
    page.wait_for_load_state("load")
    assert page.url.endswith("index.html#sample")
    page.close()
