"""Per-message parse cost: what the duplicate-key check adds to decoding a telemetry batch.

    .venv/bin/python bench/ingest_parse.py [--samples 20] [--messages 2000] [--repeat 7]

Times, per message, on one core: the plain typed decode (the baseline, msgspec into TelemetryBatch, no key
check), `parse_message` on compact JSON (the byte-count proof of no repeated key), on `json.dumps` style
JSON with spaces (the same proof), and on JSON with a null field (the exact check: Python's json with a
pairs hook). Best of --repeat runs. Prints a table, then one JSON object with every figure as the last line.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ingest.parse import Accepted, Limits, parse_message
from models.telemetry.contract import TelemetryBatch, TelemetrySample

NOW = datetime.now(UTC).replace(microsecond=0)
LIMITS = Limits("lb/v1", 1 << 20, timedelta(minutes=5), timedelta(days=3650))
TOPIC = "lb/v1/u1/telemetry"


def payloads(samples: int) -> dict[str, bytes]:
    """One realistic batch in three spellings."""
    batch = TelemetryBatch(samples=[
        TelemetrySample(ts=NOW - timedelta(seconds=i), floor=3, direction=1, speed_mps=1.6, load_pct=35.0,
                        door_state="closed", motor_current_a=21.5, motor_temp_c=48.2, vibration_z=0.04,
                        levelling_error_mm=1.5, trip_count=182734)
        for i in range(samples)
    ])  # fmt: skip
    compact = msgspec.json.encode(batch)
    spaced = json.dumps(json.loads(compact)).encode()
    with_null = compact.replace(b'"floor":3', b'"floor":null', 1)
    return {"compact": compact, "spaced": spaced, "with_null": with_null}


def per_message_us(work: Callable[[], object], messages: int, repeat: int) -> float:
    """Best time per call over `repeat` runs of `messages` calls, in microseconds."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        for _ in range(messages):
            work()
        best = min(best, time.perf_counter() - started)
    return best / messages * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=20, help="samples per message (default 20)")
    parser.add_argument("--messages", type=int, default=2000, help="messages per timed run (default 2000)")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs, best kept (default 7)")
    args = parser.parse_args()
    variants = payloads(args.samples)
    for payload in variants.values():
        assert isinstance(parse_message(TOPIC, payload, LIMITS), Accepted)
    decoder = msgspec.json.Decoder(TelemetryBatch)
    figures: dict[str, float] = {"samples_per_message": args.samples}
    figures["baseline_decode_us"] = per_message_us(lambda: decoder.decode(variants["compact"]), args.messages,
                                                   args.repeat)  # fmt: skip
    for name, payload in variants.items():
        figures[f"parse_{name}_us"] = per_message_us(lambda p=payload: parse_message(TOPIC, p, LIMITS),  # type: ignore[misc]
                                                     args.messages, args.repeat)  # fmt: skip
    figures["compact_over_baseline"] = figures["parse_compact_us"] / figures["baseline_decode_us"]
    figures = {k: round(v, 2) for k, v in figures.items()}
    print(f"{'figure':32} {'value':>10}\n{'-' * 43}")
    for name, value in figures.items():
        print(f"{name:32} {value:>10}")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
