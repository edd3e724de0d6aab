"""The local file sink: durable before acknowledged, group-committed, repaired after a kill."""

from __future__ import annotations

import asyncio
import json
import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from receiver.delivery import Delivery
from receiver.sinks.base import SinkUnavailable, UnstorableDelivery
from receiver.sinks.file import FileSink, StoredDelivery, read_events
from tests.unit.receiver.fakes import ManualClockLoop, finished, turns

pytestmark = pytest.mark.anyio


def delivery(n: int) -> Delivery:
    return Delivery(
        key=f"{n:064x}",
        event_name="chatAssigned",
        body=json.dumps(
            {"eventName": "chatAssigned", "eventData": {"n": n, "text": "olá"}}, ensure_ascii=False
        ).encode(),
        received_at="2026-01-02T03:04:05.000006Z",
    )


def numbers(path: Path) -> list[int]:
    return [event.envelope()["eventData"]["n"] for event in read_events(path)]


class Syncs:
    """Stands in for os.fsync: counts calls, records the file size each saw (and the time by
    `clock`, when given), can block or fail. `entered` is set once an fsync has begun."""

    def __init__(self, path: Path, clock: Callable[[], float] | None = None) -> None:
        self.path = path
        self.clock = clock
        self.sizes: list[int] = []
        self.times: list[float] = []
        self.fail = False
        self.entered = threading.Event()
        self.release = threading.Event()
        self.release.set()

    def __call__(self, fd: int) -> None:
        self.entered.set()
        if self.clock is not None:
            self.times.append(self.clock())
        self.release.wait(timeout=10)
        self.sizes.append(self.path.stat().st_size)
        if self.fail:
            raise OSError(5, "Input/output error")
        os.fsync(fd)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "events" / "events.jsonl"


async def test_a_stored_delivery_is_one_json_line_after_an_fsync(path: Path) -> None:
    syncs = Syncs(path)
    sink = FileSink(path, sync=syncs)
    await sink.start()

    await sink.store(delivery(1))

    assert syncs.sizes == [path.stat().st_size]
    assert read_events(path) == [
        StoredDelivery(
            received_at="2026-01-02T03:04:05.000006Z",
            delivery_key=f"{1:064x}",
            event_name="chatAssigned",
            body=delivery(1).body,
        )
    ]
    assert path.read_bytes().count(b"\n") == 1
    await sink.close()


async def test_store_does_not_return_before_the_fsync(path: Path) -> None:
    syncs = Syncs(path)
    sink = FileSink(path, sync=syncs)
    syncs.release.clear()

    store = asyncio.create_task(sink.store(delivery(1)))
    assert await asyncio.to_thread(syncs.entered.wait, 5)  # the fsync has begun, and is held
    await turns()
    assert not store.done()

    syncs.release.set()
    await store
    await sink.close()


async def test_concurrent_stores_share_fsyncs(path: Path) -> None:
    syncs = Syncs(path)
    sink = FileSink(path, sync=syncs)
    syncs.release.clear()
    first = asyncio.create_task(sink.store(delivery(0)))
    assert await asyncio.to_thread(syncs.entered.wait, 5)
    # These queue up while the first write+fsync is held.
    rest = [asyncio.create_task(sink.store(delivery(n))) for n in range(1, 50)]
    await turns()

    syncs.release.set()
    await asyncio.gather(first, *rest)

    assert len(syncs.sizes) == 2
    assert sorted(numbers(path)) == list(range(50))
    await sink.close()


async def test_stores_made_in_one_loop_turn_share_one_fsync(path: Path) -> None:
    # As when the server has read several requests at once: the first store must not take
    # the fsync alone and leave the others to wait for the next one.
    syncs = Syncs(path)
    sink = FileSink(path, sync=syncs)

    await asyncio.gather(*(sink.store(delivery(n)) for n in range(5)))

    assert len(syncs.sizes) == 1
    assert sorted(numbers(path)) == list(range(5))
    await sink.close()


