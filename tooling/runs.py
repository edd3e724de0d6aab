"""Reading Texter's Scenario Run objects defensively (docs/texter-api.md §6).

Texter documents `success`, `started` (epoch ms), `conditionsResult` and `steps[]` with
`type`, `name`, `error` and, for actions, `output` only "when recorded". So nothing here
depends on `output`: a run is a failed delivery when `success` is false or a step recorded
an error; the HTTP status is shown when Texter recorded it, else the step's error text.
A run whose conditions filtered the event out (`conditionsResult: false`) succeeded: the
subscription chose not to deliver. Every error text goes through `redact_urls`, since a
receiver URL in it may carry the receiver secret.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from texter_webhooks.texter.body import redact_urls

_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_MAX_ERROR = 160


@dataclass(frozen=True)
class FailedDelivery:
    run_id: str
    started: datetime.datetime | None  # None when Texter's run carries no readable time
    event: str
    status: str  # "HTTP 503", or the failing step and its (redacted) error


def parse_since(text: str, now: datetime.datetime) -> datetime.datetime:
    """`2h`, `30m`, `1d`, `45s`, `1w` before `now`, or an ISO 8601 time (UTC when naive)."""
    found = _DURATION.match(text)
    if found:
        seconds = int(found.group(1)) * _UNIT_SECONDS[found.group(2)]
        return now - datetime.timedelta(seconds=seconds)
    try:
        when = datetime.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"--since takes a duration (e.g. 30m, 2h, 1d) or an ISO 8601 time, got {text!r}"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=datetime.UTC)


def run_started(run: Mapping[str, Any]) -> datetime.datetime | None:
    """The run's start: epoch ms as documented; an ISO string is read too; else None."""
    value = run.get("started")
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.datetime.fromtimestamp(value / 1000, tz=datetime.UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        try:
            when = datetime.datetime.fromisoformat(value)
        except ValueError:
            return None
        return when if when.tzinfo else when.replace(tzinfo=datetime.UTC)
    return None


def walk_steps(steps: Any) -> Iterator[Mapping[str, Any]]:
    """Every step, the steps of loop iterations included, in order; non-objects skipped."""
    for step in steps if isinstance(steps, list) else []:
        if not isinstance(step, Mapping):
            continue
        yield step
        for iteration in step.get("iterations") or []:
            if isinstance(iteration, Mapping):
                yield from walk_steps(iteration.get("steps"))


def http_status(step: Mapping[str, Any]) -> int | None:
    """The HTTP status an action step recorded in `output`, when it recorded one."""
    output = step.get("output")
    status = output.get("status") if isinstance(output, Mapping) else None
    return status if isinstance(status, int) and not isinstance(status, bool) else None


def _refused(step: Mapping[str, Any]) -> bool:
    status = http_status(step)
    return step.get("type") == "action" and status is not None and not 200 <= status < 300


def is_failed(run: Mapping[str, Any]) -> bool:
    if run.get("success") is False:
        return True
    return any(step.get("error") or _refused(step) for step in walk_steps(run.get("steps")))


def failure_status(run: Mapping[str, Any]) -> str:
    """What went wrong, as far as the run tells: the HTTP status, else the error text."""
    steps = list(walk_steps(run.get("steps")))
    for step in steps:
        status = http_status(step)
        if _refused(step) or (step.get("error") and status is not None):
            return f"HTTP {status}"
        if step.get("error"):
            where = f"{step.get('type') or 'step'} {step.get('name') or ''}".strip()
            error = " ".join(redact_urls(str(step["error"])).split())
            if len(error) > _MAX_ERROR:
                error = error[: _MAX_ERROR - 3] + "..."
            return f"{where}: {error}"
    return "failed (Texter recorded no step error)"


def run_event(run: Mapping[str, Any]) -> str:
    """The trigger event that started the run (its `event` step), or `?`."""
    for step in walk_steps(run.get("steps")):
        if step.get("type") == "event" and step.get("name"):
            return str(step["name"])
    return "?"


def failed_deliveries(runs: Any, since: datetime.datetime) -> list[FailedDelivery]:
    """Failed runs started at or after `since`, newest first. A failed run without a
    readable time is kept: a lost event is never hidden for want of a timestamp."""
    found = []
    for run in runs if isinstance(runs, list) else []:
        if not isinstance(run, Mapping) or not is_failed(run):
            continue
        started = run_started(run)
        if started is not None and started < since:
            continue
        run_id = str(run.get("_id") or "?")
        found.append(FailedDelivery(run_id, started, run_event(run), failure_status(run)))
    oldest = datetime.datetime.min.replace(tzinfo=datetime.UTC)
    return sorted(found, key=lambda f: f.started or oldest, reverse=True)


def runs_since(runs: Any, since: datetime.datetime) -> list[Mapping[str, Any]]:
    """The runs started at or after `since` (and those without a readable time)."""
    kept = []
    for run in runs if isinstance(runs, list) else []:
        if isinstance(run, Mapping):
            started = run_started(run)
            if started is None or started >= since:
                kept.append(run)
    return kept
