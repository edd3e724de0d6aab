"""Texter subscriptions in a Pulumi program of your own: two events posting to a webhook
URL you already have. `pip install texter-webhooks`, then `pulumi config set texter:baseUrl
...`, `pulumi config set --secret texter:token ...`, `pulumi config set --secret webhookUrl
...`, `pulumi up`."""

import pulumi

from texter_webhooks import TexterSubscription, TexterSubscriptionArgs

config = pulumi.Config()
webhook_url = config.require_secret("webhookUrl")  # secret: it may carry a token

assigned = TexterSubscription(
    "chat-assigned",
    TexterSubscriptionArgs(event="chatAssigned", url=webhook_url),
)
resolved = TexterSubscription(
    "chat-resolved",
    TexterSubscriptionArgs(event="chatResolved", url=webhook_url, on_destroy="delete"),
)

pulumi.export("assignedId", assigned.subscription_id)
pulumi.export("resolvedId", resolved.subscription_id)
