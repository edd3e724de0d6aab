"""Fixtures shared by every kind of test."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from pulumi.dynamic import Config, ConfigureRequest, ResourceProvider

from simulator.config import SimulatorConfig
from simulator.scopes import ALL_SCOPES
from simulator.server import SimulatorServer
from tooling.engine import Engine, engine_bin_dir
from tooling.sandbox import throwaway_engine


@pytest.fixture(scope="session")
def engine_bin() -> Path:
    """The bootstrapped engine; a missing engine fails the test rather than skipping it."""
    return engine_bin_dir()


ProjectFactory = Callable[[str], Engine]


@pytest.fixture
def make_project(tmp_path: Path, engine_bin: Path) -> ProjectFactory:
    """A throwaway project directory on its own file backend, PULUMI_HOME and passphrase."""

    def make(project_name: str) -> Engine:
        return throwaway_engine(tmp_path, project_name)

    return make


TEXTER_TOKEN = "tt_" + "a1b2c3d4e5f6a7b8c9d0"  # a test-only token for the simulator

Provider = TypeVar("Provider", bound=ResourceProvider)


def configured_for(sim: SimulatorServer, provider: Provider, **config: str) -> Provider:
    """`provider` configured as a stack configures the provider process: the simulator's
    `texter:baseUrl` and `texter:token`, and any other `texter:*` setting in `config`."""
    raw = {"texter:baseUrl": sim.base_url, "texter:token": TEXTER_TOKEN, **config}
    provider.configure(ConfigureRequest(Config(raw, "texter-webhooks")))
    return provider


@pytest.fixture
def texter_sim() -> Iterator[SimulatorServer]:
    """The Texter simulator on a free loopback port, stopped after the test."""
    config = SimulatorConfig(tokens={TEXTER_TOKEN: ALL_SCOPES}, log_requests=False)
    with SimulatorServer(config) as sim:
        yield sim


@pytest.fixture
def refused_port() -> Iterator[int]:
    """A loopback port that refuses every connection for the whole test: bound and never
    listened on, so no other process can take it in between (as one released would be)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        held.bind(("127.0.0.1", 0))
        port: int = held.getsockname()[1]
        yield port
