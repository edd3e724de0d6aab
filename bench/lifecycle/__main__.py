"""Subscription lifecycle benchmark: the real CLI against the simulator.

    .venv/bin/python -m bench.lifecycle [--runs 3] [--count 50]

1. Texter API calls of a no-op preview and up, and of a refresh, with 20 subscriptions.
2. `up` creating N subscriptions at 50 ms simulated API latency, minus an empty `up`,
   against a plain script importing the same N bodies with 10 threads; and the engine's
   floor: N trivial dynamic resources that call no API, minus an empty `up`.
3. No-op preview with 20 subscriptions against 1.
Runs of the candidate and its baseline alternate, side by side; medians are reported.
Results: a table on stdout and bench/results/lifecycle.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from simulator.config import SimulatorConfig
from simulator.scopes import ALL_SCOPES
from simulator.server import SimulatorServer
from texter_webhooks.texter.body import BodySpec, render
from texter_webhooks.texter.catalog import event_names
from texter_webhooks.texter.client import RetryPolicy, TexterClient
from tooling.engine_probe import Note
from tooling.sandbox import SubscriptionStack, receiver_url, throwaway_engine

TOKEN = "bench-token"
RESULTS = Path(__file__).resolve().parent.parent / "results"
PARAMETERS = {
    "newMatchedMessage": {"expression": 'text == "help"'},
    "chatSpecificLabelAdded": {"targetLabelId": "label-1"},
}


def subscriptions(count: int) -> dict[str, dict[str, Any]]:
    """`count` subscriptions cycling through the catalog, each with its own name."""
    events = event_names()
    specs = {}
    for index in range(count):
        event = events[index % len(events)]
        spec: dict[str, Any] = {"event": event, "display_name": f"(SUB) bench {index}"}
        if event in PARAMETERS:
            spec["placeholders"] = PARAMETERS[event]
        specs[f"sub{index}"] = spec
    return specs


@contextmanager
def sandbox(latency_ms: int = 0) -> Iterator[SubscriptionStack]:
    config = SimulatorConfig(tokens={TOKEN: ALL_SCOPES}, latency_ms=latency_ms, log_requests=False)
    with tempfile.TemporaryDirectory() as root, SimulatorServer(config) as sim:
        stack = SubscriptionStack(throwaway_engine(Path(root)), sim, TOKEN, name="bench")
        stack.configure()
        yield stack


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def api_calls() -> dict[str, int]:
    with sandbox() as stack:
        stack.subscriptions = subscriptions(20)
        stack.up()
        counts = {}
        for label, action in (
            ("no-op preview", stack.preview),
            ("no-op up", stack.up),
            ("refresh", stack.refresh),
        ):
            stack.sim.clear_request_log()
            action()
            counts[label] = len(stack.api_calls())
        return counts


def up_from_empty(count: int) -> tuple[float, float]:
    """(seconds of an empty up, seconds of an up creating `count`), same fresh stack kind."""
    with sandbox(latency_ms=50) as stack:
        empty = timed(stack.up)
    with sandbox(latency_ms=50) as stack:
        stack.subscriptions = subscriptions(count)
        full = timed(stack.up)
        assert len(stack.sim.scenarios()) == count
    return empty, full


def engine_floor(count: int) -> float:
    """What the engine alone costs for `count` dynamic resources that call no API (the
    probe Note of tooling.engine_probe), net of an empty up: the floor under any provider."""
    timings = []
    for n in (0, count):
        with tempfile.TemporaryDirectory() as root:
            engine = throwaway_engine(Path(root))

            def program(n: int = n, root: str = root) -> None:
                for index in range(n):
                    Note(f"note{index}", text="x", store=f"{root}/note{index}.json")

            stack = engine.stack("floor", program)
            timings.append(timed(stack.up))
    return timings[1] - timings[0]


def script_import(count: int) -> float:
    """The baseline: import the same bodies with 10 threads, no engine."""
    with sandbox(latency_ms=50) as stack:
        client = TexterClient(stack.sim.base_url, TOKEN, policy=RetryPolicy())
        bodies = [
            render(
                BodySpec(
                    url=receiver_url(),
                    event=spec["event"],
                    display_name=spec["display_name"],
                    placeholders=spec.get("placeholders"),
                ),
                stack="bench",
            )
            for spec in subscriptions(count).values()
        ]
        with ThreadPoolExecutor(10) as pool:
            seconds = timed(lambda: list(pool.map(client.import_scenario, bodies)))
        assert len(stack.sim.scenarios()) == count
        return seconds


def noop_preview(count: int) -> float:
    with sandbox() as stack:
        stack.subscriptions = subscriptions(count)
        stack.up()
        stack.preview()  # warm: the first preview compiles and caches nothing we measure
        return timed(stack.preview)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.lifecycle")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--count", type=int, default=50)
    args = parser.parse_args(argv)

    calls = api_calls()
    up_net, floor, script, preview_20, preview_1 = [], [], [], [], []
    for _ in range(args.runs):  # interleaved: candidate and baseline share conditions
        empty, full = up_from_empty(args.count)
        up_net.append(full - empty)
        floor.append(engine_floor(args.count))
        script.append(script_import(args.count))
        preview_20.append(noop_preview(20))
        preview_1.append(noop_preview(1))

    med = statistics.median
    results = {
        "api_calls_20_subscriptions": calls,
        "up_create_seconds_net_of_empty_up": med(up_net),
        "engine_floor_seconds_trivial_dynamic_resources": med(floor),
        "script_import_seconds_10_threads": med(script),
        "up_vs_script_ratio": med(up_net) / med(script),
        "noop_preview_seconds_20": med(preview_20),
        "noop_preview_seconds_1": med(preview_1),
        "noop_preview_20_vs_1_ratio": med(preview_20) / med(preview_1),
        "runs": args.runs,
        "count": args.count,
        "raw": {
            "up_net": up_net,
            "floor": floor,
            "script": script,
            "preview_20": preview_20,
            "preview_1": preview_1,
        },
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "lifecycle.json").write_text(json.dumps(results, indent=2))
    print(f"API calls with 20 subscriptions: {calls}  (goal: 0 no-op, <= 20 refresh)")
    print(
        f"up creating {args.count} at 50 ms latency, net of an empty up: {med(up_net):.2f} s;"
        f" script with 10 threads: {med(script):.2f} s;"
        f" ratio {results['up_vs_script_ratio']:.2f} (goal <= 1.5)"
    )
    print(
        f"engine floor: {args.count} dynamic resources calling no API, net of an empty up:"
        f" {med(floor):.2f} s (the Python dynamic-provider server has 4 worker threads)"
    )
    print(
        f"no-op preview: 20 subscriptions {med(preview_20):.2f} s, 1 subscription"
        f" {med(preview_1):.2f} s; ratio {results['noop_preview_20_vs_1_ratio']:.2f}"
        " (goal <= 1.3)"
    )


if __name__ == "__main__":
    main()
