"""Quality plots rendered on the server with matplotlib (Agg backend: no display), as SVG or PNG."""

from __future__ import annotations

import io
import math
import warnings
from enum import StrEnum

import matplotlib

# Figures are drawn with the Agg renderer whatever the host has (no display on a server).
matplotlib.use("Agg")

from fastapi.responses import Response
from matplotlib.figure import Figure

from models.quality.energy import ClassCount
from models.quality.field import FaultCost
from models.quality.reliability import ReliabilityStat

__all__ = ["PlotFormat", "RateBasis", "energy_class_chart", "pareto_chart", "rate_chart", "render", "weibull_plot"]

# A readable size on a laptop screen and in a report page, inches at DPI.
FIGURE_SIZE = (8.0, 4.5)
DPI = 100
# Bars beyond this are unreadable; the list is sorted worst first, so the cut keeps what matters.
MAX_BARS = 40


class PlotFormat(StrEnum):
    """How a plot is returned."""

    SVG = "svg"
    PNG = "png"


_MEDIA = {PlotFormat.SVG: "image/svg+xml", PlotFormat.PNG: "image/png"}


def render(figure: Figure, fmt: PlotFormat) -> Response:
    """The figure as an HTTP response in the asked format."""
    out = io.BytesIO()
    with warnings.catch_warnings():
        # A label with a character the font lacks is drawn as a box; that must not fail the plot.
        warnings.filterwarnings("ignore", message="Glyph .* missing from font", category=UserWarning)
        figure.savefig(out, format=str(fmt), dpi=DPI, bbox_inches="tight")
    return Response(out.getvalue(), media_type=_MEDIA[fmt])


class RateBasis(StrEnum):
    """What failures are counted against: hours in service, or usage (trips; door cycles for door parts)."""

    HOURS = "hours"
    USAGE = "usage"


def _rate(stat: ReliabilityStat, basis: RateBasis) -> tuple[float | None, float | None, float | None]:
    if basis is RateBasis.USAGE:
        return stat.rate_per_m_usage, stat.usage_rate_lower, stat.usage_rate_upper
    return stat.rate_per_mh, stat.rate_lower, stat.rate_upper


def rate_chart(stats: list[ReliabilityStat], *, title: str, basis: RateBasis = RateBasis.HOURS) -> Figure:
    """Failure rate of each group with its 95 % interval side by side (batches, or a type's suppliers), and the
    fleet rate where known (per hour only: usage covers fewer lives)."""
    rows = [(s, *_rate(s, basis)) for s in stats if _rate(s, basis)[0] is not None][:MAX_BARS]
    figure = Figure(figsize=FIGURE_SIZE)
    axes = figure.subplots()
    positions = list(range(len(rows)))
    rates = [rate or 0.0 for _, rate, _, _ in rows]
    low = [max(r - (lower if lower is not None else r), 0.0) for r, (_, _, lower, _) in zip(rates, rows, strict=True)]
    high = [max((upper if upper is not None else r) - r, 0.0) for r, (_, _, _, upper) in zip(rates, rows, strict=True)]
    # Red: the whole interval lies above the fleet rate.
    colours = ["tab:red" if s.fleet_rate_per_mh is not None and (s.rate_lower or 0) > s.fleet_rate_per_mh
               else "tab:blue" for s, *_ in rows]  # fmt: skip
    axes.bar(positions, rates, yerr=[low, high], color=colours, capsize=3)
    fleet = [(i, s.fleet_rate_per_mh) for i, (s, *_) in enumerate(rows) if s.fleet_rate_per_mh is not None]
    if fleet and basis is RateBasis.HOURS:
        axes.scatter([i for i, _ in fleet], [r for _, r in fleet], marker="_", s=300, color="black", label="fleet rate")
        axes.legend(loc="upper right")
    axes.set_xticks(positions, [s.label for s, *_ in rows], rotation=60, ha="right", fontsize=8)
    unit = "million hours" if basis is RateBasis.HOURS else f"million {rows[0][0].usage_unit if rows else 'trips'}"
    axes.set_ylabel(f"failures per {unit} (95 % interval)")
    axes.set_title(title)
    return figure


