"""A lab test's trend as an inline SVG chart, built on the server with no JavaScript.

Pure: points in, geometry and markup out. The page puts the same data in a table beneath the
chart, so the picture is a summary, never the only way to read a value. Out-of-range points get
a shape of their own (a triangle pointing the way the value left the range, a diamond for a
critical value) and a letter beside them, so the flag never rests on colour alone.

Coordinates are computed in a fixed ``viewBox`` and the SVG scales with its container; every
coordinate written stays inside the viewBox whatever the values (huge, tiny, all equal, one).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from markupsafe import Markup, escape

Side = Literal["high", "low", "critical"]

WIDTH = 560.0
HEIGHT = 300.0
# Room for value labels on the left and date labels below.
LEFT, RIGHT, TOP, BOTTOM = 64.0, 20.0, 16.0, 44.0
MARKER = 6.0
X_TICKS = 3
Y_TICKS = 5
# Geometry only: values beyond this are drawn at this size (their labels keep the real value),
# so that differences of extreme floats never overflow to infinity.
_LIMIT = 1e150
# Characters XML forbids (C0 controls but tab, newline, return; lone surrogates; U+FFFE/F).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text(value: str) -> Markup:
    """Text for the SVG: escaped, and without characters that would break the markup."""
    return escape(_NOT_XML.sub("", value))


@dataclass(frozen=True)
class ChartPoint:
    """One result to plot: when, the value, and which side of the range it lies on (if out)."""

    at: dt.datetime
    value: float
    out: Side | None = None
    label: str = ""  # the point's tooltip: date, value and flag in words


@dataclass(frozen=True)
class ChartText:
    """The words a chart prints, in the reader's language."""

    title: str  # the aria-label: a sentence summarising the chart
    band: str  # the legend of the shaded band ("Normal range")
    flag_letters: dict[str, str]  # short marks beside out-of-range points: {"high": "H"...}


@dataclass(frozen=True)
class Plotted:
    x: float
    y: float
    out: Side | None
    label: str


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class Band:
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class TrendChart:
    """The chart's geometry in viewBox units, and its markup."""

    points: tuple[Plotted, ...]
    band: Band | None
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    text: ChartText

    @property
    def flagged(self) -> int:
        return sum(1 for p in self.points if p.out)

    def svg(self) -> Markup:
        """The chart as inline SVG: role="img" with a summary, the parts hidden from readers
        of the accessible table beneath."""
        parts = [
            f'<svg class="trend-chart" viewBox="0 0 {WIDTH:g} {HEIGHT:g}" role="img" '
            f'aria-label="{_text(self.text.title)}" xmlns="http://www.w3.org/2000/svg" '
            'preserveAspectRatio="xMidYMid meet">',
            f"<title>{_text(self.text.title)}</title>",
        ]
        bottom, right = HEIGHT - BOTTOM, WIDTH - RIGHT
        if self.band is not None:
            b = self.band
            parts.append(
                f'<rect class="chart-band" x="{b.x:.1f}" y="{b.y:.1f}" width="{b.width:.1f}" '
                f'height="{b.height:.1f}"><title>{_text(self.text.band)}</title></rect>'
            )
        for tick in self.y_ticks:
            parts.append(
                f'<line class="chart-grid" x1="{LEFT:g}" y1="{tick.position:.1f}" '
                f'x2="{right:g}" y2="{tick.position:.1f}"/>'
                f'<text class="chart-label" x="{LEFT - 6:g}" y="{tick.position + 4:.1f}" '
                f'text-anchor="end">{_text(tick.label)}</text>'
            )
        last = len(self.x_ticks) - 1
        for index, tick in enumerate(self.x_ticks):
            # The end labels align with the plot's edges so that they are never cut off.
            anchor = "start" if index == 0 and last else "end" if index == last > 0 else "middle"
            parts.append(
                f'<line class="chart-axis" x1="{tick.position:.1f}" y1="{bottom:g}" '
                f'x2="{tick.position:.1f}" y2="{bottom + 5:g}"/>'
                f'<text class="chart-label" x="{tick.position:.1f}" y="{bottom + 22:g}" '
                f'text-anchor="{anchor}">{_text(tick.label)}</text>'
            )
        parts.append(
            f'<polyline class="chart-axis" fill="none" '
            f'points="{LEFT:g},{TOP:g} {LEFT:g},{bottom:g} {right:g},{bottom:g}"/>'
        )
        if len(self.points) > 1:
            line = " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)
            parts.append(f'<polyline class="chart-line" fill="none" points="{line}"/>')
        for point in self.points:
            parts.append(self._marker(point))
        parts.append("</svg>")
        return Markup("".join(parts))

    def _marker(self, point: Plotted) -> str:
        x, y, m = point.x, point.y, MARKER
        title = f"<title>{_text(point.label)}</title>" if point.label else ""
        if point.out is None:
            return (
                f'<circle class="chart-point" cx="{x:.1f}" cy="{y:.1f}" r="{m - 1.5:g}">'
                f"{title}</circle>"
            )
        if point.out == "high":
            shape = f"{x:.1f},{y - m:.1f} {x + m:.1f},{y + m:.1f} {x - m:.1f},{y + m:.1f}"
        elif point.out == "low":
            shape = f"{x:.1f},{y + m:.1f} {x + m:.1f},{y - m:.1f} {x - m:.1f},{y - m:.1f}"
        else:
            shape = (
                f"{x:.1f},{y - m:.1f} {x + m:.1f},{y:.1f} {x:.1f},{y + m:.1f} {x - m:.1f},{y:.1f}"
            )
        letter = _text(self.text.flag_letters.get(point.out, "!"))
        # The letter sits above a point near the bottom, below one near the top.
        ly = y + m + 12 if y < TOP + 20 else y - m - 3
        return (
            f'<g class="chart-flag chart-flag-{point.out}"><polygon points="{shape}">{title}'
            f'</polygon><text x="{x:.1f}" y="{ly:.1f}" text-anchor="middle">{letter}</text></g>'
        )


