"""FaultPlan bookkeeping."""

from __future__ import annotations

import pytest

from simulator.faults import FaultPlan, status_response


def test_faults_are_consumed_one_request_at_a_time():
    plan = FaultPlan()
    plan.add("list", "500", count=2)

    taken = [plan.take("list"), plan.take("list"), plan.take("list")]

    assert [f.fault if f else None for f in taken] == ["500", "500", None]


def test_a_fault_for_another_route_is_not_taken():
    plan = FaultPlan()
    plan.add("delete", "reset")

    assert plan.take("list") is None
    assert len(plan.pending()) == 1


def test_the_first_matching_fault_wins():
    plan = FaultPlan()
    plan.add("*", "503")
    plan.add("list", "500")

    assert plan.take("list").fault == "503"  # type: ignore[union-attr]
    assert plan.take("list").fault == "500"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        (("nope", "500"), {}),
        (("list", "418"), {}),
        (("list", "500", 0), {}),
        (("list", "delay"), {"delay_ms": -1}),
    ],
)
def test_invalid_faults_are_rejected(args, kwargs):
    with pytest.raises(ValueError):  # noqa: PT011 - the message varies by cause
        FaultPlan().add(*args, **kwargs)


def test_only_429_sets_retry_after():
    plan = FaultPlan()
    too_many = status_response(plan.add("list", "429", retry_after=3))
    failing = status_response(plan.add("list", "500"))

    assert too_many.headers == {"Retry-After": "3"}
    assert failing.headers == {}
    assert failing.body["error"]["status"] == 500
