"""Line charts as inline SVG, drawn here rather than by a chart library in the browser.

report.html must open with no network access, straight from a pipeline artifact, and its charts are a handful of
series of at most a few dozen points: a polyline with one marked point per run, axes and labels. A vendored
JavaScript chart library would add a few hundred kilobytes to every report for that, and pygal's interactive
output loads its script from a CDN by default. Hand-written SVG is small, needs no script to show, and puts one
`<circle class="point">` per run into the document, which the browser test counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Final

_WIDTH: Final = 360
_HEIGHT: Final = 140
_PAD_LEFT: Final = 46
_PAD_RIGHT: Final = 12
_PAD_TOP: Final = 24
_PAD_BOTTOM: Final = 26


@dataclass(frozen=True, kw_only=True)
class Series:
    title: str  # e.g. "Libyears"
    key: str  # names the chart in the document (data-series), e.g. "fleet-libyears"
    labels: Sequence[str]  # one per point, e.g. the run's start date
    values: Sequence[float | None]  # None: unknown in that run (a gap)
    unit: str = ""
    digits: int = 0


def line_chart(series: Series) -> str:
    known = [value for value in series.values if value is not None]
    low, high = (min(known), max(known)) if known else (0.0, 1.0)
    low = min(low, 0.0)
    span = (high - low) or 1.0
    count = len(series.values)
    inner_w, inner_h = _WIDTH - _PAD_LEFT - _PAD_RIGHT, _HEIGHT - _PAD_TOP - _PAD_BOTTOM

    def x(index: int) -> float:
        return _PAD_LEFT + (inner_w * index / (count - 1) if count > 1 else inner_w / 2)

    def y(value: float) -> float:
        return _PAD_TOP + inner_h * (1 - (value - low) / span)

    points = [(x(index), y(value), index, value) for index, value in enumerate(series.values) if value is not None]
    path = " ".join(f"{px:.1f},{py:.1f}" for px, py, _, _ in points)
    circles = "".join(
        f'<circle class="point" cx="{px:.1f}" cy="{py:.1f}" r="3"><title>{escape(series.labels[index])}: '
        f"{_number(value, series)}</title></circle>"
        for px, py, index, value in points
    )
    last = f"{_number(known[-1], series)}" if known else "no data"
    axis = (
        f'<line class="axis" x1="{_PAD_LEFT}" y1="{_PAD_TOP + inner_h}" x2="{_WIDTH - _PAD_RIGHT}" '
        f'y2="{_PAD_TOP + inner_h}"/>'
        f'<text class="tick" x="{_PAD_LEFT - 6}" y="{y(high) + 4:.1f}" text-anchor="end">{_number(high, series)}</text>'
        f'<text class="tick" x="{_PAD_LEFT - 6}" y="{y(low) + 4:.1f}" text-anchor="end">{_number(low, series)}</text>'
    )
    first_label = escape(series.labels[0]) if series.labels else ""
    last_label = escape(series.labels[-1]) if series.labels else ""
    dates = (
        f'<text class="tick" x="{_PAD_LEFT}" y="{_HEIGHT - 8}">{first_label}</text>'
        f'<text class="tick" x="{_WIDTH - _PAD_RIGHT}" y="{_HEIGHT - 8}" text-anchor="end">{last_label}</text>'
    )
    title = f'<text class="title" x="{_PAD_LEFT}" y="15">{escape(series.title)}: {last}</text>'
    line = f'<polyline class="line" points="{path}"/>' if len(points) > 1 else ""
    return (
        f'<svg class="chart" data-series="{escape(series.key)}" viewBox="0 0 {_WIDTH} {_HEIGHT}" '
        f'width="{_WIDTH}" height="{_HEIGHT}" role="img" aria-label="{escape(series.title)}">'
        f"{title}{axis}{dates}{line}{circles}</svg>"
    )


def sparkline_svg(values: Sequence[float | None], *, width: int = 90, height: int = 20) -> str:
    """A small line of the values (for a table cell); empty with fewer than two known values."""
    known = [value for value in values if value is not None]
    if len(known) < 2:  # noqa: PLR2004 - a line needs two points
        return ""
    low, high = min(known), max(known)
    span = (high - low) or 1.0
    step = width / (len(values) - 1)
    path = " ".join(
        f"{index * step:.1f},{height - 2 - (height - 4) * (value - low) / span:.1f}"
        for index, value in enumerate(values)
        if value is not None
    )
    size = f'viewBox="0 0 {width} {height}" width="{width}" height="{height}"'
    return f'<svg class="spark" {size}><polyline points="{path}"/></svg>'


def _number(value: float, series: Series) -> str:
    return f"{value:.{series.digits}f}{series.unit}"
