"""The receiver running on this machine (the `local` stack): its URL as an Output."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from texter_webhooks.gcp.naming import bearer_token, hook_url, url_secret


@dataclass
class LocalReceiverArgs:
    base_url: str
    secret: pulumi.Input[str]


class LocalReceiver(pulumi.ComponentResource):
    """Same outputs as the Cloud Run receiver: `url` (secret: it carries the receiver
    secret), `hook_url` with `bearer_token` (the header form: the URL plain, the token
    secret) and `sink`, where acknowledged events go."""

    url: pulumi.Output[str]
    hook_url: pulumi.Output[str]
    bearer_token: pulumi.Output[str]
    sink: pulumi.Output[str]

    def __init__(
        self, name: str, args: LocalReceiverArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("texter-webhooks:receiver:LocalReceiver", name, None, opts)
        # "new,old" while rotating: the receiver accepts both, the URL carries the first.
        # Checked by the rule the receiver applies (a path segment of the allowed
        # characters), so no subscription is ever sent a URL the receiver refuses.
        self.url = pulumi.Output.secret(
            pulumi.Output.from_input(args.secret).apply(
                lambda s: f"{args.base_url}/hooks/{url_secret(s)}"
            )
        )
        self.hook_url = pulumi.Output.from_input(hook_url(args.base_url))
        self.bearer_token = pulumi.Output.secret(
            pulumi.Output.from_input(args.secret).apply(bearer_token)
        )
        self.sink = pulumi.Output.from_input("file (see `make status`)")
        self.register_outputs(
            {
                "url": self.url,
                "hook_url": self.hook_url,
                "bearer_token": self.bearer_token,
                "sink": self.sink,
            }
        )
