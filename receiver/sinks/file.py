"""An append-only JSON Lines file, fsynced before any delivery in it is acknowledged.

Group commit: requests that arrive while a write+fsync is under way queue up, and the next
write+fsync takes all of them at once, so throughput grows with concurrency instead of being
capped at one request per fsync.

After a failed append the sink is failing: /healthz reports it, so the platform replaces an
instance whose disk has gone bad. It repairs itself before its next append, and when a health
probe asks: it reopens the file, cuts it back to the last acknowledged record and fsyncs it. A
repair that works makes the sink well again (and /healthz 200); one that does not leaves it
failing, and every delivery meanwhile gets a 503.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from receiver.delivery import Delivery
from receiver.sinks.base import SinkUnavailable

logger = logging.getLogger(__name__)

_TAIL_SCAN_BYTES = 64 * 1024


class FileSink:
    def __init__(
        self,
        path: Path,
        *,
        sync: Callable[[int], None] = os.fsync,
        truncate: Callable[[int, int], None] = os.ftruncate,
    ) -> None:
        self._path = path
        self._sync = sync
        self._truncate = truncate
        self._fd = _open_for_append(path)
        # Where the file ends after the last acknowledged batch: a failed batch is cut back to it.
        # Owned by the sink's thread, like _fd and _needs_repair.
        self._size = os.fstat(self._fd).st_size
        # Set by a failed append: the file may hold part of that batch, or its descriptor may
        # have lost writes (an fsync error is reported once), so nothing is appended to it
        # before a repair.
        self._needs_repair = False
        # Why the last append or repair failed; None while well. Owned by the event loop.
        self._failure: str | None = None
        self._pending: list[tuple[bytes, asyncio.Future[None]]] = []
        self._committer: asyncio.Task[None] | None = None
        # One thread: batches are written in order, repairs never overlap an append, and
        # fsync never blocks the event loop.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="file-sink")

    async def start(self) -> None:
        pass

    async def store(self, delivery: Delivery) -> None:
        committed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((delivery.record_json() + b"\n", committed))
        if self._committer is None:
            self._committer = asyncio.create_task(self._commit_pending())
        await committed

    async def check(self) -> str | None:
        failure = self._failure
        if failure is None:
            return None
        try:
            await asyncio.get_running_loop().run_in_executor(self._executor, self._repair)
        except OSError as error:
            self._failure = f"cannot repair {self._path}: {error}"
            logger.error("file sink: %s", self._failure)
            return self._failure
        logger.warning("file sink: repaired %s after: %s", self._path, failure)
        self._failure = None
        return None

    async def close(self) -> None:
        if self._committer is not None:
            await self._committer
        self._executor.shutdown(wait=True)
        os.close(self._fd)

    async def _commit_pending(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                data = b"".join(line for line, _ in batch)
                try:
                    await loop.run_in_executor(self._executor, self._append, data)
                except OSError as error:
                    self._failure = f"cannot append to {self._path}: {error}"
                    logger.error("file sink: %s", self._failure)
                    for _, committed in batch:
                        if not committed.done():
                            committed.set_exception(SinkUnavailable(self._failure))
                else:
                    self._failure = None
                    for _, committed in batch:
                        if not committed.done():
                            committed.set_result(None)
        finally:
            self._committer = None

    def _append(self, data: bytes) -> None:
        """Runs on the sink's thread."""
        if self._needs_repair:
            self._repair()
        try:
            _write_all(self._fd, data)
            self._sync(self._fd)
        except OSError:
            self._needs_repair = True
            # Best effort now; the repair before the next append makes sure.
            try:
                self._truncate(self._fd, self._size)
            except OSError as error:
                logger.error("file sink: cannot cut off a failed append: %s", error)
            raise
        self._size += len(data)

    def _repair(self) -> None:
        """Runs on the sink's thread: a fresh descriptor on a file ending at a record boundary."""
        if not self._needs_repair:
            return
        fd = _open_for_append(self._path)
        try:
            size = os.fstat(fd).st_size
            if size > self._size:
                # What a failed append left behind; it was never acknowledged.
                self._truncate(fd, self._size)
            elif size < self._size:
                # Someone else cut or replaced the file; carry on from what is there.
                logger.warning(
                    "file sink: %s shrank from %d to %d bytes", self._path, self._size, size
                )
                self._size = size
            self._sync(fd)
        except BaseException:
            os.close(fd)
            raise
        old, self._fd = self._fd, fd
        self._needs_repair = False
        try:
            os.close(old)
        except OSError as error:
            logger.warning("file sink: closing the old descriptor failed: %s", error)


@dataclass(frozen=True)
class StoredDelivery:
    """One record of a file sink's file."""

    received_at: str
    delivery_key: str
    event_name: str
    # The delivery's body, byte for byte as received.
    body: bytes

    def envelope(self) -> Any:
        """The body parsed by the json module (numbers beyond a double become floats)."""
        return json.loads(self.body)


def read_events(path: Path | str) -> list[StoredDelivery]:
    """Every record in a file sink's file, oldest first.

    A last line without its newline is a write the receiver was killed in the middle of; it
    was never acknowledged, so it is left out.
    """
    data = Path(path).read_bytes()
    complete, newline, _torn = data.rpartition(b"\n")
    if not newline:
        return []
    records = []
    for line in complete.split(b"\n"):
        record = json.loads(line)
        records.append(
            StoredDelivery(
                received_at=record["receivedAt"],
                delivery_key=record["deliveryKey"],
                event_name=record["eventName"],
                body=record["body"].encode(),
            )
        )
    return records


def _open_for_append(path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    created = not path.exists()
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        _drop_torn_tail(fd)
        if created:
            # Without this a crash could lose the file's directory entry, and every record in it.
            _sync_directory(path.parent)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _drop_torn_tail(fd: int) -> None:
    """Cuts off a partial last line left by a kill, so the next append starts a fresh line."""
    size = os.fstat(fd).st_size
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return
    keep = 0
    end = size
    while end > 0:
        start = max(0, end - _TAIL_SCAN_BYTES)
        newline = os.pread(fd, end - start, start).rfind(b"\n")
        if newline >= 0:
            keep = start + newline + 1
            break
        end = start
    os.ftruncate(fd, keep)
    os.fsync(fd)
    logger.warning("file sink: dropped a partly written last line (%d bytes)", size - keep)


def _sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
