"""TexterSubscription: one Texter webhook subscription (a "scenario") as a Pulumi resource."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import Resource

from texter_webhooks.texter.provider import TexterSubscriptionProvider


@dataclass
class TexterSubscriptionArgs:
    """The inputs of a TexterSubscription.

    event: a catalog event name (`texter_webhooks/texter/events/<event>.json`), e.g. "chatAssigned";
        or leave it None and give `template`, a full import body for anything else.
    url: the receiver URL; fills every `{{yourWebhookURL}}`. Usually an Output, often secret.
    display_name / description: default to the template's, the name suffixed `[<stack>]`.
    placeholders: values for the event's other placeholders or parameters, e.g.
        {"expression": 'text == "help"'} for newMatchedMessage.
    status: "active" or "inactive", changed in place.
    on_destroy: "inactivate" (default) or "delete": what `pulumi destroy` does.
    author_uid: the Texter user the changes are attributed to.
    adopt: take over an existing scenario of the same name and content instead of
        importing a new one (how to bring in subscriptions made by hand).
    """

    url: pulumi.Input[str]
    event: str | None = None
    template: Mapping[str, Any] | None = None
    display_name: pulumi.Input[str] | None = None
    description: pulumi.Input[str] | None = None
    placeholders: pulumi.Input[Mapping[str, pulumi.Input[str]]] | None = None
    status: pulumi.Input[str] = "active"
    on_destroy: str = "inactivate"
    author_uid: str | None = None
    adopt: bool = False


# The type 0.1 registered every subscription under; existing stacks move by this alias.
UNNAMED_DYNAMIC_TYPE = "pulumi-python:dynamic:Resource"


class TexterSubscription(Resource, module="texter", name="Subscription"):
    """Creates the subscription on `up`, diffs it field by field, repairs drift after a
    refresh, and inactivates or deletes it on `destroy`.

    Type `pulumi-python:dynamic/texter:Subscription`. The URL is secret whatever is passed
    (it usually carries the receiver's secret): encrypted in state, `[secret]` in previews.
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
        stack = pulumi.get_stack()
        key = f"{pulumi.get_project()}/{stack}/{resource_name}"
        props: dict[str, Any] = {
            "resource_name": resource_name,
            "stack": stack,
            # Identifies this resource's scenarios in Texter; see provider.create.
            "marker": hashlib.sha256(key.encode()).hexdigest()[:16],
            "event": args.event,
            "template": dict(args.template) if args.template is not None else None,
            "url": pulumi.Output.secret(args.url),
            "display_name": args.display_name,
            "description": args.description,
            "placeholders": args.placeholders,
            "status": args.status,
            "on_destroy": args.on_destroy,
            "author_uid": args.author_uid,
            "adopt": args.adopt,
            "body_hash": None,
            "url_fingerprint": None,
            "subscription_id": None,
            "live_status": None,
            "body": None,
            "twins": None,
        }
        opts = pulumi.ResourceOptions.merge(
            opts,
            pulumi.ResourceOptions(
                aliases=[pulumi.Alias(type_=UNNAMED_DYNAMIC_TYPE)],
                additional_secret_outputs=["url", "body"],
            ),
        )
        super().__init__(TexterSubscriptionProvider(), resource_name, props, opts)


# The type token subscriptions register under, as state and previews show it.
SUBSCRIPTION_TYPE = f"pulumi-python:{TexterSubscription._resource_type_name}"
