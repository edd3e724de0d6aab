"""A sink that cannot write fails /healthz, so the platform replaces the instance; one that
recovers serves again. Through the app, on the real file sink with a failing disk."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from receiver.app import ReceiverApp
from receiver.auth import SecretMatcher
from receiver.dedup import Deduplicator
from receiver.request_log import RequestLog
from receiver.sinks.file import FileSink, read_events
from tests.unit.receiver.conftest import SECRET
from tests.unit.receiver.fakes import LogLines
from tests.unit.receiver.test_file_sink import Syncs, Truncates

pytestmark = pytest.mark.anyio

HOOK = f"/hooks/{SECRET}"


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "events.jsonl"


@pytest.fixture
def disk(path: Path) -> tuple[Syncs, Truncates]:
    return Syncs(path), Truncates()


@pytest.fixture
async def client(path: Path, disk: tuple[Syncs, Truncates]) -> AsyncIterator[httpx.AsyncClient]:
    syncs, truncates = disk
    app = ReceiverApp(
        matcher=SecretMatcher([SECRET.encode()]),
        sink=FileSink(path, sync=syncs, truncate=truncates),
        dedup=Deduplicator(600),
        max_body_bytes=4096,
        request_log=RequestLog(write=LogLines()),
    )
    await app.startup()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://receiver") as client:
        yield client
    await app.shutdown()


async def post(client: httpx.AsyncClient, n: int) -> int:
    body = json.dumps({"eventName": "chatAssigned", "eventData": {"n": n}})
    response = await client.post(HOOK, content=body, headers={"content-type": "application/json"})
    return response.status_code


async def test_an_fsync_error_fails_healthz_until_the_disk_recovers(
    client: httpx.AsyncClient, disk: tuple[Syncs, Truncates], path: Path
) -> None:
    syncs, truncates = disk
    assert await post(client, 1) == 200
    syncs.fail = truncates.fail = True

    assert await post(client, 2) == 503
    # The platform's liveness probe sees the instance cannot store: it will replace it.
    assert (await client.get("/healthz")).status_code == 503
    assert (await client.get("/healthz")).status_code == 503
    assert await post(client, 3) == 503

    syncs.fail = truncates.fail = False
    assert (await client.get("/healthz")).status_code == 200
    assert await post(client, 4) == 200
    assert [e.envelope()["eventData"]["n"] for e in read_events(path)] == [1, 4]


async def test_a_sink_that_recovers_by_itself_serves_again(
    client: httpx.AsyncClient, disk: tuple[Syncs, Truncates]
) -> None:
    syncs, _ = disk
    syncs.fail = True
    assert await post(client, 1) == 503

    syncs.fail = False

    # Texter's retry, before any probe: the store repairs the file first.
    assert await post(client, 1) == 200
    assert (await client.get("/healthz")).status_code == 200
