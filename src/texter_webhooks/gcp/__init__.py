"""The webhook receiver on Google Cloud Run: service, secret, Pub/Sub, IAM, alerts.

Imports nothing from `texter_webhooks.texter`: a program can run the receiver without
managing subscriptions, and the reverse.
"""

from texter_webhooks.gcp.args import ReceiverServiceArgs, ReceiverServiceError
from texter_webhooks.gcp.images import ImageRepository
from texter_webhooks.gcp.receiver_service import ReceiverService

__all__ = ["ImageRepository", "ReceiverService", "ReceiverServiceArgs", "ReceiverServiceError"]
