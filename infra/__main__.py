"""The Pulumi program: the receiver, one Texter subscription per configured event, and the
stack's outputs.

`pulumi up` runs this file (Pulumi.yaml: `main: infra/`) with this folder on `sys.path`,
so its siblings import by their own names. tooling/infra_program.py runs it the same way
as an Automation API inline program.
"""

import pulumi
import stack_config
from local_receiver import LocalReceiver, LocalReceiverArgs

from texter_webhooks import (
    OrphanSweeper,
    OrphanSweeperArgs,
    StackIdentity,
    TexterSubscription,
    TexterSubscriptionArgs,
)
from texter_webhooks.gcp import ImageRepository, ReceiverService

# --- configuration: read and checked in one place (stack_config.py) ----------------------

cfg = stack_config.load()
cloud = cfg.cloudrun

# --- the receiver -----------------------------------------------------------------------

images: ImageRepository | None = None
receiver: LocalReceiver | ReceiverService | None = None
if cloud is None:
    receiver = LocalReceiver(
        "receiver",
        LocalReceiverArgs(base_url=cfg.local_receiver_url, secret=cfg.require_receiver_secret()),
    )
else:
    images = ImageRepository("receiver-images", project=cloud.project, region=cloud.region)
    if cloud.image is None:
        # The first `up` of a Cloud Run stack: the repository exists after it; then
        # scripts/push-receiver-image builds, pushes and pins the image.
        pulumi.log.warn(
            "texter-webhooks:receiverImage is not set: this `up` makes the image repository "
            "only. Then `scripts/push-receiver-image <stack>` and `pulumi up` again for the "
            "receiver and the subscriptions."
        )
    else:
        receiver = ReceiverService("receiver", cloud.receiver_args(cfg.receiver_secret))

# --- the subscriptions, once there is a receiver to post to ------------------------------

subscriptions: dict[str, TexterSubscription] = {}
if receiver is not None:
    # The header form sends the secret as `Authorization: Bearer`: the URL is plain, so
    # previews show it. The receiver takes both forms, so moving between them is an
    # in-place update of each subscription with no delivery refused.
    in_header = cfg.secret_in_header
    # The stack's key in every marker, and the sweep of what an interrupted run left.
    identity = StackIdentity("texter-stack")
    for sub in cfg.subscriptions:
        subscriptions[sub.event] = TexterSubscription(
            sub.event,
            TexterSubscriptionArgs(
                url=receiver.hook_url if in_header else receiver.url,
                bearer_token=receiver.bearer_token if in_header else None,
                event=sub.event,
                placeholders=dict(sub.placeholders) or None,
                status=cfg.status,
                on_destroy=cfg.on_destroy,
                stack_key=identity.key,
            ),
        )
    OrphanSweeper(
        "texter-orphans",
        OrphanSweeperArgs(identity.key, [s.subscription_id for s in subscriptions.values()]),
    )

# --- outputs ----------------------------------------------------------------------------

if images is not None:
    pulumi.export("imageRepository", images.path)
if receiver is not None:
    pulumi.export("receiverUrl", receiver.url)  # secret: it carries the receiver secret
    pulumi.export("receiverHookUrl", receiver.hook_url)  # plain: the header form's URL
    pulumi.export("subscriptionIds", {e: s.subscription_id for e, s in subscriptions.items()})
    pulumi.export("subscriptionStatuses", {e: s.live_status for e, s in subscriptions.items()})
if isinstance(receiver, ReceiverService):
    # What a consumer stack needs, by StackReference.
    pulumi.export("receiverTopic", receiver.topic)
    pulumi.export("receiverSubscription", receiver.subscription)
    pulumi.export("receiverDeadLetterSubscription", receiver.dead_letter_subscription)
    pulumi.export("receiverServiceAccount", receiver.service_account_email)
    pulumi.export("receiverService", receiver.service_name)
