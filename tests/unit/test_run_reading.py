"""Texter's Scenario Run objects read defensively: documented fields only, `output` optional."""

from __future__ import annotations

import datetime

import pytest

from tooling.runs import failed_deliveries, failure_status, is_failed, parse_since

NOW = datetime.datetime(2025, 1, 13, 12, 0, tzinfo=datetime.UTC)
EPOCH_MS = int(NOW.timestamp() * 1000)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2h", NOW - datetime.timedelta(hours=2)),
        ("30m", NOW - datetime.timedelta(minutes=30)),
        (" 1d ", NOW - datetime.timedelta(days=1)),
        ("2025-01-13T10:00:00Z", datetime.datetime(2025, 1, 13, 10, tzinfo=datetime.UTC)),
        ("2025-01-13T10:00:00", datetime.datetime(2025, 1, 13, 10, tzinfo=datetime.UTC)),
        (
            "2025-01-13T12:00:00+02:00",
            datetime.datetime(2025, 1, 13, 10, tzinfo=datetime.UTC),
        ),
    ],
)
def test_since_takes_a_duration_or_an_iso_time(text: str, expected: datetime.datetime) -> None:
    assert parse_since(text, NOW) == expected


@pytest.mark.parametrize("text", ["", "2 hours", "-1h", "yesterday", "2h30m"])
def test_since_refuses_anything_else(text: str) -> None:
    with pytest.raises(ValueError, match="--since takes"):
        parse_since(text, NOW)


def test_the_documented_example_run_is_no_failure() -> None:
    run = {
        "_id": "r1",
        "success": True,
        "started": EPOCH_MS,
        "conditionsResult": True,
        "steps": [
            {"type": "event", "name": "domain.message.created", "executionTime": 2},
            {"type": "condition", "name": "filtrex", "groupIndex": 0, "index": 0, "result": True},
            {"type": "loader", "name": "chat", "position": "afterConditions", "index": 0},
            {"type": "action", "name": "request", "index": 0, "executionTime": 260},
        ],
    }
    assert not is_failed(run)
    assert failed_deliveries([run], NOW - datetime.timedelta(hours=1)) == []


def test_a_failed_run_shows_the_recorded_status_else_the_error() -> None:
    with_status = {
        "success": False,
        "steps": [
            {"type": "event", "name": "e"},
            {"type": "action", "name": "request", "output": {"status": 502}, "error": "x"},
        ],
    }
    without_output = {
        "success": False,
        "steps": [
            {
                "type": "action",
                "name": "request",
                "error": "connect ECONNREFUSED https://hooks.example.com/hooks/s3cret-value",
            }
        ],
    }
    assert failure_status(with_status) == "HTTP 502"
    status = failure_status(without_output)
    assert status.startswith("action request: connect ECONNREFUSED https://hooks.example.com/")
    assert "s3cret-value" not in status


def test_a_failing_loader_or_a_step_inside_a_loop_is_a_failure() -> None:
    loader = {"steps": [{"type": "loader", "name": "chat", "error": "chat not found"}]}
    in_loop = {
        "success": True,  # as read: the error decides, whatever `success` says
        "steps": [
            {
                "type": "loop",
                "name": "loop",
                "iterations": [{"success": False, "steps": [{"type": "action", "error": "x"}]}],
            }
        ],
    }
    assert is_failed(loader)
    assert failure_status(loader) == "loader chat: chat not found"
    assert is_failed(in_loop)


def test_odd_runs_are_read_without_raising() -> None:
    runs = [
        "not a run",
        {"success": False},  # no steps, no time: kept, a lost event is never hidden
        {"success": False, "started": True, "steps": "nope"},
        {"success": False, "started": "2025-01-13T11:30:00Z", "steps": [None, 3]},
        {"success": False, "started": EPOCH_MS - 3 * 3600 * 1000},  # before --since
    ]
    found = failed_deliveries(runs, NOW - datetime.timedelta(hours=1))
    assert [(f.started is None, f.event) for f in found] == [(False, "?"), (True, "?"), (True, "?")]
    assert all(f.status == "failed (Texter recorded no step error)" for f in found)


def test_filtered_runs_are_not_failures() -> None:
    run = {"success": True, "conditionsResult": False, "steps": [{"type": "condition"}]}
    assert not is_failed(run)