def _finite(value: float) -> float:
    return max(-_LIMIT, min(_LIMIT, value)) if math.isfinite(value) else 0.0


def nice_ticks(low: float, high: float, count: int = Y_TICKS) -> list[float]:
    """Round tick values (1, 2 or 5 times a power of ten) covering ``low``..``high``."""
    span = high - low
    if not (math.isfinite(span) and span > 0):
        return [low]
    raw = span / max(count - 1, 1)
    if not raw > 1e-300:
        return [low]
    power = 10 ** math.floor(math.log10(raw))
    step = next((power * f for f in (1, 2, 5, 10) if power * f >= raw), power * 10)
    if step <= 0 or not math.isfinite(step):
        return [low]
    first = math.ceil(low / step)
    last = math.floor(high / step)
    digits = max(0, -math.floor(math.log10(step)))
    return [round(i * step, digits) for i in range(int(first), int(last) + 1)[: count * 3]]


def _domain(values: Sequence[float]) -> tuple[float, float]:
    low, high = min(values), max(values)
    if high - low <= max(abs(low), abs(high)) * 1e-9 or high - low < 1e-300:
        pad = abs(high) * 0.1 or 1.0
        return low - pad, high + pad
    pad = (high - low) * 0.08
    return low - pad, high + pad


def _seconds(moment: dt.datetime) -> float:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()


def trend_chart(
    points: Sequence[ChartPoint],
    low: float | None,
    high: float | None,
    text: ChartText,
    format_value: Callable[[float], str],
    format_date: Callable[[dt.datetime], str],
) -> TrendChart:
    """Plot ``points`` (any order) over time with the band ``low``..``high`` shaded."""
    ordered = sorted(points, key=lambda p: _seconds(p.at))
    values = [_finite(p.value) for p in ordered]
    bounds = [_finite(b) for b in (low, high) if b is not None]
    y_low, y_high = _domain([*values, *bounds] or [0.0])
    plot_top, plot_bottom = TOP, HEIGHT - BOTTOM
    plot_left, plot_right = LEFT + MARKER * 2, WIDTH - RIGHT - MARKER * 2

    def y_of(value: float) -> float:
        share = (_finite(value) - y_low) / (y_high - y_low)
        return min(plot_bottom, max(plot_top, plot_bottom - share * (plot_bottom - plot_top)))

    times = [_seconds(p.at) for p in ordered]
    t_low, t_high = (min(times), max(times)) if times else (0.0, 0.0)

    def x_of(seconds: float) -> float:
        if t_high == t_low:
            return (plot_left + plot_right) / 2
        share = (seconds - t_low) / (t_high - t_low)
        return min(plot_right, max(plot_left, plot_left + share * (plot_right - plot_left)))

    plotted = tuple(
        Plotted(x_of(t), y_of(p.value), p.out, p.label) for t, p in zip(times, ordered, strict=True)
    )
    band = None
    if bounds:
        top = y_of(high) if high is not None else plot_top
        bottom = y_of(low) if low is not None else plot_bottom
        band = Band(LEFT, top, WIDTH - RIGHT - LEFT, max(0.0, bottom - top))
    y_ticks = tuple(Tick(y_of(v), format_value(v)) for v in nice_ticks(y_low, y_high))
    x_ticks: list[Tick] = []
    if ordered:
        if t_high == t_low:
            x_ticks.append(Tick(x_of(t_low), format_date(ordered[0].at)))
        else:
            for index in range(X_TICKS):
                seconds = t_low + (t_high - t_low) * index / (X_TICKS - 1)
                when = dt.datetime.fromtimestamp(seconds, dt.UTC)
                x_ticks.append(Tick(x_of(seconds), format_date(when)))
    return TrendChart(plotted, band, tuple(x_ticks), y_ticks, text)
