"""A run killed mid-create leaves nothing running, through the real CLI.

`pulumi up` is SIGKILLed while its creates are under way. The engine dies; its dynamic
provider process lives on and keeps importing, so Texter gets scenarios no state entry
holds. They carry the stack's key (StackIdentity), and the next `up` (the OrphanSweeper)
and `destroy` (the identity, deleted last) retire them.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from pulumi import automation as auto

from simulator.server import SimulatorServer
from tests.conftest import TEXTER_TOKEN, ProjectFactory
from texter_webhooks.texter import ownership
from texter_webhooks.texter.scenario import scenario_status
from tooling.sandbox import SubscriptionStack

pytestmark = pytest.mark.e2e

COUNT = 12


@pytest.fixture
def subs(make_project: ProjectFactory, texter_sim: SimulatorServer) -> SubscriptionStack:
    stack = SubscriptionStack(make_project("texter-webhooks"), texter_sim, TEXTER_TOKEN)
    stack.sweep = True
    stack.configure()
    stack.subscriptions = {f"s{i:02d}": {"event": "chatAssigned"} for i in range(COUNT)}
    return stack


def processes() -> list[tuple[int, int, str]]:
    """(pid, parent pid, command) of every process, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        command = stat[stat.index("(") + 1 : stat.rindex(")")]
        parent = int(stat[stat.rindex(")") + 2 :].split()[1])
        found.append((int(entry.name), parent, command))
    return found


def cli_children() -> list[int]:
    """The `pulumi` CLI processes this test process started."""
    return [
        pid for pid, parent, command in processes() if parent == os.getpid() and command == "pulumi"
    ]


def descendants(root: int) -> list[int]:
    """Every process below `root` (the engine's plugins: the dynamic provider)."""
    children: dict[int, list[int]] = {}
    for pid, parent, _ in processes():
        children.setdefault(parent, []).append(pid)
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def imports(sim: SimulatorServer) -> int:
    return sum(1 for entry in sim.request_log() if entry["route"] == "import")


def wait_for(condition: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.05)


def active_of_the_stack(subs: SubscriptionStack) -> set[str]:
    key = subs.state_resources()["texter-stack"]["outputs"]["key"]
    return {
        s["_id"]
        for s in subs.sim.scenarios()
        if scenario_status(s) == "active"
        and (marker := ownership.marker_of(s)) is not None
        and marker.stack_key == key
    }


def held(subs: SubscriptionStack) -> set[str]:
    return {
        r["outputs"]["subscription_id"]
        for name, r in subs.state_resources().items()
        if name.startswith("s")
    }


def kill_up_mid_create(subs: SubscriptionStack) -> None:
    """`pulumi up` SIGKILLed once Texter has taken a few imports; returns once the
    orphaned provider process has stopped importing."""
    subs.sim.set_latency(300)
    failed: list[BaseException] = []

    def up() -> None:
        try:
            subs.up(preview_first=False)
        except auto.CommandError as exc:
            failed.append(exc)

    runner = threading.Thread(target=up, daemon=True)
    runner.start()
    wait_for(lambda: imports(subs.sim) >= 3, timeout=60)
    assert imports(subs.sim) >= 3, "the up never got to its creates"
    engines = cli_children()
    providers = [pid for engine in engines for pid in descendants(engine)]
    for pid in engines:
        os.kill(pid, signal.SIGKILL)
    runner.join(timeout=60)
    assert failed, "the up was not killed"
    # The provider process outlives the engine and finishes the creates it had begun; then
    # it goes too (as the rest of a lost runner would), so nothing lands later than this.
    seen, still_since = imports(subs.sim), time.monotonic()
    while time.monotonic() - still_since < 3:
        time.sleep(0.2)
        if imports(subs.sim) != seen:
            seen, still_since = imports(subs.sim), time.monotonic()
    for pid in providers:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    subs.sim.set_latency(0)
    # The engine died holding the stack's lock (a DIY backend's lock file), and maybe in
    # the middle of writing its checkpoint: restored from the backup the backend keeps,
    # as a user would. What that loses, the sweep finds all the same.
    backend = Path(urlsplit(subs.engine.backend_url).path) / ".pulumi"
    for lock in (backend / "locks").rglob("*.json"):
        lock.unlink()
    for checkpoint in (backend / "stacks").rglob("*.json"):
        backup = checkpoint.with_name(checkpoint.name + ".bak")
        # Torn: the checkpoint, or (seen in CI) its empty `.attrs` beside it.
        attrs = Path(str(checkpoint) + ".attrs")
        usable = _readable(checkpoint) and (not attrs.exists() or _readable(attrs))
        if not usable and backup.exists():
            for suffix in ("", ".attrs"):
                restored = Path(str(backup) + suffix)
                if restored.exists():
                    shutil.copyfile(restored, Path(str(checkpoint) + suffix))


def _readable(checkpoint: Path) -> bool:
    try:
        json.loads(checkpoint.read_text())
    except (OSError, ValueError):
        return False
    return True


def test_an_up_after_a_killed_one_leaves_exactly_the_held_scenarios_active(
    subs: SubscriptionStack,
) -> None:
    kill_up_mid_create(subs)
    orphans = active_of_the_stack(subs) - held(subs)
    assert orphans, "the kill left no orphan: nothing was tested"

    subs.up()
    assert active_of_the_stack(subs) == held(subs)
    assert len(held(subs)) == COUNT

    subs.destroy()
    assert active_of_the_stack_of(subs.sim, orphans) == set()


def test_destroy_after_a_killed_first_up_leaves_nothing_active(subs: SubscriptionStack) -> None:
    kill_up_mid_create(subs)
    made = {s["_id"] for s in subs.sim.scenarios() if scenario_status(s) == "active"}
    assert made - held(subs), "the kill left no orphan: nothing was tested"

    subs.destroy()
    assert {s["_id"] for s in subs.sim.scenarios() if scenario_status(s) == "active"} == set()


def active_of_the_stack_of(sim: SimulatorServer, ids: set[str]) -> set[str]:
    return {s["_id"] for s in sim.scenarios() if s["_id"] in ids and scenario_status(s) == "active"}


def test_an_older_scenario_reactivated_by_hand_is_reported_then_retired(
    subs: SubscriptionStack,
) -> None:
    subs.subscriptions = {"s00": {"event": "chatAssigned"}}
    subs.up()
    [old] = held(subs)
    # A new description replaces the scenario; then someone resumes the old one in Texter.
    subs.subscriptions["s00"]["description"] = "assigned chats to the CRM"
    subs.up()
    [new] = held(subs)
    subs.client().activate(old)

    subs.refresh()
    assert subs.state_resources()["texter-orphans"]["outputs"]["orphans"] == [old]
    preview = subs.preview(diff=True)
    assert old in preview.stdout  # the reviewer sees which one goes

    subs.up()
    assert active_of_the_stack(subs) == {new}
