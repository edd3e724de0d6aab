"""Everything Texter: API client, event catalog, body rendering and the subscription
resource. Nothing here imports GCP."""

from texter_webhooks.texter.stack import OrphanSweeper, OrphanSweeperArgs, StackIdentity
from texter_webhooks.texter.subscription import TexterSubscription, TexterSubscriptionArgs

__all__ = [
    "OrphanSweeper",
    "OrphanSweeperArgs",
    "StackIdentity",
    "TexterSubscription",
    "TexterSubscriptionArgs",
]
