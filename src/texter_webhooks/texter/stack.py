"""A stack's identity in Texter, and the sweep of scenarios no resource of it holds.

A create killed before Pulumi records it (SIGKILL, a lost CI runner) may still have its
import land, and a scenario a replacement superseded may be re-activated by hand: both are
active, carry the stack's marker, and no state entry holds them, so no resource's refresh,
update or delete ever sees them. The stack sees them, given two things:

- `StackIdentity`: a key drawn once per stack and kept in its state. Subscriptions given
  it (`TexterSubscriptionArgs.stack_key`) write it into the marker of every scenario they
  make. Random, so two stacks of one name on two backends never share it.
- `OrphanSweeper`: given the key and the ids every subscription holds (so it runs after
  them), it reports on `refresh` every active scenario with the key that none holds
  (`orphans`), and inactivates them on the next `up` and on `destroy`.
- On `destroy` the identity goes last (every subscription depends on it) and inactivates
  whatever active scenario still carries the key, so a run killed before the sweeper
  existed (a stack's first `up`) leaves nothing running either.

Scenarios made before a stack had a key carry none, and a subscription with
`retain_on_delete` is given none (what it retains must outlive the stack): neither is
ever swept.

    identity = StackIdentity("texter-stack")
    subs = [TexterSubscription(e, TexterSubscriptionArgs(..., stack_key=identity.key)) ...]
    OrphanSweeper("texter-orphans", OrphanSweeperArgs(identity.key, [s.subscription_id ...]))
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    UpdateResult,
)

from texter_webhooks.texter import ownership
from texter_webhooks.texter.errors import TexterAPIError
from texter_webhooks.texter.provider import TexterProviderError, TexterSubscriptionProvider
from texter_webhooks.texter.unknowns import contains_unknown

log = logging.getLogger(__name__)


class _Sweeping(TexterSubscriptionProvider):
    """Texter credentials and retirement as the subscriptions' provider has them."""

    def _sweep(self, stack_key: str, *, held: list[str]) -> None:
        """Inactivates every active scenario with the stack's key whose id is not `held`."""
        try:
            scenarios = self.client.list_scenarios()
            for orphan in ownership.unheld_of_stack(stack_key, held, scenarios):
                log.warning(
                    "inactivating %s: it carries this stack's marker, no resource holds it",
                    orphan["_id"],
                )
                self._end(orphan["_id"], "inactivate", None)
        except TexterAPIError as exc:
            raise TexterProviderError(f"orphan sweep: sweep failed: {exc}") from None
        finally:
            self._wrote()


class StackIdentityProvider(_Sweeping):
    """Draws the key in `check` for a new stack, keeps the recorded one ever after. Deleted
    last on `destroy` (every subscription depends on it), it then inactivates whatever
    active scenario still carries the key: none is held any more."""

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        recorded = olds.get("key")
        key = recorded if ownership.is_key(recorded) else ownership.new_key()
        return CheckResult({**news, "key": key}, [])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return DiffResult(changes=olds.get("key") != news.get("key"), replaces=[])

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(f"texter-stack-{props['key']}", dict(props))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, dict(props), dict(props))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(dict(news))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        self._sweep(props["key"], held=[])


class StackIdentity(Resource, module="texter", name="StackIdentity"):
    """The stack's key in Texter's scenario markers (no API call, state only)."""

    key: pulumi.Output[str]

    def __init__(self, resource_name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(StackIdentityProvider(), resource_name, {"key": None}, opts)


@dataclass
class OrphanSweeperArgs:
    """stack_key: `StackIdentity.key`; held: every subscription's `subscription_id`."""

    stack_key: pulumi.Input[str]
    held: pulumi.Input[list[pulumi.Input[str]]]


class OrphanSweeperProvider(_Sweeping):
    """Sweeps after every subscription; reports on refresh what the next `up` sweeps."""

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = []
        if self._config_error:
            failures.append(CheckFailure("texter", self._config_error))
        key = news.get("stack_key")
        if not contains_unknown(key) and not ownership.is_key(key):
            failures.append(CheckFailure("stack_key", "stack_key must be 16 hex digits"))
        return CheckResult(dict(news), failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        # A subscription made, replaced or gone (its id in `held`), or orphans a refresh
        # found: sweep. Nothing else calls Texter, so a no-op `up` stays free.
        changed = [k for k in ("stack_key", "held") if olds.get(k) != news.get(k)]
        if olds.get("orphans"):
            changed.append("orphans")
        return DiffResult(changes=bool(changed), replaces=[])

    def create(self, props: dict[str, Any]) -> CreateResult:
        self._sweep(props["stack_key"], held=props.get("held") or [])
        return CreateResult(f"texter-orphans-{props['stack_key']}", {**props, "orphans": None})

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        self._sweep(news["stack_key"], held=news.get("held") or [])
        return UpdateResult({**news, "orphans": None})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        try:
            scenarios = self.listing.scenarios()
        except TexterAPIError as exc:
            raise TexterProviderError(f"orphan sweep: refresh failed: {exc}") from None
        found = ownership.unheld_of_stack(props["stack_key"], props.get("held") or [], scenarios)
        # In inputs too, so the next preview shows them going (`- orphans: [...]`).
        state = {**props, "orphans": [s["_id"] for s in found] or None}
        return ReadResult(id_, state, state)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        self._sweep(props["stack_key"], held=props.get("held") or [])


class OrphanSweeper(Resource, module="texter", name="OrphanSweeper"):
    """Reports and inactivates the stack's scenarios that no subscription holds."""

    orphans: pulumi.Output[list[str] | None]

    def __init__(
        self,
        resource_name: str,
        args: OrphanSweeperArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {"stack_key": args.stack_key, "held": args.held, "orphans": None}
        super().__init__(OrphanSweeperProvider(), resource_name, props, opts)
