"""FaultPlan: the Python API (`SimulatorServer.add_fault`) refuses what it cannot inject."""

from __future__ import annotations

import pytest

from simulator.faults import FaultPlan


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nope", "500"), "unknown route"),
        (("list", "418"), "unknown fault"),
        (("list", "500", 0), "count must be >= 1"),
    ],
)
def test_invalid_faults_are_rejected(args, message):
    plan = FaultPlan()

    with pytest.raises(ValueError, match=message):
        plan.add(*args)

    assert plan.pending() == []
