"""Server-side SVG charts: gaps stay gaps, text is escaped, markers are bounded, no data is said plainly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from api.console.charts import MAX_MARKERS, Marker, Series, line_chart

T0 = datetime(2026, 1, 1, tzinfo=UTC)
TIMES = [T0 + timedelta(minutes=i) for i in range(6)]


def test_a_missing_bucket_breaks_the_line() -> None:
    svg = line_chart("Current", TIMES, [Series("avg", [1.0, 2.0, None, 3.0, 4.0, 5.0])], since=T0, until=TIMES[-1])
    assert svg.count("<polyline") == 2
    assert 'aria-label="Current, from 1 to 5"' in svg


def test_labels_and_marker_names_are_escaped() -> None:
    svg = line_chart(
        "<b>x</b>",
        TIMES,
        [Series("a&b", [1.0] * 6)],
        since=T0,
        until=TIMES[-1],
        markers=[Marker(T0, "<script>alert(1)</script>")],
    )
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    assert "<b>x</b>" not in svg
    assert "a&amp;b" in svg


def test_a_flat_series_is_drawn_mid_height() -> None:
    svg = line_chart("Flat", TIMES, [Series("v", [0.05] * 6)], since=T0, until=TIMES[-1])
    assert 'aria-label="Flat, from 0.045 to 0.055"' in svg


def test_markers_beyond_the_limit_are_counted_not_drawn() -> None:
    storm = [Marker(T0, "fault")] * (MAX_MARKERS + 5)
    svg = line_chart(
        "Storm", TIMES, [Series("v", [1.0, 2.0, 3.0, 4.0, 5.0, 6.0])], since=T0, until=TIMES[-1], markers=storm
    )
    assert svg.count('class="marker"') == MAX_MARKERS
    assert f"{MAX_MARKERS} of {MAX_MARKERS + 5} events marked" in svg


def test_no_data_says_so() -> None:
    assert "no data in this window" in line_chart("Empty", TIMES, [Series("v", [None] * 6)], since=T0, until=TIMES[-1])
