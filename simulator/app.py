"""The parts of one running simulator wired together, independent of any socket."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping

from simulator.api import ScenarioApi
from simulator.config import SimulatorConfig
from simulator.faults import FaultPlan
from simulator.firing import EventFirer
from simulator.persistence import StateFile
from simulator.request_log import RequestLog
from simulator.routes import Route, build_routes
from simulator.store import ScenarioStore

Sleep = Callable[[float], None]


class Simulator:
    """State (scenarios, runs), test controls (faults, latency, request log) and the API."""

    def __init__(
        self,
        config: SimulatorConfig,
        tokens: Mapping[str, frozenset[str]],
        sleep: Sleep,
    ) -> None:
        self.config = config
        self.sleep = sleep
        self.routes: tuple[Route, ...] = build_routes(config.route_paths)
        state_file = StateFile(config.state_path) if config.state_path is not None else None
        self.store = ScenarioStore(state_file)
        self.faults = FaultPlan()
        self.requests = RequestLog()
        self.api = ScenarioApi(self.store, config, tokens)
        self.firer = EventFirer(
            self.store, config.fire_timeout_s, record_output=config.record_action_output
        )
        self._latency_lock = threading.Lock()
        self._latency_ms = config.latency_ms

    @property
    def latency_ms(self) -> int:
        with self._latency_lock:
            return self._latency_ms

    def set_latency(self, ms: int) -> None:
        if ms < 0:
            raise ValueError("latency must be >= 0")
        with self._latency_lock:
            self._latency_ms = ms

    def apply_latency(self) -> None:
        ms = self.latency_ms
        if ms:
            self.sleep(ms / 1000)

    def reset(self) -> None:
        """Back to a fresh start: no scenarios or runs, no faults, empty log, configured latency."""
        self.store.reset()
        self.faults.clear()
        self.requests.clear()
        self.set_latency(self.config.latency_ms)

    def close(self) -> None:
        self.store.close()