async def test_a_batch_that_keeps_growing_is_handed_over_after_a_few_turns(path: Path) -> None:
    # A store joins every loop turn: the batch must not wait for the trickle to stop.
    syncs = Syncs(path)
    sink = FileSink(path, sync=syncs)
    syncs.release.clear()
    stores = []
    for n in range(40):
        stores.append(asyncio.create_task(sink.store(delivery(n))))
        await asyncio.sleep(0)
    syncs.release.set()
    await asyncio.gather(*stores)

    # The first batch was handed over (and held in its fsync) after a few turns; everything
    # that came meanwhile waited for it, then went in the second.
    assert len(syncs.sizes) == 2
    first_batch = path.read_bytes()[: syncs.sizes[0]].count(b"\n")
    assert 2 <= first_batch <= 8
    assert sorted(numbers(path)) == list(range(40))
    await sink.close()


# The batch interval is timed by the loop's clock: these two run on a clock that moves only
# when the test moves it, so they do not depend on how fast a loaded machine schedules.


def test_under_load_a_batch_waits_out_the_interval_and_gathers_meanwhile(path: Path) -> None:
    loop = ManualClockLoop(now=1000.0)
    syncs = Syncs(path, clock=loop.time)

    async def scenario() -> None:
        sink = FileSink(path, sync=syncs, batch_interval=1.0)
        # Handed over at 1000.0, at once: no batch came before it.
        assert await finished(asyncio.create_task(sink.store(delivery(0))))

        # Within the interval of the first batch: these wait for it to pass, and go together.
        second = asyncio.create_task(sink.store(delivery(1)))
        await turns()  # more than gathering takes: the batch would have been handed over
        rest = [asyncio.create_task(sink.store(delivery(n))) for n in range(2, 5)]
        loop.now = 1000.999
        await turns()
        assert not second.done()
        assert syncs.times == [1000.0]

        loop.now = 1001.0
        assert await finished(asyncio.gather(second, *rest))
        await sink.close()

    loop.run(scenario())

    # One fsync for the four that came within the interval, once it was over.
    assert syncs.times == [1000.0, 1001.0]
    assert len(syncs.sizes) == 2
    assert sorted(numbers(path)) == list(range(5))


def test_a_delivery_that_comes_alone_does_not_wait_for_the_interval(path: Path) -> None:
    loop = ManualClockLoop(now=1000.0)
    syncs = Syncs(path, clock=loop.time)

    async def scenario() -> None:
        sink = FileSink(path, sync=syncs, batch_interval=1.0)
        assert await finished(asyncio.create_task(sink.store(delivery(0))))
        loop.now = 1001.05  # the interval since the last batch is over

        # Stored with the clock standing still: no timer fired for it.
        assert await finished(asyncio.create_task(sink.store(delivery(1))))
        await sink.close()

    loop.run(scenario())

    assert syncs.times == [1000.0, 1001.05]
    assert numbers(path) == [0, 1]


async def test_a_failed_fsync_fails_the_batch_and_cuts_it_off(path: Path) -> None:
    syncs = Syncs(path)
    sink = FileSink(path, sync=syncs)
    await sink.store(delivery(1))
    syncs.fail = True

    with pytest.raises(SinkUnavailable, match="Input/output error"):
        await sink.store(delivery(2))

    syncs.fail = False
    await sink.store(delivery(3))
    assert numbers(path) == [1, 3]
    await sink.close()


class Truncates:
    """Stands in for os.ftruncate: fails while `fail` is set."""

    def __init__(self) -> None:
        self.fail = False

    def __call__(self, fd: int, size: int) -> None:
        if self.fail:
            raise OSError(5, "Input/output error")
        os.ftruncate(fd, size)


