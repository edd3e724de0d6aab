"""Texter webhook subscriptions as Pulumi resources.

    from texter_webhooks import TexterSubscription, TexterSubscriptionArgs
    from texter_webhooks.gcp import ReceiverService, ReceiverServiceArgs

`texter_webhooks.texter` holds the Texter side (API client, event catalog, the dynamic
provider); `texter_webhooks.gcp` the receiver on Cloud Run. Neither imports the other.
"""

from texter_webhooks.texter.catalog import event_names
from texter_webhooks.texter.errors import AuthError, TemplateError, TexterAPIError
from texter_webhooks.texter.stack import OrphanSweeper, OrphanSweeperArgs, StackIdentity
from texter_webhooks.texter.subscription import TexterSubscription, TexterSubscriptionArgs

__all__ = [
    "AuthError",
    "OrphanSweeper",
    "OrphanSweeperArgs",
    "StackIdentity",
    "TemplateError",
    "TexterAPIError",
    "TexterSubscription",
    "TexterSubscriptionArgs",
    "event_names",
]
