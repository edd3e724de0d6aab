"""The mocked engine every infra test runs its program against."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.infra.harness import Cloud, start_cloud, stop_cloud


@pytest.fixture
def cloud() -> Iterator[Cloud]:
    cloud = start_cloud()
    yield cloud
    stop_cloud()


@pytest.fixture
def first_preview() -> Iterator[Cloud]:
    """The engine of a fresh stack's first `pulumi preview`: nothing exists yet."""
    cloud = start_cloud(first_preview=True)
    yield cloud
    stop_cloud()