async def test_a_failed_fsync_makes_the_sink_failing_until_a_repair_works(path: Path) -> None:
    syncs, truncates = Syncs(path), Truncates()
    sink = FileSink(path, sync=syncs, truncate=truncates)
    await sink.store(delivery(1))
    assert await sink.check() is None
    syncs.fail = truncates.fail = True

    with pytest.raises(SinkUnavailable, match="Input/output error"):
        await sink.store(delivery(2))

    # Still failing: a health probe's repair (reopen, cut back, fsync) fails too.
    assert "Input/output error" in (await sink.check() or "")
    assert "Input/output error" in (await sink.check() or "")
    with pytest.raises(SinkUnavailable):
        await sink.store(delivery(3))

    # The disk is back: the next probe repairs the file and the sink serves again.
    syncs.fail = truncates.fail = False
    assert await sink.check() is None
    await sink.store(delivery(4))
    assert numbers(path) == [1, 4]
    await sink.close()


async def test_a_failed_append_left_in_the_file_is_cut_off_by_the_repair(path: Path) -> None:
    syncs, truncates = Syncs(path), Truncates()
    sink = FileSink(path, sync=syncs, truncate=truncates)
    await sink.store(delivery(1))
    syncs.fail = truncates.fail = True
    with pytest.raises(SinkUnavailable):
        await sink.store(delivery(2))
    # The unacknowledged record is still there: the truncate after the failure failed.
    assert numbers(path) == [1, 2]

    syncs.fail = truncates.fail = False
    await sink.store(delivery(3))

    assert numbers(path) == [1, 3]
    await sink.close()


async def test_a_store_repairs_the_sink_without_waiting_for_a_probe(path: Path) -> None:
    syncs = Syncs(path)
    sink = FileSink(path, sync=syncs)
    syncs.fail = True
    with pytest.raises(SinkUnavailable):
        await sink.store(delivery(1))

    syncs.fail = False
    await sink.store(delivery(2))

    assert await sink.check() is None
    assert numbers(path) == [2]
    await sink.close()


async def test_a_repair_carries_on_a_file_replaced_meanwhile(path: Path) -> None:
    syncs = Syncs(path)
    sink = FileSink(path, sync=syncs)
    await sink.store(delivery(1))
    syncs.fail = True
    with pytest.raises(SinkUnavailable):
        await sink.store(delivery(2))
    path.unlink()

    syncs.fail = False
    assert await sink.check() is None
    await sink.store(delivery(3))

    assert numbers(path) == [3]
    await sink.close()


async def test_appends_continue_an_existing_file(path: Path) -> None:
    first = FileSink(path)
    await first.store(delivery(1))
    await first.close()

    second = FileSink(path)
    await second.store(delivery(2))
    await second.close()

    assert numbers(path) == [1, 2]


async def test_a_torn_last_line_is_ignored_by_readers_and_cut_off_on_open(path: Path) -> None:
    sink = FileSink(path)
    await sink.store(delivery(1))
    await sink.close()
    with path.open("ab") as file:
        file.write(b'{"receivedAt":"2026-01-02T03:04:05.000006Z","deliv')

    assert numbers(path) == [1]

    reopened = FileSink(path)
    await reopened.store(delivery(2))
    await reopened.close()
    assert numbers(path) == [1, 2]


async def test_a_file_holding_only_a_torn_line_is_emptied_on_open(path: Path) -> None:
    path.parent.mkdir(parents=True)
    path.write_bytes(b'{"torn')

    FileSink(path)

    assert path.read_bytes() == b""
    assert read_events(path) == []


async def test_close_waits_for_stores_in_flight(path: Path) -> None:
    syncs = Syncs(path)
    sink = FileSink(path, sync=syncs)
    syncs.release.clear()
    store = asyncio.create_task(sink.store(delivery(1)))
    assert await asyncio.to_thread(syncs.entered.wait, 5)  # the store is in its fsync
    waiting = asyncio.create_task(sink.store(delivery(2)))  # for the next batch
    await turns()

    closing = asyncio.create_task(sink.close())
    await turns()
    assert not closing.done()
    syncs.release.set()
    assert await finished(closing)

    assert store.done()
    assert waiting.done()
    assert numbers(path) == [1, 2]


