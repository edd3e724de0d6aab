"""SubscriptionProps: what the provider reads of a subscription's inputs and state, parsed
once from the dict the SDK hands each operation.

The SDK gives a dynamic provider its inputs, and a resource's state, as plain dicts. They
stay dicts at the boundary only: what an operation returns (outputs, state) is built from
the dict it was given, so every key a release recorded is kept as it was (state made by
earlier releases must refresh, update and destroy with no replacement). The provider's own
steps read this typed value instead: the inputs declared in `inputs.TexterSubscriptionArgs`,
what the resource adds (`resource_name`, `stack`, the `marker` check draws) and the
outputs an update reads back (`twins`, `drifted`).

Values are taken as given, never converted nor validated: `check` validated them before
any state entry recorded them, so `parse` never raises, and an operation behaves exactly
as it did on the dict. During a preview an input may still be unknown (`unknowns`): check
and diff parse only once what they read of it is known, or stood in for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, cast

from texter_webhooks.texter.body import BodySpec
from texter_webhooks.texter.inputs import ALL_INPUTS

# Inputs the import body is rendered from (content, and attribution).
BODY_KEYS = tuple(f.name for f in fields(BodySpec) if f.name in ALL_INPUTS)


@dataclass(frozen=True)
class SubscriptionProps:
    """A subscription's inputs (and the outputs an update reads), as the provider reads
    them. `status`, `marker` and `resource_name` are always present in inputs check
    returned; `stack` is None only for inputs without one (never this release's)."""

    resource_name: str
    stack: str | None
    # The resource's ownership key (`ownership.resource_key`), drawn by check.
    marker: str
    url: str | None
    bearer_token: str | None
    event: str | None
    template: Mapping[str, Any] | None
    display_name: str | None
    description: str | None
    placeholders: Mapping[str, str] | None
    status: str
    on_destroy: str
    author_uid: str | None
    adopt: bool
    stack_key: str | None
    # Outputs refresh records and the next update acts on.
    twins: tuple[str, ...]
    drifted: tuple[str, ...]

    @classmethod
    def parse(cls, props: Mapping[str, Any]) -> SubscriptionProps:
        """The typed view of `props`, read as the provider always read the dict: a
        missing `on_destroy` is "inactivate", `adopt` is its truth, no `twins` or
        `drifted` is none. `marker` and `status` are taken as check left them (it draws the
        one and refuses inputs without the other)."""
        return cls(
            resource_name=props.get("resource_name", "?"),
            stack=props.get("stack"),
            marker=cast(str, props.get("marker")),
            url=props.get("url"),
            bearer_token=props.get("bearer_token"),
            event=props.get("event"),
            template=props.get("template"),
            display_name=props.get("display_name"),
            description=props.get("description"),
            placeholders=props.get("placeholders"),
            status=cast(str, props.get("status")),
            on_destroy=props.get("on_destroy", "inactivate"),
            author_uid=props.get("author_uid"),
            adopt=bool(props.get("adopt")),
            stack_key=props.get("stack_key"),
            twins=_names(props.get("twins")),
            drifted=_names(props.get("drifted")),
        )

    @property
    def stack_name(self) -> str:
        """The stack the body is rendered for. KeyError for inputs without one, as reading
        the dict's `stack` raised: callers that tolerate it take such inputs as ones this
        code cannot render."""
        if self.stack is None:
            raise KeyError("stack")
        return self.stack

    def spec(self, **stand_ins: Any) -> BodySpec:
        """The body spec these inputs render to, with `stand_ins` in place of some of them
        (content is rendered as if active; a preview stands in for an unknown URL). An
        input that is None takes BodySpec's default."""
        values = {key: getattr(self, key) for key in BODY_KEYS} | stand_ins
        return BodySpec(**{key: value for key, value in values.items() if value is not None})

    @property
    def event_label(self) -> str:
        """What an error calls the subscription's kind."""
        return str(self.event or "custom template")


def _names(value: Any) -> tuple[str, ...]:
    """A recorded list of ids or field names; none for None (or anything else)."""
    return tuple(value) if isinstance(value, list | tuple) else ()


__all__ = ["BODY_KEYS", "SubscriptionProps"]
