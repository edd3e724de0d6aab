"""Fixtures for the receiver's unit tests: an app on an in-memory sink, and a client for it."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from receiver.app import ReceiverApp
from receiver.auth import SecretMatcher
from receiver.dedup import Deduplicator
from receiver.request_log import RequestLog
from tests.unit.receiver.fakes import LogLines, RecordingSink

SECRET = "unit-test-secret-0123456789"
OLD_SECRET = "rotated-out-secret-abcdefgh"
MAX_BODY_BYTES = 4096
BODY_TIMEOUT_SECONDS = 2.0


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def sink() -> RecordingSink:
    return RecordingSink()


@pytest.fixture
def log_lines() -> LogLines:
    return LogLines()


@pytest.fixture
def request_log(log_lines: LogLines) -> RequestLog:
    return RequestLog(logging.DEBUG, write=log_lines)


@pytest.fixture
def app(sink: RecordingSink, request_log: RequestLog) -> ReceiverApp:
    return ReceiverApp(
        matcher=SecretMatcher([SECRET.encode(), OLD_SECRET.encode()]),
        sink=sink,
        dedup=Deduplicator(600),
        max_body_bytes=MAX_BODY_BYTES,
        request_log=request_log,
        body_timeout_seconds=BODY_TIMEOUT_SECONDS,
    )


@asynccontextmanager
async def serving(app: ReceiverApp) -> AsyncIterator[httpx.AsyncClient]:
    """A client of `app`, started and then shut down as the server does."""
    await app.startup()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://receiver") as client:
        yield client
    await app.shutdown()


@pytest.fixture
async def client(app: ReceiverApp) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(app) as client:
        yield client