def test_an_unwritable_path_fails_at_construction(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")

    with pytest.raises(OSError, match="Not a directory|File exists"):
        FileSink(blocker / "events.jsonl")


async def test_a_delivery_that_cannot_be_recorded_fails_alone(tmp_path: Path) -> None:
    # Issue 22: an event name that cannot be encoded as UTF-8 (a lone surrogate, let in by a
    # looser second parser) failed every delivery in its batch, and the sink's health.
    path = tmp_path / "events.jsonl"
    sink = FileSink(path)
    await sink.start()
    bad = delivery(99)._replace(event_name="\ud800")

    outcomes = await asyncio.gather(
        sink.store(delivery(1)), sink.store(bad), sink.store(delivery(2)), return_exceptions=True
    )

    assert outcomes[0] is None
    assert isinstance(outcomes[1], UnstorableDelivery)
    assert outcomes[2] is None
    assert numbers(path) == [1, 2]
    assert await sink.check() is None
    await sink.close()


class StalledWrites:
    """Stands in for os.write in the file sink's thread only: holds every write until
    `release` is set (a disk that hangs), then writes."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.entered = threading.Event()
        self._write = os.write

    def __call__(self, fd: int, data: bytes | memoryview) -> int:
        if threading.current_thread().name == "file-sink":
            self.entered.set()
            self.release.wait(timeout=10)
        return self._write(fd, data)


HOLD = 0.3


def test_a_delivery_held_by_a_stuck_write_is_answered_503_within_its_hold(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Issue 22, "deadlines that hold", for the file sink: a write (or fsync) that hangs held
    # every request, copies of a delivery included, with no deadline at all. On a clock the
    # test moves: each hold ends exactly when the clock says so, however slow the machine.
    import httpx

    from receiver.app import create_app
    from receiver.settings import FileSinkSpec, Settings
    from tests.unit.receiver.conftest import SECRET

    loop = ManualClockLoop(now=1000.0)
    stalled = StalledWrites()
    monkeypatch.setattr(os, "write", stalled)
    body = delivery(1).body
    headers = {"content-type": "application/json"}

    async def scenario() -> None:
        app = create_app(
            Settings(sink=FileSinkSpec(path), secrets=(SECRET.encode(),), hold_seconds=HOLD)
        )
        await app.startup()
        transport = httpx.ASGITransport(app=app)
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://receiver") as client:

                async def post(content: bytes = body) -> tuple[httpx.Response, float]:
                    response = await client.post(
                        f"/hooks/{SECRET}", content=content, headers=headers
                    )
                    return response, loop.time()

                first = asyncio.create_task(post())
                assert await asyncio.to_thread(stalled.entered.wait, 5)  # its write hangs
                # Copies of the same delivery, and another delivery, behind the stuck write:
                # all begun at 1000.0, the clock standing still.
                copies = [asyncio.create_task(post()) for _ in range(3)]
                other = asyncio.create_task(post(delivery(2).body))
                waiting = [first, *copies, other]
                await turns(50)

                loop.now = 1000.0 + HOLD - 0.02  # within every hold (and the sink's slack)
                await turns(50)
                assert not any(task.done() for task in waiting)
                loop.now = 1000.0 + HOLD
                answered = asyncio.gather(*waiting)
                assert await finished(answered), f"not answered when the {HOLD} s hold ended"
                for response, at in answered.result():
                    assert response.status_code == 503
                    assert response.json() == {
                        "error": "the delivery could not be stored; retry later"
                    }
                    assert at == 1000.0 + HOLD
                assert stalled.entered.is_set()

                # Still stuck past the hold: /healthz says so at once (no time passes while
                # it answers), without waiting on the disk.
                loop.now = 1000.0 + HOLD + 0.05
                health = asyncio.create_task(client.get("/healthz"))
                assert await finished(health), "/healthz waited"
                assert health.result().status_code == 503

                # The disk comes back: the write that was under way completes (its record
                # may be on disk, never acknowledged), the file stays whole, and the sink
                # serves again.
                stalled.release.set()
                retried = asyncio.create_task(post())
                assert await finished(retried)
                assert retried.result()[0].status_code == 200
                assert (await client.get("/healthz")).status_code == 200
        finally:
            stalled.release.set()
            await app.shutdown()

    loop.run(scenario())
    stored = numbers(path)
    # The retry is stored; the stuck write's record (never acknowledged) may be there too,
    # under the same deliveryKey. The delivery that waited behind it was never written.
    assert stored in ([1, 1], [1])
    assert 2 not in stored


def test_past_its_hold_a_delivery_is_refused_and_only_a_write_under_way_may_land(
    path: Path,
) -> None:
    # On a clock the test moves: each hold ends exactly when the clock says so.
    loop = ManualClockLoop(now=1000.0)
    syncs = Syncs(path)

    async def scenario() -> None:
        sink = FileSink(path, sync=syncs, hold_seconds=HOLD)
        await sink.start()
        await sink.store(delivery(0))
        syncs.release.clear()
        syncs.entered.clear()
        loop.now = 1001.0
        # Delivery 1's batch is written and held in its fsync; 2 waits for the next batch,
        # and comes later, so its own hold ends later.
        stuck = asyncio.create_task(sink.store(delivery(1)))
        assert await asyncio.to_thread(syncs.entered.wait, 5)
        loop.now = 1001.1
        waiting = asyncio.create_task(sink.store(delivery(2)))
        await turns()

        loop.now = 1001.0 + HOLD - 0.02  # within both holds (and their slack)
        await turns()
        assert not stuck.done()
        assert not waiting.done()
        loop.now = 1001.0 + HOLD
        with pytest.raises(SinkUnavailable, match="within the hold"):
            await stuck
        await turns()
        assert not waiting.done()
        loop.now = 1001.1 + HOLD
        with pytest.raises(SinkUnavailable, match="within the hold"):
            await waiting
        assert "has not completed" in (await sink.check() or "")

        syncs.release.set()
        await sink.store(delivery(3))
        assert await sink.check() is None
        await sink.close()

    loop.run(scenario())

    # 1 was in the write under way: it completed after its 503 (whole, never acknowledged).
    # 2 was taken out of its batch: never written.
    assert numbers(path) == [0, 1, 3]


def test_under_steady_load_the_deadline_timer_answers_nobody(path: Path) -> None:
    # On a clock the test moves: a round of 10 deliveries every 10 ms, each written (its
    # fsync held) while 5 ms pass. The hold (55 ms) ends in the middle of a round's write, so
    # the deadline timer fires three times with a batch in flight whose hold has not passed:
    # it must answer none of them.
    loop = ManualClockLoop(now=1000.0)
    syncs = Syncs(path)
    hold = 0.055

    async def scenario() -> None:
        sink = FileSink(path, sync=syncs, hold_seconds=hold)
        await sink.start()
        for n in range(20):
            loop.now = 1000.0 + n * 0.01
            syncs.release.clear()
            syncs.entered.clear()
            stores = asyncio.gather(*(sink.store(delivery(n * 10 + k)) for k in range(10)))
            assert await asyncio.to_thread(syncs.entered.wait, 5)  # the batch is being written
            loop.now += 0.005
            await turns()  # a timer due now fires, the write still under way
            syncs.release.set()
            assert await finished(stores)
            stores.result()  # none was answered 503

        assert len(numbers(path)) == 200
        assert await sink.check() is None
        await sink.close()

    loop.run(scenario())
