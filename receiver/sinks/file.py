"""An append-only JSON Lines file, fsynced before any delivery in it is acknowledged.

Group commit: requests that arrive while a write+fsync is under way queue up, and the next
write+fsync takes all of them at once, so throughput grows with concurrency instead of being
capped at one request per fsync. A batch is also given a moment to grow before it is handed
to the thread, as databases do with their commit delay:
- it waits while a loop turn still adds to it (for at most a few turns): the requests the
  server has already read join it rather than wait for the next fsync;
- and it is handed over no sooner than half a millisecond after the batch before it, so under
  load each fsync (the costliest step, CPU spent in the kernel) is shared by more deliveries.
  A delivery that comes alone waits two loop turns: the last batch is long gone.
Measured by bench.receiver, the two made batches larger and the file sink faster; the figures
are in bench/README.md.

After a failed append the sink is failing: /healthz reports it, so the platform replaces an
instance whose disk has gone bad. It repairs itself before its next append, and when a health
probe asks: it reopens the file, cuts it back to the last acknowledged record and fsyncs it. A
repair that works makes the sink well again (and /healthz 200); one that does not leaves it
failing, and every delivery meanwhile gets a 503.

Deadlines: a delivery is answered within its own hold (RECEIVER_HOLD_SECONDS), as with
Pub/Sub, even when a write or fsync hangs. One timer for the whole sink (not one per request:
it fires about once a hold under load, and finds nothing late) answers 503 to every delivery
whose hold has passed, never 200 for a record not fsync'd:
- one still waiting for its batch is taken out of it, and never written;
- one whose batch is being written stays in that write (the thread cannot be interrupted,
  and the record is whole or cut back either way): should the write complete, its record is
  in the file although it was answered 503. A retry stores it again under the same
  deliveryKey, which consumers drop repeats by, as with a publish confirmed after its 503.
While a write has been under way for longer than the hold, /healthz answers 503 at once
(the disk hangs: the platform replaces the instance); it is 200 again once the write
completes. A repair a probe asks for is waited on for a hold at most.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from queue import SimpleQueue
from typing import Any

from receiver.delivery import Delivery, record_lines
from receiver.logs import write_all
from receiver.settings import DEFAULT_HOLD_SECONDS
from receiver.sinks.base import SinkUnavailable, UnstorableDelivery

logger = logging.getLogger(__name__)

_TAIL_SCAN_BYTES = 64 * 1024
# How many event-loop turns a batch may keep growing before it is handed over: the count that
# gathered the most per fsync in bench.receiver (bench/README.md); more only add latency.
_GATHER_TURNS = 4
# The least time between two batches handed to the thread: bench.receiver measured a range of
# intervals alike, each better than none (bench/README.md); more would only add latency.
BATCH_INTERVAL_SECONDS = 0.0005
# Deliveries whose hold ends within this of the one that fired the deadline timer are answered
# with it (a little early, never late), so a stall costs at most one timer per this long.
_DEADLINE_SLACK_SECONDS = 0.01

# A delivery waiting to be written: its future, and the loop time its hold ends.
_Entry = tuple[Delivery, asyncio.Future[None], float]


class FileSink:
    def __init__(
        self,
        path: Path,
        *,
        sync: Callable[[int], None] = os.fsync,
        truncate: Callable[[int, int], None] = os.ftruncate,
        batch_interval: float = BATCH_INTERVAL_SECONDS,
        hold_seconds: float = DEFAULT_HOLD_SECONDS,
    ) -> None:
        self._path = path
        self._hold = hold_seconds
        self._batch_interval = batch_interval
        # Loop time the last batch was handed to the thread.
        self._handed_over_at = float("-inf")
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
        # Deliveries waiting for the next batch, and the batch being written (None if none is).
        # Both in arrival order, so in order of their deadlines; every delivery in the batch
        # being written came before every pending one.
        self._pending: list[_Entry] = []
        self._committing: list[_Entry] | None = None
        # The timer that answers deliveries past their hold; None while none is armed.
        self._deadlines: asyncio.TimerHandle | None = None
        # Set while no batch is gathering or being written (close waits for it). Cleared by
        # the first pending delivery; while it is clear, the next batch gathers after the one
        # under way.
        self._idle = asyncio.Event()
        self._idle.set()
        # The server's loop, kept: asyncio.get_running_loop() costs a getpid(2) per call.
        self._loop: asyncio.AbstractEventLoop | None = None
        # One thread: batches are written in order, repairs never overlap an append, and
        # fsync never blocks the event loop.
        self._worker = _Worker("file-sink")

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()

    async def store(self, delivery: Delivery) -> None:
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.get_running_loop()
        committed: asyncio.Future[None] = loop.create_future()
        deadline = loop.time() + self._hold
        self._pending.append((delivery, committed, deadline))
        if self._idle.is_set():
            self._idle.clear()
            loop.call_soon(self._gather, loop, 0, 0)
        if self._deadlines is None:
            self._deadlines = loop.call_at(deadline, self._answer_late, loop)
        await committed

    async def check(self) -> str | None:
        loop = asyncio.get_running_loop()
        if self._committing is not None and loop.time() - self._handed_over_at >= self._hold:
            # Answered at once: a repair would only queue behind the write that hangs.
            return f"a write to {self._path} has not completed in {self._hold:g} s"
        failure = self._failure
        if failure is None:
            return None
        repaired: asyncio.Future[BaseException | None] = loop.create_future()
        self._worker.submit(loop, self._repair, partial(_settle, repaired))
        try:
            async with asyncio.timeout(self._hold):
                error: BaseException | None = await repaired
        except TimeoutError:
            error = TimeoutError(f"the repair has not completed in {self._hold:g} s")
        if error is not None:
            self._failure = f"cannot repair {self._path}: {error}"
            logger.error("file sink: %s", self._failure)
            return self._failure
        logger.warning("file sink: repaired %s after: %s", self._path, failure)
        self._failure = None
        return None

    async def close(self) -> None:
        await self._idle.wait()
        if self._deadlines is not None:
            self._deadlines.cancel()
            self._deadlines = None
        await asyncio.to_thread(self._worker.stop)
        os.close(self._fd)

    def _gather(self, loop: asyncio.AbstractEventLoop, seen: int, turns: int) -> None:
        """Hands the pending batch over once a whole loop turn has added nothing to it, and
        the batch interval has passed since the last one.

        Runs on the loop, first in a turn (before the requests read in that turn's poll are
        handled), so each call sees what the last turn added; `seen` starts at 0 because the
        turn that scheduled the first call was already under way. A batch that grew in a
        turn is likely to grow again: requests the server read in the last turn store in this
        one.
        """
        count = len(self._pending)
        if count > seen and turns < _GATHER_TURNS:
            loop.call_soon(self._gather, loop, count, turns + 1)
            return
        wait = self._handed_over_at + self._batch_interval - loop.time()
        if wait > 0:
            loop.call_later(wait, self._commit_pending, loop)
        else:
            self._commit_pending(loop)

    def _commit_pending(self, loop: asyncio.AbstractEventLoop) -> None:
        """Hands the deliveries waiting to the sink's thread as one batch (on the event loop).

        Their lines are encoded here, all in one call: per delivery that is about half the
        CPU of encoding each line on its own.
        """
        # A delivery already answered (its hold passed, or its request went away) is not
        # written.
        batch = [entry for entry in self._pending if not entry[1].done()]
        self._pending = []
        self._handed_over_at = loop.time()
        try:
            data = record_lines([entry[0] for entry in batch])
        except Exception:
            # Not expected of a validated body. If it happens, the deliveries that cannot be
            # encoded are refused alone, and the rest of the batch is written.
            batch, data = _encodable(batch)
        self._committing = batch
        self._worker.submit(loop, partial(self._append, data), self._committed)

    def _committed(self, error: BaseException | None) -> None:
        """The batch's outcome, back on the event loop: each waiting store gets it."""
        batch = self._committing or []
        self._committing = None
        if error is None:
            self._failure = None
            for _, committed, _ in batch:
                if not committed.done():
                    committed.set_result(None)
        else:
            self._failure = f"cannot append to {self._path}: {error}"
            logger.error("file sink: %s", self._failure)
            for _, committed, _ in batch:
                if not committed.done():
                    committed.set_exception(SinkUnavailable(self._failure))
        if self._pending and self._loop is not None:
            self._loop.call_soon(self._gather, self._loop, 0, 0)
        else:
            self._idle.set()

    def _answer_late(self, loop: asyncio.AbstractEventLoop) -> None:
        """Answers 503 to every delivery whose hold has passed (on the event loop), and arms
        the timer for the next deadline of those still waiting.

        Under load it fires about once a hold and finds nothing late: each batch is written
        in well under a hold.
        """
        self._deadlines = None
        cutoff = loop.time() + _DEADLINE_SLACK_SECONDS
        next_deadline: float | None = None
        for _, committed, deadline in self._committing or ():
            if deadline > cutoff:
                next_deadline = deadline
                break
            if not committed.done():
                committed.set_exception(self._late())
        pending = self._pending
        expired = 0
        for _, committed, deadline in pending:
            if deadline > cutoff:
                if next_deadline is None:
                    next_deadline = deadline
                break
            expired += 1
            if not committed.done():
                committed.set_exception(self._late())
        # Taken out of the batch they were waiting for: never written.
        del pending[:expired]
        if next_deadline is not None:
            self._deadlines = loop.call_at(next_deadline, self._answer_late, loop)

    def _late(self) -> SinkUnavailable:
        return SinkUnavailable(f"not written to {self._path} within the hold ({self._hold:g} s)")

    def _append(self, data: bytes) -> None:
        """Runs on the sink's thread."""
        if not data:
            return
        if self._needs_repair:
            self._repair()
        try:
            write_all(self._fd, data)
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


