"""An append-only JSON Lines file, fsynced before any delivery in it is acknowledged.

Group commit: requests that arrive while a write+fsync is under way queue up, and the next
write+fsync takes all of them at once, so throughput grows with concurrency instead of being
capped at one request per fsync.
"""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from receiver.delivery import Delivery
from receiver.sinks.base import SinkUnavailable

logger = logging.getLogger(__name__)

_TAIL_SCAN_BYTES = 64 * 1024


class FileSink:
    def __init__(self, path: Path, *, sync: Callable[[int], None] = os.fsync) -> None:
        self._path = path
        self._sync = sync
        self._fd = _open_for_append(path)
        # Where the file ends after the last acknowledged batch: a failed batch is cut back to it.
        self._size = os.fstat(self._fd).st_size
        # Set when a failed batch could not be cut off: appending after it would corrupt lines.
        self._broken = False
        self._pending: list[tuple[bytes, asyncio.Future[None]]] = []
        self._committer: asyncio.Task[None] | None = None
        # One thread: batches are written in order, and fsync never blocks the event loop.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="file-sink")

    async def start(self) -> None:
        pass

    async def store(self, delivery: Delivery) -> None:
        if self._broken:
            raise SinkUnavailable(f"{self._path} is unusable after a failed append")
        committed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((delivery.record_json() + b"\n", committed))
        if self._committer is None:
            self._committer = asyncio.create_task(self._commit_pending())
        await committed

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
                    logger.error("file sink append failed: %s", error)
                    for _, committed in batch:
                        if not committed.done():
                            committed.set_exception(
                                SinkUnavailable(f"cannot append to {self._path}: {error}")
                            )
                else:
                    for _, committed in batch:
                        if not committed.done():
                            committed.set_result(None)
        finally:
            self._committer = None

    def _append(self, data: bytes) -> None:
        """Runs on the sink's thread."""
        if self._broken:
            raise OSError(errno.EIO, "an earlier failed append could not be cut off")
        try:
            _write_all(self._fd, data)
            self._sync(self._fd)
        except OSError:
            try:
                os.ftruncate(self._fd, self._size)
            except OSError:
                self._broken = True
            raise
        self._size += len(data)


def read_events(path: Path | str) -> list[dict[str, Any]]:
    """Every record in a file sink's file, oldest first.

    A last line without its newline is a write the receiver was killed in the middle of; it
    was never acknowledged, so it is left out.
    """
    data = Path(path).read_bytes()
    complete, newline, _torn = data.rpartition(b"\n")
    if not newline:
        return []
    return [json.loads(line) for line in complete.split(b"\n")]


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
