"""`make deliveries`: the failed deliveries of a stack's subscriptions since a given time.

    python -m tooling.deliveries --stack dev --since 2h     # texter:baseUrl / texter:token
    python -m tooling.deliveries --since 2024-05-01T08:00Z  # TEXTER_BASE_URL / TEXTER_TOKEN

Texter documents no retries: a delivery the receiver did not acknowledge with a 2xx is lost,
and its only trace is a failed Scenario Run in Texter. This reads each subscription's runs
(List Scenario Runs, scope View scenarios runs) and prints every failed one since `--since`
(default 24h): its time, trigger event and HTTP status (or the error when Texter recorded
no status). Runs whose conditions filtered the event out are not failures.

Which subscriptions: with `--stack`, the ids in the stack's `subscriptionIds` output (`pulumi
stack output`); without a stack, or with `--all-managed`, every scenario in the tenant that
carries this project's ownership marker (any stack's). A subscription missing in Texter is
reported too: it delivers nothing.

Exit codes: 0 no failed delivery, 1 failed deliveries (or a missing subscription), 2 the
check could not run or could not read some runs. The token is never printed.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

from texter_webhooks.texter.body import redact_urls
from texter_webhooks.texter.client import RetryPolicy, TexterClient
from texter_webhooks.texter.errors import NotFoundError, TexterAPIError
from texter_webhooks.texter.ownership import is_managed
from texter_webhooks.texter.scenario import scenario_name
from tooling.contract_check import ConfigError, resolve_target, run_user_pulumi
from tooling.runs import FailedDelivery, failed_deliveries, parse_since, runs_since

DEFAULT_SINCE = "24h"


@dataclass(frozen=True)
class Subscription:
    label: str  # the event (stack output key) or the scenario's name
    scenario_id: str


@dataclass
class Report:
    subscription: Subscription
    runs: int = 0
    filtered: int = 0
    failed: list[FailedDelivery] = field(default_factory=list)
    problem: str | None = None  # missing, or the runs could not be read
    unreadable: bool = False


def stack_subscriptions(stack: str) -> list[Subscription]:
    """The `subscriptionIds` output of the stack: {event: scenario id}."""
    stdout = run_user_pulumi(stack, "stack", "output", "subscriptionIds", "--json")
    try:
        ids = json.loads(stdout or "null")
    except ValueError:
        ids = None
    if not isinstance(ids, dict) or not ids:
        raise ConfigError(
            f"stack {stack} has no subscriptionIds output (run `pulumi up` first), "
            "or pass --all-managed to check every managed scenario of the tenant"
        )
    return [Subscription(str(key), str(value)) for key, value in sorted(ids.items()) if value]


def managed_subscriptions(scenarios: list[dict[str, Any]]) -> list[Subscription]:
    return [
        Subscription(scenario_name(s) or str(s["_id"]), str(s["_id"]))
        for s in scenarios
        if is_managed(s) and isinstance(s.get("_id"), str)
    ]


def check(
    client: TexterClient, subscriptions: list[Subscription], since: datetime.datetime
) -> list[Report]:
    reports = []
    for sub in subscriptions:
        report = Report(sub)
        try:
            runs = client.list_runs(sub.scenario_id)
        except NotFoundError:
            report.problem = "missing in Texter: it delivers nothing (run `pulumi up`)"
        except TexterAPIError as exc:
            report.problem = f"could not read its runs: {redact_urls(str(exc))}"
            report.unreadable = True
        else:
            recent = runs_since(runs, since)
            report.runs = len(recent)
            report.filtered = sum(1 for run in recent if run.get("conditionsResult") is False)
            report.failed = failed_deliveries(runs, since)
        reports.append(report)
    return reports


def _time(when: datetime.datetime | None) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ") if when else "time unknown"


def report_lines(reports: list[Report], since: datetime.datetime) -> list[str]:
    lines = []
    for report in reports:
        sub = report.subscription
        if report.problem:
            lines.append(f"{sub.label}  {sub.scenario_id}  ! {report.problem}")
            continue
        counts = f"{report.runs} runs, {report.filtered} filtered, {len(report.failed)} failed"
        lines.append(f"{sub.label}  {sub.scenario_id}  {counts}")
        for failure in report.failed:
            lines.append(
                f"  FAILED  {_time(failure.started)}  {failure.event}  {failure.status}"
                f"  (run {failure.run_id})"
            )
    failed = sum(len(report.failed) for report in reports)
    missing = sum(1 for r in reports if r.problem and not r.unreadable)
    if failed or missing:
        lines.append(
            f"result: {failed} failed deliveries since {_time(since)}"
            + (f", {missing} subscriptions missing" if missing else "")
            + ": Texter documents no retry, so these events never reached the receiver"
        )
    elif any(r.unreadable for r in reports):
        lines.append("result: some runs could not be read (see above)")
    else:
        lines.append(f"result: no failed deliveries since {_time(since)}")
    return lines


def exit_code(reports: list[Report]) -> int:
    if any(report.failed or (report.problem and not report.unreadable) for report in reports):
        return 1
    return 2 if any(report.unreadable for report in reports) else 0


def main(argv: list[str] | None = None, *, out: TextIO | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tooling.deliveries",
        description="Report the failed deliveries of a stack's Texter subscriptions.",
    )
    parser.add_argument(
        "--stack",
        help="read texter:baseUrl/texter:token from this stack's config and the subscription "
        "ids from its subscriptionIds output (else TEXTER_BASE_URL/TEXTER_TOKEN)",
    )
    parser.add_argument(
        "--since",
        default=DEFAULT_SINCE,
        help=f"a duration back from now (30m, 2h, 1d) or an ISO 8601 time; default {DEFAULT_SINCE}",
    )
    parser.add_argument(
        "--all-managed",
        action="store_true",
        help="every scenario carrying this project's marker, not the stack's outputs",
    )
    parser.add_argument(
        "--deadline", type=float, default=30.0, help="seconds per API call, retries included"
    )
    args = parser.parse_args(argv)
    stream = out or sys.stdout
    try:
        since = parse_since(args.since, datetime.datetime.now(tz=datetime.UTC))
        target = resolve_target(args.stack, os.environ)
        client = TexterClient(
            target.base_url,
            target.token,
            policy=RetryPolicy(deadline=args.deadline),
            user_agent="texter-webhooks-deliveries",
        )
    except (ConfigError, ValueError) as exc:
        print(f"deliveries: {exc}", file=sys.stderr)
        return 2

    def say(line: str) -> None:
        # A tenant's error text is Texter's to write: never let it echo the token.
        print(line.replace(target.token, "***"), file=stream, flush=True)

    return _run(client, args, since, target.source, say)


def _run(
    client: TexterClient,
    args: argparse.Namespace,
    since: datetime.datetime,
    source: str,
    say: Callable[[str], None],
) -> int:
    try:
        if args.stack and not args.all_managed:
            subscriptions = stack_subscriptions(args.stack)
        else:
            subscriptions = managed_subscriptions(client.list_scenarios())
        say(f"failed deliveries since {_time(since)} in {client.base_url} ({source})")
        if not subscriptions:
            say("no managed subscriptions found")
            return 0
        reports = check(client, subscriptions, since)
    except ConfigError as exc:
        say(f"deliveries: {exc}")
        return 2
    except TexterAPIError as exc:
        say(f"deliveries: {redact_urls(str(exc))}")
        return 2
    for line in report_lines(reports, since):
        say(line)
    return exit_code(reports)


if __name__ == "__main__":
    sys.exit(main())