def _settle(future: asyncio.Future[BaseException | None], outcome: BaseException | None) -> None:
    """Sets a future no longer waited on (its waiter's time ran out) only if it is not done."""
    if not future.done():
        future.set_result(outcome)


def _encodable(batch: list[_Entry]) -> tuple[list[_Entry], bytes]:
    """The deliveries of `batch` that encode, with their lines; the others are refused."""
    kept = []
    lines = []
    for delivery, committed, deadline in batch:
        try:
            lines.append(record_lines([delivery]))
        except Exception as error:
            logger.warning("file sink: delivery %s cannot be stored: %s", delivery.key, error)
            if not committed.done():
                committed.set_exception(UnstorableDelivery(f"cannot be stored: {error}"))
            continue
        kept.append((delivery, committed, deadline))
    return kept, b"".join(lines)


class _Worker:
    """One thread running jobs in order, each job's outcome handed back on the event loop.

    Rather than loop.run_in_executor: a batch costs a queue put and a call_soon_threadsafe,
    not an executor's work item, two futures chained across threads and a task on the loop;
    measured, that was a few microseconds of every request at a few requests per batch.
    """

    def __init__(self, name: str) -> None:
        self._jobs: SimpleQueue[_Job | None] = SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(
        self,
        loop: asyncio.AbstractEventLoop,
        job: Callable[[], None],
        on_done: Callable[[BaseException | None], object],
    ) -> None:
        self._jobs.put((loop, job, on_done))

    def stop(self) -> None:
        self._jobs.put(None)
        self._thread.join()

    def _run(self) -> None:
        while (item := self._jobs.get()) is not None:
            loop, job, on_done = item
            error: BaseException | None = None
            try:
                job()
            except Exception as raised:
                error = raised
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits
                loop.call_soon_threadsafe(on_done, error)


_Job = tuple[
    asyncio.AbstractEventLoop, Callable[[], None], Callable[[BaseException | None], object]
]


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
