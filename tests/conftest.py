"""Fixtures shared by every kind of test."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path

import pytest

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
