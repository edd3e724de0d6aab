"""Thread-safe scenario and run storage, persisted after every change when a file is given."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from typing import Any

from simulator.errors import ApiError
from simulator.persistence import StateFile
from simulator.revisions import Scenario

Run = dict[str, Any]


class ScenarioStore:
    """Scenarios in creation order plus their runs.

    Every method takes the lock for its whole read-modify-persist step and hands out deep
    copies, so concurrent requests never see or leak a half-applied change.
    """

    def __init__(self, state_file: StateFile | None = None) -> None:
        self._lock = threading.RLock()
        self._file = state_file
        self._scenarios: dict[str, Scenario] = {}
        self._runs: dict[str, list[Run]] = {}
        saved = state_file.load() if state_file is not None else None
        if saved is not None:
            self._scenarios = {s["_id"]: s for s in saved.get("scenarios", [])}
            self._runs = {k: list(v) for k, v in saved.get("runs", {}).items()}

    def _persist(self) -> None:
        if self._file is not None:
            self._file.save(self._snapshot())

    def _snapshot(self) -> dict[str, Any]:
        return {"scenarios": list(self._scenarios.values()), "runs": self._runs}

    def scenarios(self, *, include_system: bool) -> list[Scenario]:
        with self._lock:
            return [
                copy.deepcopy(s)
                for s in self._scenarios.values()
                if include_system or "system" not in s
            ]

    def get(self, scenario_id: str) -> Scenario | None:
        with self._lock:
            found = self._scenarios.get(scenario_id)
            return copy.deepcopy(found) if found is not None else None

    def require(self, scenario_id: str) -> Scenario:
        found = self.get(scenario_id)
        if found is None:
            raise not_found(scenario_id)
        return found

    def add(self, scenario: Scenario) -> Scenario:
        with self._lock:
            if scenario["_id"] in self._scenarios:
                raise ApiError(409, f"scenario {scenario['_id']} already exists")
            self._scenarios[scenario["_id"]] = copy.deepcopy(scenario)
            self._persist()
            return copy.deepcopy(scenario)

    def update(self, scenario_id: str, change: Callable[[Scenario], Scenario]) -> Scenario:
        """Apply ``change`` to the stored scenario; an ApiError from it leaves state untouched."""
        with self._lock:
            current = self._scenarios.get(scenario_id)
            if current is None:
                raise not_found(scenario_id)
            updated = change(copy.deepcopy(current))
            if updated != current:
                self._scenarios[scenario_id] = updated
                self._persist()
            return copy.deepcopy(updated)

    def delete(self, scenario_id: str) -> None:
        with self._lock:
            if self._scenarios.pop(scenario_id, None) is None:
                raise not_found(scenario_id)
            self._runs.pop(scenario_id, None)
            self._persist()

    def add_run(self, run: Run) -> bool:
        """Record a run; False when its scenario was deleted while the event was in flight."""
        with self._lock:
            if run["scenarioId"] not in self._scenarios:
                return False
            self._runs.setdefault(run["scenarioId"], []).append(copy.deepcopy(run))
            self._persist()
            return True

    def runs(self, scenario_id: str) -> list[Run]:
        """Runs of one scenario, newest first."""
        with self._lock:
            if scenario_id not in self._scenarios:
                raise not_found(scenario_id)
            return copy.deepcopy(list(reversed(self._runs.get(scenario_id, []))))

    def dump(self) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._snapshot())

    def reset(self) -> None:
        with self._lock:
            self._scenarios.clear()
            self._runs.clear()
            self._persist()

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


def not_found(scenario_id: str) -> ApiError:
    return ApiError(404, f"scenario {scenario_id} not found")
