"""Inline SVG line charts for report.html, drawn by hand so the page needs no script or CDN.

Coordinates are floats (they are pixels, not money). Long series are thinned to the min and
max of each pixel column, which keeps spikes visible and the file small on hour-long runs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

WIDTH, HEIGHT = 920, 250
LEFT, RIGHT, TOP, BOTTOM = 78, 16, 30, 34
MAX_MARKERS = 4_000

Point = tuple[float, float]


@dataclass(slots=True)
class Series:
    name: str
    color: str
    segments: list[list[Point]]  # a gap (no value) splits the line into segments
    step: bool = False


@dataclass(slots=True)
class Marker:
    x: float
    y: float
    up: bool  # buy: triangle pointing up
    title: str


@dataclass(slots=True)
class Band:
    x0: float
    x1: float | None  # None: an instant (or open-ended) fault, drawn as a line
    label: str
    title: str


@dataclass(slots=True)
class Chart:
    title: str
    x_range: tuple[float, float]  # seconds since the run began
    series: list[Series] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)
    bands: list[Band] = field(default_factory=list)
    limit: tuple[float, str] | None = None  # a horizontal line: value, label
    unit: str = ""


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering [lo, hi] (1, 2, 2.5 or 5 times a power of ten apart)."""
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / max(count, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.ceil(lo / step) * step
    ticks: list[float] = []
    value = first
    while value <= hi + step * 1e-9 and len(ticks) < 50:
        ticks.append(0.0 if abs(value) < step * 1e-9 else value)
        value += step
    return ticks


TIME_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)


