"""A wait on create: IAM grants take a while to reach every Google service.

Cloud Run checks, when a revision is created, that its service account may read the
secrets it mounts; a grant made seconds earlier may not have propagated yet, and the first
`pulumi up` then fails. `IamPropagation` sleeps once, when it is created (that is, when
the grants it depends on are new), and never on later runs. A 30-line dynamic resource
rather than pulumiverse-time's Sleep: that would add a provider plugin to download and a
pre-1.0 package to every user's program for one call to time.sleep.
"""

from __future__ import annotations

import time
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, Resource, ResourceProvider


class _SleepOnCreate(ResourceProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        time.sleep(float(props["seconds"]))
        return CreateResult(f"waited-{props['seconds']}s", props)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        # A new grant (its id changed) needs the wait again; nothing else does.
        changed = olds.get("grants") != news.get("grants")
        return DiffResult(changes=changed, replaces=["grants"] if changed else [])


class IamPropagation(Resource, module="gcp", name="IamPropagation"):
    """Waits `seconds` after the `grants` (their ids) are created, once."""

    def __init__(
        self,
        name: str,
        grants: list[pulumi.Input[str]],
        seconds: int,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(_SleepOnCreate(), name, {"grants": grants, "seconds": seconds}, opts)
