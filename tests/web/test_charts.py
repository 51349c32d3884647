"""The trend chart as pure geometry: any series draws inside the viewBox without crashing, the
band spans the range, and out-of-range points get their own shape and letter."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET

from hypothesis import given
from hypothesis import strategies as st

from healthspace.web.charts import HEIGHT, WIDTH, ChartPoint, ChartText, nice_ticks, trend_chart

TEXT = ChartText(
    title="Glucose <test> & co", band="Normal range", flag_letters={"high": "H", "low": "L"}
)
SVG = "{http://www.w3.org/2000/svg}"


def _chart(points: list[ChartPoint], low: float | None = None, high: float | None = None):  # type: ignore[no-untyped-def]
    return trend_chart(
        points, low, high, TEXT, format_value=str, format_date=lambda d: d.date().isoformat()
    )


def _coordinates(svg: str) -> tuple[list[float], list[float]]:
    """Every x and every y the markup writes (attributes and polygon/polyline points)."""
    root = ET.fromstring(svg)
    xs: list[float] = []
    ys: list[float] = []
    for element in root.iter():
        for name in ("x", "x1", "x2", "cx"):
            if name in element.attrib:
                xs.append(float(element.attrib[name]))
        for name in ("y", "y1", "y2", "cy"):
            if name in element.attrib:
                ys.append(float(element.attrib[name]))
        if element.tag == f"{SVG}rect":
            xs.append(float(element.attrib["x"]) + float(element.attrib["width"]))
            ys.append(float(element.attrib["y"]) + float(element.attrib["height"]))
        for pair in element.attrib.get("points", "").split():
            x, y = pair.split(",")
            xs.append(float(x))
            ys.append(float(y))
    return xs, ys


moments = st.datetimes(
    min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1), timezones=st.just(dt.UTC)
)
values = st.floats(allow_nan=True, allow_infinity=True)
sides = st.sampled_from([None, "high", "low", "critical"])
points = st.lists(st.builds(ChartPoint, moments, values, sides, st.text(max_size=5)), max_size=30)
bounds = st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False))


@given(points, bounds, bounds)
def test_any_series_draws_inside_the_viewbox(
    series: list[ChartPoint], low: float | None, high: float | None
) -> None:
    chart = _chart(series, low, high)
    svg = str(chart.svg())
    xs, ys = _coordinates(svg)  # also proves the markup is well-formed XML
    assert all(0 <= x <= WIDTH for x in xs), xs
    assert all(0 <= y <= HEIGHT for y in ys), ys
    assert svg.count("<polygon") == sum(1 for p in series if p.out)
    assert svg.count("<circle") == sum(1 for p in series if not p.out)
    assert ("chart-band" in svg) == (low is not None or high is not None)


def test_band_spans_the_range_and_flagged_points_carry_a_letter() -> None:
    day = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    series = [
        ChartPoint(day, 5.0),
        ChartPoint(day + dt.timedelta(days=30), 7.0, "high", "1 Feb: 7 High"),
        ChartPoint(day + dt.timedelta(days=60), 3.0, "low"),
    ]
    chart = _chart(series, 3.9, 5.5)
    assert chart.band is not None and chart.flagged == 2
    high_point, low_point = chart.points[1], chart.points[2]
    # SVG y grows downwards: the band lies between the high and the low points.
    assert high_point.y < chart.band.y < chart.band.y + chart.band.height < low_point.y
    svg = str(chart.svg())
    assert re.search(r'chart-flag-high">.*?<text [^>]*>H</text>', svg)
    assert re.search(r'chart-flag-low">.*?<text [^>]*>L</text>', svg)
    assert "<title>1 Feb: 7 High</title>" in svg
    assert 'aria-label="Glucose &lt;test&gt; &amp; co"' in svg  # escaped, never markup
    assert [p.x for p in chart.points] == sorted(p.x for p in chart.points)


def test_one_point_sits_in_the_middle_with_one_date() -> None:
    chart = _chart([ChartPoint(dt.datetime(2024, 5, 1, tzinfo=dt.UTC), 4.2)])
    assert chart.points[0].x == (chart.x_ticks[0].position)
    assert [t.label for t in chart.x_ticks] == ["2024-05-01"]


def test_ticks_are_round_numbers_covering_the_range() -> None:
    assert nice_ticks(3.1, 8.4) == [4.0, 6.0, 8.0]
    assert nice_ticks(0.0, 1.0) == [0.0, 0.5, 1.0]
    assert nice_ticks(60.0, 140.0) == [60.0, 80.0, 100.0, 120.0, 140.0]
    assert nice_ticks(5.0, 5.0) == [5.0]
