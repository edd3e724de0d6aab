"""TexterSubscription: one Texter webhook subscription (a "scenario") as a Pulumi resource."""

# No `from __future__ import annotations` here: the SDK reads the output annotations below
# with `typing.get_type_hints` for every resource it registers, which compiles and
# evaluates each one anew when they are strings (0.21 ms a subscription, 0.08 ms when
# they are evaluated once, at class creation).

from dataclasses import fields
from typing import Any

import pulumi
from pulumi.dynamic import Resource

from texter_webhooks.texter.inputs import TexterSubscriptionArgs
from texter_webhooks.texter.provider import OUTPUT_KEYS, TexterSubscriptionProvider

__all__ = ["TexterSubscription", "TexterSubscriptionArgs"]


# The type 0.1 registered every subscription under; existing stacks move by this alias.
UNNAMED_DYNAMIC_TYPE = "pulumi-python:dynamic:Resource"


class TexterSubscription(Resource, module="texter", name="Subscription"):
    """Creates the subscription on `up`, diffs it field by field, repairs drift after a
    refresh, and inactivates or deletes it on `destroy`.

    Type `pulumi-python:dynamic/texter:Subscription`. The receiver's secret is encrypted in
    state and `[secret]` in previews: `bearer_token` always, and the URL when no bearer token
    is given (it then carries the secret in its path).
    """

    # Every output is declared here: undeclared ones never reach the program.
    subscription_id: pulumi.Output[str]
    live_status: pulumi.Output[str]
    body_hash: pulumi.Output[str]
    url_fingerprint: pulumi.Output[str]
    body: pulumi.Output[dict[str, Any]]
    # Active scenarios with this one's own marker that refresh found (a late import, a
    # copy made in the Texter UI); the next `up` retires them.
    twins: pulumi.Output[list[str] | None]
    url: pulumi.Output[str]
    event: pulumi.Output[str | None]
    status: pulumi.Output[str]
    on_destroy: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        args: TexterSubscriptionArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props: dict[str, Any] = {
            "resource_name": resource_name,
            "stack": pulumi.get_stack(),
            # Identifies this resource's scenarios in Texter: drawn by the provider's
            # check, kept in state (see `ownership`).
            "marker": None,
            "marker_origin": None,
            **{f.name: getattr(args, f.name) for f in fields(TexterSubscriptionArgs)},
            # Derived in `check`, and the outputs: declared so that they reach the program.
            "body_hash": None,
            "url_fingerprint": None,
            **dict.fromkeys(OUTPUT_KEYS),
        }
        if args.bearer_token is None:
            props["url"] = pulumi.Output.secret(args.url)
        else:
            props["bearer_token"] = pulumi.Output.secret(args.bearer_token)
        if opts is not None and opts.retain_on_delete:
            # What it retains must outlive the stack: no key an orphan sweep would find.
            props["stack_key"] = None
        if args.template is not None:
            props["template"] = dict(args.template)
        opts = pulumi.ResourceOptions.merge(
            opts,
            pulumi.ResourceOptions(
                aliases=[pulumi.Alias(type_=UNNAMED_DYNAMIC_TYPE)],
                additional_secret_outputs=["bearer_token", "body"]
                + (["url"] if args.bearer_token is None else []),
            ),
        )
        super().__init__(TexterSubscriptionProvider(), resource_name, props, opts)


# The type token subscriptions register under, as state and previews show it.
SUBSCRIPTION_TYPE = f"pulumi-python:{TexterSubscription._resource_type_name}"
