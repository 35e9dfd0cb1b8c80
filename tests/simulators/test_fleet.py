"""The fleet: per-unit draws independent of the fleet size, wear clustered in defective batches."""

from __future__ import annotations

import numpy as np

from simulators.degradation import PROCESSES
from simulators.fleet import build_fleet
from tests.simulators.support import START


def test_unit_draws_do_not_depend_on_fleet_size() -> None:
    small = build_fleet(seed=9, units=5, start=START)
    large = build_fleet(seed=9, units=50, start=START)
    assert large.unit_ids[:5] == small.unit_ids
    assert large.components[:5] == small.components
    np.testing.assert_array_equal(large.onset[:, :5], small.onset)
    np.testing.assert_array_equal(large.keys[:5], small.keys)


def test_wear_clusters_in_defective_batches() -> None:
    fleet = build_fleet(seed=9, units=3000, start=START)
    horizon = START.timestamp() + 30 * 86_400.0
    for p, process in enumerate(PROCESSES):
        defective = np.array([parts[process.component_type].batch.defective for parts in fleet.components])
        worn = fleet.onset[p] <= horizon
        assert defective.any()
        assert worn[defective].mean() > 3 * worn[~defective].mean()