def weibull_plot(stat: ReliabilityStat) -> Figure:
    """Kaplan-Meier unreliability on Weibull paper (ln t against ln(-ln(1 - F))) with the fitted line."""
    figure = Figure(figsize=FIGURE_SIZE)
    axes = figure.subplots()
    points = [(t, f) for t, f in stat.probability_points if t > 0 and 0 < f < 1]
    axes.scatter([math.log(t) for t, _ in points], [math.log(-math.log(1 - f)) for _, f in points], label="field")
    if stat.weibull_shape is not None and stat.weibull_scale_hours is not None and points:
        shape, scale = stat.weibull_shape, stat.weibull_scale_hours
        xs = [math.log(points[0][0]), math.log(max(points[-1][0], scale))]
        axes.plot(xs, [shape * (x - math.log(scale)) for x in xs], color="tab:red",
                  label=f"Weibull beta={shape:.2f}, eta={scale:,.0f} h")  # fmt: skip
    axes.set_xlabel("ln(hours in service)")
    axes.set_ylabel("ln(-ln(1 - F))")
    axes.set_title(f"Weibull probability plot: {stat.label}")
    axes.legend(loc="lower right")
    return figure


def pareto_chart(costs: list[FaultCost], *, title: str) -> Figure:
    """Downtime by fault code, costliest first, with the cumulative share on a second axis."""
    rows = sorted(costs, key=lambda c: c.downtime_hours, reverse=True)[:MAX_BARS]
    figure = Figure(figsize=FIGURE_SIZE)
    axes = figure.subplots()
    positions = list(range(len(rows)))
    axes.bar(positions, [c.downtime_hours for c in rows], color="tab:blue")
    axes.set_xticks(positions, [f"{c.code} ({c.faults})" for c in rows], rotation=60, ha="right", fontsize=8)
    axes.set_ylabel("hours out of service")
    total = sum(c.downtime_hours for c in rows) or 1.0
    shares, running = [], 0.0
    for cost in rows:
        running += cost.downtime_hours
        shares.append(100.0 * running / total)
    share_axes = axes.twinx()
    share_axes.plot(positions, shares, color="tab:red", marker="o")
    share_axes.set_ylim(0, 105)
    share_axes.set_ylabel("cumulative share, %")
    axes.set_title(title)
    return figure


# ISO 25745-2 classes A-G, best first, in the green-to-red of an energy label.
ENERGY_CLASSES = "ABCDEFG"
ENERGY_KINDS = (("running", "tab:blue"), ("standby", "tab:orange"), ("total", "tab:green"))


def energy_class_chart(counts: list[ClassCount]) -> Figure:
    """Units per energy class A-G: running, standby and total classes as grouped bars."""
    figure = Figure(figsize=FIGURE_SIZE)
    axes = figure.subplots()
    width = 0.8 / len(ENERGY_KINDS)
    by_key = {(c.kind, c.energy_class): c.units for c in counts}
    for n, (kind, color) in enumerate(ENERGY_KINDS):
        positions = [i + (n - 1) * width for i in range(len(ENERGY_CLASSES))]
        axes.bar(positions, [by_key.get((kind, letter), 0) for letter in ENERGY_CLASSES], width, label=kind,
                 color=color)  # fmt: skip
    axes.set_xticks(range(len(ENERGY_CLASSES)), list(ENERGY_CLASSES))
    axes.set_xlabel("ISO 25745-2 class (latest month of each unit)")
    axes.set_ylabel("units")
    units = sum(by_key.get(("total", letter), 0) for letter in ENERGY_CLASSES)
    axes.set_title(f"Energy classes across the fleet ({units} units)")
    axes.legend(loc="upper right")
    return figure
