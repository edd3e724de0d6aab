"""Texter subscriptions in a Pulumi program of your own: two events posting to a webhook
endpoint you already have, its secret sent as a bearer token. From this folder:
`python -m venv venv && venv/bin/pip install -r requirements.txt` (the library from this
checkout), `pulumi stack init dev`, `pulumi config set texter:baseUrl ...`,
`pulumi config set --secret texter:token ...`, `pulumi config set webhookUrl ...`,
`pulumi config set --secret webhookToken ...`, `pulumi up`."""

import pulumi

from texter_webhooks import (
    OrphanSweeper,
    OrphanSweeperArgs,
    StackIdentity,
    TexterSubscription,
    TexterSubscriptionArgs,
)

config = pulumi.Config()
webhook_url = config.require("webhookUrl")  # plain: shown in previews
webhook_token = config.require_secret("webhookToken")  # sent as `Authorization: Bearer`

# The stack's key in every scenario's marker, so what an interrupted run leaves is swept.
identity = StackIdentity("texter-stack")
assigned = TexterSubscription(
    "chat-assigned",
    TexterSubscriptionArgs(
        event="chatAssigned", url=webhook_url, bearer_token=webhook_token, stack_key=identity.key
    ),
)
resolved = TexterSubscription(
    "chat-resolved",
    TexterSubscriptionArgs(
        event="chatResolved",
        url=webhook_url,
        bearer_token=webhook_token,
        stack_key=identity.key,
        on_destroy="delete",
    ),
)
OrphanSweeper(
    "texter-orphans",
    OrphanSweeperArgs(identity.key, [assigned.subscription_id, resolved.subscription_id]),
)

pulumi.export("assignedId", assigned.subscription_id)
pulumi.export("resolvedId", resolved.subscription_id)
