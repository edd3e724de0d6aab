"""A client that gives up mid-request is logged in one line, not as a server traceback."""

from __future__ import annotations

import time

import pytest
import requests

from simulator.config import SimulatorConfig
from simulator.scopes import ALL_SCOPES
from simulator.server import SimulatorServer


def test_a_client_timeout_is_one_log_line(capfd: pytest.CaptureFixture[str]) -> None:
    config = SimulatorConfig(tokens={"t": ALL_SCOPES}, log_requests=True)
    stderr = ""
    with SimulatorServer(config) as sim:
        sim.add_fault("list", "delay", count=1, delay_ms=600)
        with pytest.raises(requests.Timeout):
            requests.get(
                f"{sim.base_url}/scenarios/manage", headers=sim.auth_headers(), timeout=0.1
            )
        deadline = time.monotonic() + 5  # the delayed answer hits the closed connection
        while "went away" not in stderr and time.monotonic() < deadline:
            time.sleep(0.1)
            stderr += capfd.readouterr().err
    assert "went away" in stderr
    assert "Traceback" not in stderr
