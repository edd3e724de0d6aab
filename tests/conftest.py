"""Fixtures shared by every kind of test."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from simulator.config import SimulatorConfig
from simulator.scopes import ALL_SCOPES
from simulator.server import SimulatorServer
from tooling.engine import Engine, engine_bin_dir


@pytest.fixture(scope="session")
def engine_bin() -> Path:
    """The bootstrapped engine; a missing engine fails the test rather than skipping it."""
    return engine_bin_dir()


ProjectFactory = Callable[[str], Engine]


@pytest.fixture
def make_project(tmp_path: Path, engine_bin: Path) -> ProjectFactory:
    """A throwaway project directory on its own file backend, PULUMI_HOME and passphrase."""

    def make(project_name: str) -> Engine:
        work_dir = tmp_path / "project"
        work_dir.mkdir()
        (work_dir / "Pulumi.yaml").write_text(f"name: {project_name}\nruntime: python\n")
        backend = tmp_path / "backend"
        backend.mkdir()
        passphrase = tmp_path / "passphrase"
        passphrase.write_text(secrets.token_urlsafe(24))
        return Engine(
            work_dir=work_dir,
            backend_url=backend.as_uri(),
            home=tmp_path / "pulumi-home",
            passphrase_file=passphrase,
        )

    return make


TEXTER_TOKEN = "tt_" + "a1b2c3d4e5f6a7b8c9d0"  # a test-only token for the simulator


@pytest.fixture
def texter_sim() -> Iterator[SimulatorServer]:
    """The Texter simulator on a free loopback port, stopped after the test."""
    config = SimulatorConfig(tokens={TEXTER_TOKEN: ALL_SCOPES}, log_requests=False)
    with SimulatorServer(config) as sim:
        yield sim
