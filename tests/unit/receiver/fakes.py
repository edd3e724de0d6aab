"""Test doubles for the receiver's boundaries: sinks, the Pub/Sub publisher, an ASGI client."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import threading
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from receiver.asgi import ASGIApp, Message
from receiver.delivery import Delivery
from receiver.sinks.base import SinkUnavailable

T = TypeVar("T")


class RecordingSink:
    """Stores in memory; `fail_next` makes that many hand-offs fail first; `failure` is what
    check() reports."""

    def __init__(self, fail_next: int = 0) -> None:
        self.stored: list[Delivery] = []
        self.attempts = 0
        self.fail_next = fail_next
        self.failure: str | None = None
        self.started = False
        self.closed = False
        # Cleared by a test to hold hand-offs in flight.
        self.gate = asyncio.Event()
        self.gate.set()

    async def start(self) -> None:
        self.started = True

    async def store(self, delivery: Delivery) -> None:
        self.attempts += 1
        await self.gate.wait()
        if self.fail_next > 0:
            self.fail_next -= 1
            raise SinkUnavailable("injected failure")
        self.stored.append(delivery)

    async def check(self) -> str | None:
        return self.failure

    async def close(self) -> None:
        self.closed = True


class LogLines:
    """Where a RequestLog writes in tests: every line, parsed."""

    def __init__(self) -> None:
        self.written: list[bytes] = []

    def __call__(self, data: bytes) -> None:
        self.written.append(data)

    def entries(self) -> list[dict[str, Any]]:
        return [json.loads(line) for chunk in self.written for line in chunk.splitlines()]


class FakePublisher:
    """google.cloud.pubsub_v1.PublisherClient's publish(), with futures the test resolves."""

    def __init__(self) -> None:
        self.published: list[tuple[str, bytes, dict[str, str]]] = []
        self.futures: list[concurrent.futures.Future[str]] = []

    def publish(self, topic: str, data: bytes, /, **attrs: str) -> concurrent.futures.Future[str]:
        self.published.append((topic, data, attrs))
        future: concurrent.futures.Future[str] = concurrent.futures.Future()
        self.futures.append(future)
        return future


@dataclass
class Response:
    status: int
    headers: dict[bytes, bytes]
    body: bytes


@dataclass
class RawRequest:
    """A request exactly as a server would pass it: any path, body in any chunks."""

    method: str = "POST"
    path: str = "/"
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    chunks: Iterable[bytes] = (b"",)
    # Set to make the client go away after the chunks instead of finishing the body.
    disconnect: bool = False
    # The Host header sent before `headers` (every HTTP/1.1 request has one); None for none.
    host: bytes | None = b"receiver"


async def call_asgi(
    app: ASGIApp, request: RawRequest, http_version: str = "1.1"
) -> tuple[Response | None, int]:
    """Drives one request through `app`; returns its response and how many chunks it read."""
    pending: list[Message] = [
        {"type": "http.request", "body": chunk, "more_body": True} for chunk in request.chunks
    ]
    if request.disconnect:
        pending.append({"type": "http.disconnect"})
    elif pending:
        pending[-1]["more_body"] = False
    else:
        pending.append({"type": "http.request", "body": b"", "more_body": False})
    received = 0
    start: Message | None = None
    body = b""

    async def receive() -> Message:
        nonlocal received
        received += 1
        if not pending:
            # What a server does once the request is over: the client is gone.
            return {"type": "http.disconnect"}
        return pending.pop(0)

    async def send(message: Message) -> None:
        nonlocal start, body
        if message["type"] == "http.response.start":
            start = message
        else:
            body += message.get("body", b"")

    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": http_version,
        "method": request.method,
        "scheme": "http",
        "path": request.path,
        "raw_path": request.path.encode("utf-8", "surrogatepass"),
        "query_string": b"",
        "headers": ([(b"host", request.host)] if request.host is not None else [])
        + request.headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8080),
    }
    await app(scope, receive, send)
    if start is None:
        return None, received
    return Response(start["status"], dict(start["headers"]), body), received


class ManualClockLoop(asyncio.SelectorEventLoop):
    """An event loop whose clock (`time()`, which every timer is scheduled by) stands still
    until the test sets `now`: what a test checks of a timer cannot depend on how fast the
    machine is. Callbacks, I/O and threads handing results back run as on any loop."""

    def __init__(self, now: float = 1000.0) -> None:
        super().__init__()
        self.now = now

    def time(self) -> float:
        return self.now

    def run(self, main: Coroutine[Any, Any, T]) -> T:
        """Runs `main` to completion, then closes the loop."""
        try:
            return self.run_until_complete(main)
        finally:
            self.run_until_complete(self.shutdown_default_executor())
            self.close()


async def finished(task: asyncio.Future[Any], within: float = 5.0) -> bool:
    """Whether `task` finishes within `within` seconds of real time (not the loop's clock,
    which a ManualClockLoop holds still)."""
    done = threading.Event()
    task.add_done_callback(lambda _: done.set())
    return await asyncio.to_thread(done.wait, within)


async def until(condition: Callable[[], bool], *, turns: int = 1000) -> None:
    """Lets ready tasks run, one loop turn at a time, until `condition` holds: for what the
    loop itself brings about (no time passes; a thread's result may take a few turns)."""
    for _ in range(turns):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("the condition never held")


async def turns(count: int = 20) -> None:
    """Lets the loop run `count` turns: more than any callback chain the test waits out."""
    for _ in range(count):
        await asyncio.sleep(0)