def time_ticks(lo: float, hi: float, count: int = 8) -> list[float]:
    """Ticks on a time axis (seconds) at whole seconds, minutes or hours."""
    raw = (hi - lo) / max(count, 1)
    if raw < 1:
        return nice_ticks(lo, hi, count)
    step = next((float(s) for s in TIME_STEPS if s >= raw), float(TIME_STEPS[-1]))
    first = math.ceil(lo / step) * step
    return [first + i * step for i in range(int((hi - first) // step) + 1)][:50]


def _label(value: float) -> str:
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1e6:
        return f"{value:,.0f}"
    if magnitude >= 100:
        return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"
    if magnitude >= 1:
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{value:.6f}".rstrip("0").rstrip(".")


def _clock(seconds: float) -> str:
    seconds = max(seconds, 0.0)
    if seconds >= 3600:
        return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}:{int(seconds % 60):02d}"
    if seconds >= 60:
        return f"{int(seconds // 60)}:{seconds % 60:04.1f}".rstrip("0").rstrip(".")
    return f"{seconds:g}s"


def thin(points: Sequence[Point], columns: int) -> list[Point]:
    """At most two points per pixel column (its lowest and highest, in time order)."""
    if len(points) <= columns * 2:
        return list(points)
    x0, x1 = points[0][0], points[-1][0]
    span = (x1 - x0) or 1.0
    out: list[Point] = []
    bucket: list[Point] = []
    current = 0
    for point in points:
        column = min(int((point[0] - x0) / span * columns), columns - 1)
        if column != current and bucket:
            out.extend(_extremes(bucket))
            bucket = []
        current = column
        bucket.append(point)
    if bucket:
        out.extend(_extremes(bucket))
    return out


def _extremes(bucket: list[Point]) -> list[Point]:
    low = min(bucket, key=lambda p: p[1])
    high = max(bucket, key=lambda p: p[1])
    if low is high:
        return [low]
    return [low, high] if bucket.index(low) < bucket.index(high) else [high, low]


def render(chart: Chart) -> str:
    """One chart as an ``<svg>`` element."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    x_lo, x_hi = chart.x_range
    if x_hi <= x_lo:
        x_hi = x_lo + 1.0
    ys = [p[1] for s in chart.series for seg in s.segments for p in seg] + [m.y for m in chart.markers]
    if chart.limit is not None:
        ys.append(chart.limit[0])
    y_lo, y_hi = (min(ys), max(ys)) if ys else (0.0, 1.0)
    if y_hi == y_lo:
        pad = abs(y_hi) * 0.01 or 1.0
        y_lo, y_hi = y_lo - pad, y_hi + pad
    pad = (y_hi - y_lo) * 0.06
    y_lo, y_hi = y_lo - pad, y_hi + pad

    def sx(x: float) -> float:
        return LEFT + (x - x_lo) / (x_hi - x_lo) * plot_w

    def sy(y: float) -> float:
        return TOP + (y_hi - y) / (y_hi - y_lo) * plot_h

    parts = [f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
             f'height="{HEIGHT}" role="img" aria-label="{escape(chart.title)}" class="chart">',
             f'<title>{escape(chart.title)}</title>',
             f'<text x="{LEFT}" y="18" class="ct">{escape(chart.title)}</text>',
             f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" class="plot"/>']
    for band in chart.bands:
        x0 = max(sx(band.x0), LEFT)
        x1 = min(sx(band.x1), LEFT + plot_w) if band.x1 is not None else x0 + 2
        kind = "fault" if band.x1 is not None and x1 - x0 >= 2 else "fault at"
        parts.append(f'<rect x="{x0:.1f}" y="{TOP}" width="{max(x1 - x0, 2):.1f}" height="{plot_h}" class="{kind}">'
                     f'<title>{escape(band.title)}</title></rect>')
        parts.append(f'<text x="{x0 + 2:.1f}" y="{TOP + 11}" class="fl">{escape(band.label)}</text>')
    for tick in nice_ticks(y_lo, y_hi):
        y = sy(tick)
        parts.append(f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
                     f'<text x="{LEFT - 6}" y="{y + 4:.1f}" class="yl">{escape(_label(tick))}</text>')
    for tick in time_ticks(x_lo, x_hi):
        x = sx(tick)
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP + plot_h}" y2="{TOP + plot_h + 4}" class="axis"/>'
                     f'<text x="{x:.1f}" y="{TOP + plot_h + 17}" class="xl">{escape(_clock(tick))}</text>')
    if chart.limit is not None:
        y = sy(chart.limit[0])
        parts.append(f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y:.1f}" y2="{y:.1f}" class="limit"/>'
                     f'<text x="{LEFT + plot_w - 4}" y="{y - 4:.1f}" class="ll">{escape(chart.limit[1])}</text>')
    for series in chart.series:
        for segment in series.segments:
            pts = thin(segment, plot_w)
            if series.step:
                pts = [q for a, b in zip(pts, pts[1:] + pts[-1:], strict=True) for q in (a, (b[0], a[1]))]
            coords = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in pts)
            if len(pts) == 1:
                parts.append(f'<circle cx="{sx(pts[0][0]):.1f}" cy="{sy(pts[0][1]):.1f}" r="1.5" '
                             f'fill="{series.color}"/>')
            elif pts:
                parts.append(f'<polyline points="{coords}" fill="none" stroke="{series.color}" stroke-width="1.4"/>')
    markers = chart.markers
    if len(markers) > MAX_MARKERS:  # keep an even sample; the table and fills.csv have them all
        every = len(markers) / MAX_MARKERS
        markers = [markers[int(i * every)] for i in range(MAX_MARKERS)]
    for m in markers:
        x, y = sx(m.x), sy(m.y)
        tip = f"{x:.1f},{y - 5:.1f} {x - 4:.1f},{y + 3:.1f} {x + 4:.1f},{y + 3:.1f}" if m.up else \
            f"{x:.1f},{y + 5:.1f} {x - 4:.1f},{y - 3:.1f} {x + 4:.1f},{y - 3:.1f}"
        parts.append(f'<polygon points="{tip}" class="{"buy" if m.up else "sell"}"><title>{escape(m.title)}</title>'
                     f'</polygon>')
    legend_x = LEFT + plot_w
    entries = [(s.name, s.color) for s in chart.series]
    if chart.markers:
        entries += [("buy fill", "#1a7f37"), ("sell fill", "#cf222e")]
    if chart.bands:
        entries.append(("fault", "#f4a261"))
    for name, color in reversed(entries):
        legend_x -= 22 + 6 * len(name)
        parts.append(f'<rect x="{legend_x}" y="9" width="10" height="10" fill="{color}"/>'
                     f'<text x="{legend_x + 13}" y="18" class="lg">{escape(name)}</text>')
    if chart.unit:
        parts.append(f'<text x="12" y="{TOP + plot_h / 2:.0f}" class="unit" '
                     f'transform="rotate(-90 12 {TOP + plot_h / 2:.0f})">{escape(chart.unit)}</text>')
    parts.append("</svg>")
    return "".join(parts)
