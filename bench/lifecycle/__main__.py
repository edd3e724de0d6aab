"""Subscription lifecycle benchmark: the real CLI against the simulator.

    .venv/bin/python -m bench.lifecycle [--runs 3] [--count 50] [--change-count N]
        [--noop-count 100] [--only 4]

1. Texter API calls of a no-op preview and up, and of a refresh, with 20 subscriptions.
2. `up` creating N subscriptions at 50 ms simulated API latency, minus an empty `up`,
   against a plain script importing the same N bodies with 10 threads; and the engine's
   floor: N trivial dynamic resources that call no API, minus an empty `up`.
3. No-op preview with 20 subscriptions against 1.
4. Change every subscription's receiver URL, in place, against a replacement: N
   subscriptions (`--change-count`, default `--count`) created untimed on a fresh stack,
   then at 50 ms latency one `up` (its preview included, as in 2) that gives each a new
   URL (Update Draft, Create Revision, Activate: the same scenario) against one that gives
   each a new description (import a new scenario, then inactivate the old one). Reported:
   the wall time of that `up`, the ratio in place / replacement, the Texter API calls it
   makes by route (preview and update apart, from the simulator's request log; a call not
   answered 2xx is counted as `route -> status`), and the scenarios live at the end (in
   place: N active; replacement: N active + N inactive). Wall time and API calls only: this
   script measures no CPU time (neither of the CLI nor of the provider process).
5. No-op `preview` and no-op `up` of N subscriptions (`--noop-count`, default 100) against
   the engine floor of 2 (N trivial dynamic resources that call nothing), both stacks
   brought up once untimed; then each timed run is one CLI run (its own CLI and provider
   processes; `up` without its preview, as the Automation API runs it), subscriptions
   and floor alternating. Reported: the medians, the ratios subscriptions / floor (goal
   <= 1.3) and the Texter API calls of each run (must be 0).
Runs of the candidate and its baseline alternate, side by side; medians are reported.
`--only` (repeatable) runs some of the scenarios, e.g. `--only 4`.
Results: a table on stdout and bench/results/lifecycle.json; with `--only`, the scenarios
run replace their own entries there and the others' are kept (`settings` says with which
runs and count each was measured).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pulumi import automation as auto

from simulator.config import SimulatorConfig
from simulator.scopes import ALL_SCOPES
from simulator.server import SimulatorServer
from texter_webhooks.texter.body import BodySpec, render
from texter_webhooks.texter.catalog import event_names
from texter_webhooks.texter.client import RetryPolicy, TexterClient
from texter_webhooks.texter.scenario import scenario_status
from tooling.engine_probe import Note
from tooling.sandbox import SubscriptionStack, receiver_url, throwaway_engine

TOKEN = "bench-token"
RESULTS = Path(__file__).resolve().parent.parent / "results"
SCENARIOS = (1, 2, 3, 4, 5)
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
        with floor_stack(n) as stack:
            timings.append(timed(stack.up))
    return timings[1] - timings[0]


@contextmanager
def floor_stack(count: int) -> Iterator[auto.Stack]:
    """A fresh stack of `count` trivial dynamic resources (Notes) that call no API."""
    with tempfile.TemporaryDirectory() as root:
        engine = throwaway_engine(Path(root))

        def program() -> None:
            for index in range(count):
                Note(f"note{index}", text="x", store=f"{root}/note{index}.json")

        yield engine.stack("floor", program)


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


# --- 4. a change of every subscription: in place against a replacement --------------------

# What each side changes in every subscription: the URL (in place) or the description
# (which no draft can change: a new scenario).
CHANGES: dict[str, dict[str, Any]] = {
    "in_place": {"url": receiver_url("hooks-changed")},
    "replacement": {"description": "bench subscription, reworded"},
}
# What the engine reports each side did to every subscription.
EXPECTED_OP = {"in_place": "update", "replacement": "replace"}


def by_route(entries: list[dict[str, Any]]) -> dict[str, int]:
    """Request-log entries counted by route; one not answered 2xx as `route -> status`."""
    counts: Counter[str] = Counter()
    for entry in entries:
        route = entry["route"] or f"unmatched {entry['method']}"
        status = entry["status"]
        ok = status is not None and 200 <= status < 300
        counts[route if ok else f"{route} -> {status or 'no answer'}"] += 1
    return dict(sorted(counts.items()))


def change_all(count: int, side: str) -> dict[str, Any]:
    """One run of a side of scenario 4 on a fresh stack: `count` subscriptions created
    untimed (at no latency, which changes nothing but the wait), then, at 50 ms, the timed
    `up` (its preview, then the update, as `stack.up` runs them) changing every one."""
    with sandbox() as stack:
        specs = subscriptions(count)
        stack.subscriptions = specs
        stack.up()
        before = {s["_id"] for s in stack.sim.scenarios()}
        assert len(before) == count
        stack.subscriptions = {name: {**spec, **CHANGES[side]} for name, spec in specs.items()}
        stack.sim.set_latency(50)
        stack.sim.clear_request_log()
        done: dict[str, Any] = {}

        def up() -> None:
            stack.preview()
            done["preview_calls"] = len(stack.api_calls())
            done["result"] = stack.up(preview_first=False)

        seconds = timed(up)
        log = stack.api_calls()
        changes = {str(op): n for op, n in (done["result"].summary.resource_changes or {}).items()}
        assert changes.get(EXPECTED_OP[side]) == count, changes
        live = Counter(scenario_status(s) for s in stack.sim.scenarios())
        after = {s["_id"] for s in stack.sim.scenarios()}
        if side == "in_place":  # the same scenarios, each with a new revision
            assert after == before
            assert live == {"active": count}, live
        else:  # a new scenario each, the old ones inactivated (kept)
            assert after > before
            assert live == {"active": count, "inactive": count}, live
        return {
            "seconds": seconds,
            "api_calls": {
                "preview": by_route(log[: done["preview_calls"]]),
                "update": by_route(log[done["preview_calls"] :]),
                "total": len(log),
            },
            "live_scenarios": dict(sorted(live.items())),
            "resource_changes": changes,
        }


def median_counts(runs: list[dict[str, int]]) -> dict[str, float]:
    """Per key, the median over runs (a key missing from a run counts 0 there)."""
    keys = sorted({key for run in runs for key in run})
    return {key: statistics.median(run.get(key, 0) for run in runs) for key in keys}


def summary_of_change(runs: list[dict[str, Any]]) -> dict[str, Any]:
    calls = [run["api_calls"] for run in runs]
    return {
        "seconds": statistics.median(run["seconds"] for run in runs),
        "api_calls_preview": median_counts([c["preview"] for c in calls]),
        "api_calls_update": median_counts([c["update"] for c in calls]),
        "api_calls_total": statistics.median(c["total"] for c in calls),
        "live_scenarios": median_counts([run["live_scenarios"] for run in runs]),
        "resource_changes": median_counts([run["resource_changes"] for run in runs]),
    }


def counts_text(counts: dict[str, float]) -> str:
    return ", ".join(f"{key} {value:g}" for key, value in counts.items()) or "none"


# --- 5. no-op preview and up of N subscriptions against the engine floor ----------------

# The timed runs of scenario 5, in the order they alternate: (command, stack).
NOOP_RUNS = (
    ("preview", "subscriptions"),
    ("preview", "floor"),
    ("up", "subscriptions"),
    ("up", "floor"),
)


def noop_against_floor(count: int, runs: int) -> dict[str, list[dict[str, Any]]]:
    """`runs` rounds of NOOP_RUNS on two stacks brought up once, untimed: `count`
    subscriptions, and `count` Notes (the floor of 2). Each timed run is one CLI run: a
    preview, or an `up` without its preview (as `stack.up(preview_first=False)` and the
    Automation API run it). Every run must change nothing and call no Texter API."""
    results: dict[str, list[dict[str, Any]]] = {f"{op}_{side}": [] for op, side in NOOP_RUNS}
    with sandbox() as subs, floor_stack(count) as floor:
        subs.subscriptions = subscriptions(count)
        subs.up()
        floor.up(color="never")
        # Untimed warm-up: the first run after an up reads what later ones find cached.
        subs.preview()
        floor.preview(color="never")
        # Both stacks selected once, untimed (`subs.preview()` would select its stack anew,
        # a CLI run of its own, ~0.3 s): each timed run is the one CLI run of its command.
        subs_stack = subs.stack()
        actions: dict[tuple[str, str], Callable[[], Any]] = {
            ("preview", "subscriptions"): lambda: subs_stack.preview(color="never"),
            ("preview", "floor"): lambda: floor.preview(color="never"),
            ("up", "subscriptions"): lambda: subs_stack.up(show_secrets=False, color="never"),
            ("up", "floor"): lambda: floor.up(show_secrets=False, color="never"),
        }
        for _ in range(runs):
            for op, side in NOOP_RUNS:
                subs.sim.clear_request_log()
                started = time.perf_counter()
                result = actions[op, side]()
                seconds = time.perf_counter() - started
                changes = (
                    result.change_summary if op == "preview" else result.summary.resource_changes
                )
                changes = {str(k): v for k, v in (changes or {}).items()}
                # Every resource, and the stack itself, the same.
                assert changes == {"same": count + 1}, (op, side, changes)
                results[f"{op}_{side}"].append(
                    {"seconds": seconds, "api_calls": len(subs.api_calls())}
                )
    return results


def summary_of_noop(runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    med = statistics.median
    summary: dict[str, Any] = {
        f"{key}_seconds": med(run["seconds"] for run in timed_runs)
        for key, timed_runs in runs.items()
    }
    for op in ("preview", "up"):
        summary[f"{op}_vs_floor_ratio"] = (
            summary[f"{op}_subscriptions_seconds"] / summary[f"{op}_floor_seconds"]
        )
        summary[f"{op}_api_calls"] = max(run["api_calls"] for run in runs[f"{op}_subscriptions"])
    return summary


# --- the table ---------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.lifecycle")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument(
        "--change-count",
        type=int,
        default=None,
        help="subscriptions of scenario 4 (default: --count)",
    )
    parser.add_argument(
        "--noop-count",
        type=int,
        default=100,
        help="subscriptions (and floor resources) of scenario 5 (default: 100)",
    )
    parser.add_argument(
        "--only",
        type=int,
        action="append",
        choices=SCENARIOS,
        metavar="N",
        help="run scenario N only (repeatable; default: every one)",
    )
    args = parser.parse_args(argv)
    only = set(args.only or SCENARIOS)
    change_count = args.count if args.change_count is None else args.change_count

    calls = api_calls() if 1 in only else {}
    up_net: list[float] = []
    floor: list[float] = []
    script: list[float] = []
    preview_20: list[float] = []
    preview_1: list[float] = []
    in_place: list[dict[str, Any]] = []
    replacement: list[dict[str, Any]] = []
    for _ in range(args.runs):  # interleaved: candidate and baseline share conditions
        if 2 in only:
            empty, full = up_from_empty(args.count)
            up_net.append(full - empty)
            floor.append(engine_floor(args.count))
            script.append(script_import(args.count))
        if 3 in only:
            preview_20.append(noop_preview(20))
            preview_1.append(noop_preview(1))
        if 4 in only:
            in_place.append(change_all(change_count, "in_place"))
            replacement.append(change_all(change_count, "replacement"))
    # Its two stacks are brought up once, and its runs alternate within.
    noop = noop_against_floor(args.noop_count, args.runs) if 5 in only else {}

    med = statistics.median
    results: dict[str, Any] = {}
    raw: dict[str, Any] = {}
    settings: dict[str, dict[str, int]] = {}
    if 1 in only:
        results["api_calls_20_subscriptions"] = calls
        settings["1"] = {"runs": 1, "count": 20}
    if 2 in only:
        results |= {
            "up_create_seconds_net_of_empty_up": med(up_net),
            "engine_floor_seconds_trivial_dynamic_resources": med(floor),
            "script_import_seconds_10_threads": med(script),
            "up_vs_script_ratio": med(up_net) / med(script),
        }
        raw |= {"up_net": up_net, "floor": floor, "script": script}
        settings["2"] = {"runs": args.runs, "count": args.count}
    if 3 in only:
        results |= {
            "noop_preview_seconds_20": med(preview_20),
            "noop_preview_seconds_1": med(preview_1),
            "noop_preview_20_vs_1_ratio": med(preview_20) / med(preview_1),
        }
        raw |= {"preview_20": preview_20, "preview_1": preview_1}
        settings["3"] = {"runs": args.runs, "count": 20}
    if 4 in only:
        change = {
            "in_place_new_url": summary_of_change(in_place),
            "replacement_new_description": summary_of_change(replacement),
        }
        change["in_place_vs_replacement_ratio"] = (
            change["in_place_new_url"]["seconds"] / change["replacement_new_description"]["seconds"]
        )
        results["change_every_subscription_50ms"] = change
        raw |= {"change_in_place": in_place, "change_replacement": replacement}
        settings["4"] = {"runs": args.runs, "count": change_count}
    if 5 in only:
        results["noop_vs_engine_floor"] = summary_of_noop(noop)
        raw["noop_vs_engine_floor"] = noop
        settings["5"] = {"runs": args.runs, "count": args.noop_count}

    path = RESULTS / "lifecycle.json"
    kept: dict[str, Any] = {}
    if only != set(SCENARIOS) and path.exists():  # keep the scenarios not run this time
        kept = json.loads(path.read_text())
        for stale in ("runs", "count"):  # of the layout before `settings`
            kept.pop(stale, None)
    written = {
        **kept,
        **results,
        "settings": {**kept.get("settings", {}), **settings},
        "raw": {**kept.get("raw", {}), **raw},
    }
    RESULTS.mkdir(exist_ok=True)
    path.write_text(json.dumps(written, indent=2))

    if 1 in only:
        print(f"1. API calls with 20 subscriptions: {calls}  (goal: 0 no-op, <= 20 refresh)")
    if 2 in only:
        print(
            f"2. up creating {args.count} at 50 ms latency, net of an empty up:"
            f" {med(up_net):.2f} s; script with 10 threads: {med(script):.2f} s;"
            f" ratio {results['up_vs_script_ratio']:.2f} (goal <= 1.5)"
        )
        print(
            f"   engine floor: {args.count} dynamic resources calling no API, net of an empty"
            f" up: {med(floor):.2f} s (the Python dynamic-provider server has 4 worker threads)"
        )
    if 3 in only:
        print(
            f"3. no-op preview: 20 subscriptions {med(preview_20):.2f} s, 1 subscription"
            f" {med(preview_1):.2f} s; ratio {results['noop_preview_20_vs_1_ratio']:.2f}"
            " (goal <= 1.3)"
        )
    if 4 in only:
        change = results["change_every_subscription_50ms"]
        print(
            f"4. change every subscription's receiver URL, {change_count} subscriptions at"
            " 50 ms latency, one up (preview + update); wall time only, no CPU measured:"
        )
        for label, key in (
            ("in place (new URL)", "in_place_new_url"),
            ("replacement (new description)", "replacement_new_description"),
        ):
            side = change[key]
            print(
                f"   {label}: {side['seconds']:.2f} s;"
                f" live scenarios at the end: {counts_text(side['live_scenarios'])}"
            )
            print(
                f"     API calls {side['api_calls_total']:g}:"
                f" preview [{counts_text(side['api_calls_preview'])}];"
                f" update [{counts_text(side['api_calls_update'])}]"
            )
        print(f"   ratio in place / replacement: {change['in_place_vs_replacement_ratio']:.2f}")
    if 5 in only:
        noop_summary = results["noop_vs_engine_floor"]
        print(
            f"5. no-op, {args.noop_count} subscriptions against the engine floor"
            f" ({args.noop_count} dynamic resources calling nothing), one CLI run each,"
            f" medians of {args.runs}:"
        )
        for op in ("preview", "up"):
            print(
                f"   {op}: {noop_summary[f'{op}_subscriptions_seconds']:.2f} s against"
                f" {noop_summary[f'{op}_floor_seconds']:.2f} s;"
                f" ratio {noop_summary[f'{op}_vs_floor_ratio']:.2f} (goal <= 1.3);"
                f" Texter API calls {noop_summary[f'{op}_api_calls']} (goal 0)"
            )


if __name__ == "__main__":
    main()
