"""Telemetry charts drawn on the server as inline SVG: no chart library, nothing for the browser to fetch.

A chart is a few lines over a time window: gaps where buckets are missing, the lowest and highest value on the
axis, markers (controller events) as vertical lines and spans (alarms, from first seen to cleared) as shaded
bands, each with its name on hover.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from markupsafe import Markup, escape

__all__ = ["Marker", "Series", "Span", "line_chart"]

# The drawing's own coordinates; CSS scales it to the page (a phone gets the same chart, smaller).
WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 70, 10, 12, 30
# Line colours in order, each with at least 3:1 contrast on white (WCAG non-text contrast).
COLOURS = ("#1f5fa8", "#b3471d", "#2d7d32", "#6a3d9a")
# A spread below this (relative) is a flat line, not a signal to stretch across the whole height.
FLAT = 1e-6
# Markers beyond this many are summarised in the caption: a fault storm must not make the SVG huge.
MAX_MARKERS = 200
# An alarm active for an instant still gets a band this wide (drawing units), so it can be seen and hovered.
MIN_SPAN_W = 3.0


@dataclass(frozen=True)
class Series:
    """One line: a label and a value per time (None where there is no data)."""

    label: str
    values: Sequence[float | None]


@dataclass(frozen=True)
class Marker:
    """A moment to mark on the chart, e.g. a controller fault."""

    time: datetime
    label: str


@dataclass(frozen=True)
class Span:
    """A stretch of time to shade on the chart, e.g. an alarm from first seen to cleared; `kind` styles it."""

    start: datetime
    end: datetime
    label: str
    kind: str


def _fmt(value: float) -> str:
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%m-%d %H:%M")


def _paths(xs: Sequence[float], values: Sequence[float | None], y: float, scale: float) -> list[str]:
    """Polyline point lists, broken where a value is missing."""
    runs: list[str] = []
    current: list[str] = []
    for x, value in zip(xs, values, strict=True):
        if value is None:
            if current:
                runs.append(" ".join(current))
            current = []
            continue
        current.append(f"{x:.1f},{TOP + (y - value) * scale:.1f}")
    if current:
        runs.append(" ".join(current))
    return runs


def line_chart(
    title: str,
    times: Sequence[datetime],
    series: Sequence[Series],
    *,
    since: datetime,
    until: datetime,
    markers: Sequence[Marker] = (),
    spans: Sequence[Span] = (),
) -> Markup:
    """An accessible SVG line chart of `series` over [since, until); an empty-state figure when there is no data."""
    values = [v for s in series for v in s.values if v is not None]
    label = escape(title)
    if not values or until <= since:
        return Markup('<p class="empty">{}: no data in this window.</p>').format(label)
    low, high = min(values), max(values)
    if high - low < FLAT * max(1.0, abs(high)):  # a flat line (float32 noise included) sits mid-chart
        pad = max(abs(high) * 0.1, FLAT)
        low, high = low - pad, high + pad
    span = (until - since).total_seconds()
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x_of(at: datetime) -> float:
        return LEFT + plot_w * max(0.0, min(1.0, (at - since).total_seconds() / span))

    xs = [x_of(t) for t in times]
    scale = plot_h / (high - low)
    tick = Markup('<text class="tick" x="{}" y="{}" text-anchor="end">{}</text>')
    parts = [
        Markup('<rect class="frame" x="{}" y="{}" width="{}" height="{}"/>').format(LEFT, TOP, plot_w, plot_h),
        tick.format(LEFT - 6, TOP + 14, _fmt(high)),
        tick.format(LEFT - 6, TOP + plot_h, _fmt(low)),
        Markup('<text class="tick" x="{}" y="{}">{}</text>').format(LEFT, HEIGHT - 6, _stamp(since)),
        tick.format(WIDTH - RIGHT, HEIGHT - 6, _stamp(until)),
    ]
    for band in spans:
        left, right = x_of(band.start), x_of(band.end)
        parts.append(
            Markup(
                '<rect class="span {}" x="{:.1f}" y="{}" width="{:.1f}" height="{}"><title>{}</title></rect>'
            ).format(band.kind, left, TOP, max(right - left, MIN_SPAN_W), plot_h, band.label)
        )
    for marker in markers[:MAX_MARKERS]:
        x = x_of(marker.time)
        parts.append(
            Markup('<line class="marker" x1="{x:.1f}" x2="{x:.1f}" y1="{}" y2="{}"><title>{}</title></line>').format(
                TOP, TOP + plot_h, f"{_stamp(marker.time)} {marker.label}", x=x
            )
        )
    legend = []
    for i, line in enumerate(series):
        colour = COLOURS[i % len(COLOURS)]
        for points in _paths(xs, line.values, high, scale):
            parts.append(
                Markup('<polyline fill="none" stroke="{}" stroke-width="1.5" points="{}"/>').format(colour, points)
            )
        legend.append(Markup('<span class="key"><span class="swatch s{}"></span>{}</span>').format(i, line.label))
    shown = len(markers) if len(markers) <= MAX_MARKERS else f"{MAX_MARKERS} of {len(markers)}"
    caption = Markup('<strong>{}</strong> {} <span class="hint">· {} events marked, {} alarms shaded</span>').format(
        label, Markup(" ").join(legend), shown, len(spans)
    )
    return Markup(
        '<figure class="chart"><svg viewBox="0 0 {w} {h}" role="img" aria-label="{aria}">{body}</svg>'
        "<figcaption>{caption}</figcaption></figure>"
    ).format(
        w=WIDTH,
        h=HEIGHT,
        aria=f"{title}, from {_fmt(low)} to {_fmt(high)}",
        body=Markup("").join(parts),
        caption=caption,
    )
