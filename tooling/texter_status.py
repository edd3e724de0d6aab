"""Every scenario this project manages in a Texter (the ones whose description carries
its marker), with its live status. Exits 1 while any of them is active.

    python -m tooling.texter_status <base URL> <token>

docs/engine.md's own-CLI script ends with it: after `pulumi destroy` nothing may be left live.
"""

from __future__ import annotations

import argparse
import sys

from texter_webhooks.texter.client import RetryPolicy, TexterClient
from texter_webhooks.texter.errors import TexterAPIError
from texter_webhooks.texter.ownership import is_managed
from texter_webhooks.texter.scenario import scenario_name, scenario_status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tooling.texter_status", description=__doc__)
    parser.add_argument("base_url", help="e.g. https://<project>.texterchat.com/server/api/v2")
    parser.add_argument("token", help="an API token with the View scenarios scope")
    args = parser.parse_args(argv)
    client = TexterClient(args.base_url, args.token, policy=RetryPolicy(deadline=30))
    try:
        scenarios = client.list_scenarios()
    except TexterAPIError as exc:
        print(f"texter_status: {exc}", file=sys.stderr)
        return 2
    managed = [s for s in scenarios if is_managed(s)]
    for scenario in managed:
        print(f"{scenario['_id']}  {scenario_status(scenario):8}  {scenario_name(scenario)}")
    active = [s for s in managed if scenario_status(s) == "active"]
    print(f"{len(managed)} managed scenarios, {len(active)} active")
    return 1 if active else 0


if __name__ == "__main__":
    sys.exit(main())
