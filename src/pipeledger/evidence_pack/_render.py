"""HTML pages from data.json's content with Jinja2 templates (autoescaped: every value from
the ledger is text, never markup)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jinja2 import ChainableUndefined, Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from pipeledger.dora.stats import human
from pipeledger.evidence_pack._charts import Series, series_from_rows, stacked_bars
from pipeledger.evidence_pack._summary import GAP_DAYS
from pipeledger.evidence_pack._tables import EventTables


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("pipeledger.evidence_pack", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        # Optional event fields may be absent: render them empty, never fail the pack.
        undefined=ChainableUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(human=human, pct=_percent, plain=_plain)
    return env


def _plain(value: Any) -> str:
    """A setting's value as an auditor reads it: lists joined, mappings as key=value."""
    if isinstance(value, list | tuple):
        return ", ".join(_plain(item) for item in value) or "(none)"
    if isinstance(value, Mapping):
        return "; ".join(f"{key}={_plain(item)}" for key, item in sorted(value.items()))
    return "" if value is None else str(value)


def _percent(rate: float | None) -> str:
    return "n/a" if rate is None else f"{rate:.1%}"


class Pages:
    """The pack's HTML pages, rendered one at a time: ``index.html``, and the evidence page
    of each sampled deployment by its place in ``data["evidence"]``."""

    def __init__(self, data: Mapping[str, Any], signed_by: str | None) -> None:
        self._env = _environment()
        self._data = data
        self._common = {
            "data": data,
            "signed": signed_by,
            "event_table": EventTables(data["events"]),
        }
        self._page = self._env.get_template("deployment.html.j2")
        self._findings = {finding["id"]: finding for finding in data["findings"]}
        self.count = len(data["evidence"])

    def index(self) -> str:
        data = self._data
        return self._env.get_template("index.html.j2").render(
            **self._common,
            charts=_charts(data),
            environments=sorted(data["summary"]["by_environment"]),
            dora_scopes=[
                ("overall", data["dora"]["overall"]),
                *sorted(data["dora"]["repositories"].items()),
            ],
            gap_days=GAP_DAYS,
        )

    def evidence(self, index: int) -> tuple[str, str]:
        """The evidence page's path and HTML."""
        ev = self._data["evidence"][index]
        cited = [self._findings[i] for i in ev["findings"]]
        return ev["page"], self._page.render(**self._common, ev=ev, findings=cited)


def _charts(data: Mapping[str, Any]) -> dict[str, Markup]:
    weekly = data["summary"]["weekly"]
    weeks = [row["week"] for row in weekly]
    environments = sorted(data["summary"]["by_environment"])
    return {
        "deployments": _svg(
            "chart-deployments",
            "Deployments per environment per week",
            "Stacked bars, one per ISO week, one colour per environment.",
            weeks,
            series_from_rows(weekly, "deployments", environments),
        ),
        "findings": _svg(
            "chart-findings",
            "Policy violations and anomaly alerts per week",
            "Stacked bars: violations by severity, then anomaly alerts.",
            weeks,
            [
                *series_from_rows(weekly, "findings", ["error", "warning", "notice"]),
                Series("anomaly", [int(row["anomalies"]) for row in weekly]),
            ],
        ),
        "changes": _svg(
            "chart-changes",
            "Permission and protection changes per week",
            "Stacked bars: permission changes, then protection changes.",
            weeks,
            [
                Series("permission", [int(row["permission_changes"]) for row in weekly]),
                Series("protection", [int(row["protection_changes"]) for row in weekly]),
            ],
        ),
    }


def _svg(chart_id: str, title: str, text: str, weeks: list[str], series: list[Series]) -> Markup:
    # The chart builder escapes every label itself.
    return Markup(stacked_bars(chart_id, title, text, weeks, series))  # noqa: S704
