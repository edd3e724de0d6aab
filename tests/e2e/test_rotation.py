"""Rotating the receiver secret moves every subscription in one `pulumi up`, losing nothing.

The receiver is the real process (`python -m receiver`, file sink); Texter is the
simulator, firing events the whole time the subscriptions switch. As on Cloud Run, where
the same `up` deploys the receiver's revision that accepts both secrets before any
subscription is told the new one (tests/infra/test_receiver_subscription.py), the
receiver here accepts `new,old` while the subscriptions move, then `new` alone.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from simulator.server import SimulatorServer
from tests.conftest import TEXTER_TOKEN, ProjectFactory
from tests.integration.receiver.conftest import (
    RunningReceiver,
    free_port,
    start_receiver,
    stop_receiver,
)
from tooling.sandbox import SubscriptionStack

pytestmark = pytest.mark.e2e

OLD, NEW = "0ld-secret-0123456789ab", "N3w-secret-0123456789ab"
EVENTS = ("chatAssigned", "chatResolved")


@dataclass
class Fired:
    """The runs of every fire: one list per fire of one event."""

    runs: list[list[dict[str, Any]]] = field(default_factory=list)

    def versions(self, sim: SimulatorServer) -> set[int]:
        """The revisions that ran: which side of the switch each fire fell on."""
        ran = {r["scenarioId"] for fire in self.runs for r in fire}
        version = {run["_id"]: run["version"] for id_ in ran for run in sim.runs(id_)}
        return {version[r["runId"]] for fire in self.runs for r in fire}


@contextmanager
def firing(sim: SimulatorServer) -> Iterator[Fired]:
    """Fires every event in turn, again and again, until the block ends."""
    fired, done = Fired(), threading.Event()

    def fire_until_done() -> None:
        while not done.is_set():
            for event in EVENTS:
                fired.runs.append(sim.fire(event))
            done.wait(0.02)

    worker = threading.Thread(target=fire_until_done, daemon=True)
    worker.start()
    try:
        yield fired
    finally:
        done.set()
        worker.join(timeout=30)


def delivered(receiver: RunningReceiver) -> list[dict[str, Any]]:
    if not receiver.sink_path.exists():
        return []
    return [json.loads(line) for line in receiver.sink_path.read_text().splitlines() if line]


def test_one_up_rotates_the_secret_with_every_delivery_accepted(
    make_project: ProjectFactory, texter_sim: SimulatorServer, tmp_path: Path
) -> None:
    port = free_port()
    receivers: list[RunningReceiver] = []

    def serve(secrets: str, name: str) -> RunningReceiver:
        if receivers:
            stop_receiver(receivers[-1])
        receivers.append(start_receiver(tmp_path / name, secret=secrets, port=port))
        return receivers[-1]

    subs = SubscriptionStack(make_project("texter-webhooks"), texter_sim, TEXTER_TOKEN)
    subs.configure()

    def wire(token: str) -> None:
        subs.subscriptions = {
            event: {
                "event": event,
                "url": f"http://127.0.0.1:{port}/hooks",
                "plain_url": True,
                "bearer_token": token,
            }
            for event in EVENTS
        }

    try:
        serve(OLD, "before")
        wire(OLD)
        ids = {name: out.value for name, out in subs.up().outputs.items() if name.endswith("Id")}

        rotating = serve(f"{NEW},{OLD}", "rotating")
        with firing(texter_sim) as during:
            wire(NEW)
            up = subs.up()
        assert up.summary.resource_changes == {"update": 2, "same": 1}
        assert {n: o.value for n, o in up.outputs.items() if n.endswith("Id")} == ids

        after = serve(NEW, "after")  # then only the new
        with firing(texter_sim) as settled:
            while len(settled.runs) < 10:
                threading.Event().wait(0.05)
    finally:
        for receiver in receivers:
            stop_receiver(receiver)

    # Fired before and after the switch, every fire reached exactly one subscription
    # (no gap, no second live copy) and the receiver accepted it.
    assert during.versions(texter_sim) == {1, 2}
    assert settled.versions(texter_sim) == {2}
    for fire in during.runs + settled.runs:
        assert len(fire) == 1
        assert fire[0]["success"], fire[0]
    # Every accepted delivery is in the sink, none refused in the receiver's log.
    assert len(delivered(rotating)) == len(during.runs)
    assert len(delivered(after)) == len(settled.runs)
    for receiver in receivers:
        log = receiver.log()
        # The whole log, read (accepted deliveries are logged at DEBUG only): it ends with
        # the server's clean shutdown, so a refusal would be in it.
        assert "Application shutdown complete" in log
        assert '"status":401' not in log
        assert NEW not in log
        assert OLD not in log
