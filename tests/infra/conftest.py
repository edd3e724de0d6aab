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
