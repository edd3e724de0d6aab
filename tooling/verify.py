"""`make verify`: per subscription of a stack, its live status and recent deliveries.

    python -m tooling.verify [--runs 5]          # the local stack (`make up`)

Reads the stack's subscriptions from its state, then asks Texter (the contract's list and
scenario-runs endpoints) how each one is doing. Exits 1 when a subscription is missing,
not in its desired status, or its latest delivery failed.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from typing import Any

from texter_webhooks.texter.client import TexterClient
from texter_webhooks.texter.errors import NotFoundError, TexterAPIError
from texter_webhooks.texter.scenario import scenario_status
from tooling.engine import Engine
from tooling.runs import failure_status, is_failed


@dataclass(frozen=True)
class Subscription:
    name: str
    scenario_id: str
    desired_status: str


@dataclass(frozen=True)
class Report:
    subscription: Subscription
    live_status: str
    runs: list[dict[str, Any]]

    @property
    def problems(self) -> list[str]:
        found = []
        if self.live_status == "missing":
            found.append("missing in Texter (run `pulumi refresh` then `pulumi up`)")
        elif self.live_status != self.subscription.desired_status:
            found.append(f"{self.live_status}, wanted {self.subscription.desired_status}")
        if self.runs and is_failed(self.runs[0]):
            found.append("latest delivery failed: " + failure_status(self.runs[0]))
        return found


def subscriptions_in_state(engine: Engine, stack: str) -> list[Subscription]:
    exported = json.loads(engine.cli("stack", "export", "--stack", stack).stdout)
    found = []
    for resource in exported["deployment"].get("resources") or []:
        outputs = resource.get("outputs", {})
        if resource["type"].startswith("pulumi-python:dynamic") and "subscription_id" in outputs:
            found.append(
                Subscription(outputs["resource_name"], resource["id"], outputs.get("status", ""))
            )
    return found


def check(client: TexterClient, subs: list[Subscription], runs: int) -> list[Report]:
    live = {s["_id"]: s for s in client.list_scenarios()}
    reports = []
    for sub in subs:
        scenario = live.get(sub.scenario_id)
        recent: list[dict[str, Any]] = []
        if scenario is not None:
            try:
                recent = sorted(
                    client.list_runs(sub.scenario_id),
                    key=lambda r: r.get("started", 0),
                    reverse=True,
                )[:runs]
            except NotFoundError:
                scenario = None
        status = scenario_status(scenario) if scenario is not None else "missing"
        reports.append(Report(sub, status, recent))
    return reports


def print_reports(reports: list[Report]) -> None:
    print(f"{'subscription':<28} {'scenario':<26} {'status':<9} recent deliveries")
    for report in reports:
        marks = " ".join("FAIL" if is_failed(run) else "ok" for run in report.runs)
        sub = report.subscription
        print(f"{sub.name:<28} {sub.scenario_id:<26} {report.live_status:<9} {marks or '-'}")
        for problem in report.problems:
            print(f"    ! {problem}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tooling.verify", description=__doc__)
    parser.add_argument("--runs", type=int, default=5, help="recent runs to show per subscription")
    args = parser.parse_args(argv)

    from tooling import local_stack  # the local stack's engine, config and secrets

    engine = local_stack.engine()
    subs = subscriptions_in_state(engine, local_stack.STACK)
    if not subs:
        print("no subscriptions in the local stack: run `make up` first")
        return 1
    client = TexterClient(
        local_stack.SIMULATOR.root_url + local_stack.API_PREFIX, local_stack.texter_token()
    )
    try:
        reports = check(client, subs, args.runs)
    except TexterAPIError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print_reports(reports)
    return 1 if any(report.problems for report in reports) else 0


if __name__ == "__main__":
    raise SystemExit(main())
