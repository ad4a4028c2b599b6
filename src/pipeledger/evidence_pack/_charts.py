"""Stacked bar charts as inline SVG: no script, no font or file to fetch, readable by screen
readers through their title, description and a table of the same numbers beside them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

PALETTE = ("#3949ab", "#00897b", "#f4511e", "#8e24aa", "#6d4c41", "#546e7a", "#c0ca33")
WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 640, 220, 36, 30, 10


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[int]


def stacked_bars(
    chart_id: str, title: str, description: str, labels: Sequence[str], series: Sequence[Series]
) -> str:
    """One bar per label (week), each stacked from the series in order, with a legend."""
    totals = [sum(s.values[i] for s in series) for i in range(len(labels))]
    peak = max([*totals, 1])
    plot_h = HEIGHT - BOTTOM - TOP
    slot = (WIDTH - LEFT) / max(len(labels), 1)
    parts = [
        f'<svg id="{escape(chart_id)}" class="chart" role="img" viewBox="0 0 {WIDTH} {HEIGHT + 24}"'
        f' aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc"'
        ' xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">{escape(description)}</desc>',
        _axis(peak, plot_h),
    ]
    for index, label in enumerate(labels):
        x = LEFT + index * slot + slot * 0.15
        base = float(HEIGHT - BOTTOM)
        for colour, each in zip(PALETTE * 4, series, strict=False):
            value = each.values[index]
            if not value:
                continue
            height = value / peak * plot_h
            base -= height
            parts.append(
                f'<rect x="{x:.1f}" y="{base:.1f}" width="{slot * 0.7:.1f}" height="{height:.1f}"'
                f' fill="{colour}"><title>{escape(label)}: {escape(each.label)} {value}</title>'
                "</rect>"
            )
        if len(labels) <= 16 or index % 2 == 0:
            parts.append(
                f'<text x="{x + slot * 0.35:.1f}" y="{HEIGHT - BOTTOM + 14}" font-size="10"'
                f' text-anchor="middle">{escape(label[-3:])}</text>'
            )
    parts.append(_legend(series))
    parts.append("</svg>")
    return "".join(parts)


def _axis(peak: int, plot_h: float) -> str:
    base = HEIGHT - BOTTOM
    return (
        f'<line x1="{LEFT}" y1="{base}" x2="{WIDTH}" y2="{base}" stroke="#888"/>'
        f'<text x="{LEFT - 4}" y="{base}" font-size="10" text-anchor="end">0</text>'
        f'<text x="{LEFT - 4}" y="{base - plot_h + 8:.1f}" font-size="10"'
        f' text-anchor="end">{peak}</text>'
    )


def _legend(series: Sequence[Series]) -> str:
    parts = []
    for index, (colour, each) in enumerate(zip(PALETTE * 4, series, strict=False)):
        x = LEFT + index * 130
        parts.append(
            f'<rect x="{x}" y="{HEIGHT + 6}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{x + 14}" y="{HEIGHT + 15}" font-size="11">{escape(each.label[:18])}</text>'
        )
    return "".join(parts)


def series_from_rows(
    rows: Sequence[Mapping[str, object]], field: str, labels: Sequence[str]
) -> list[Series]:
    """One series per label of the nested ``field`` mapping of each weekly row."""
    return [
        Series(label, [int(_nested(row, field).get(label, 0)) for row in rows]) for label in labels
    ]


def _nested(row: Mapping[str, object], field: str) -> Mapping[str, int]:
    value = row.get(field)
    return value if isinstance(value, Mapping) else {}
