"""The Pulumi program: the receiver, one subscription per configured event, the outputs.

`infra/__main__.py` runs it under the Pulumi CLI; tooling/ runs the same function as an
Automation API inline program.
"""

from __future__ import annotations

import pulumi

from infra import config as stack_config
from infra.receiver_local import LocalReceiver, LocalReceiverArgs
from texter_webhooks import (
    OrphanSweeper,
    OrphanSweeperArgs,
    StackIdentity,
    TexterSubscription,
    TexterSubscriptionArgs,
)
from texter_webhooks.gcp import ImageRepository, ReceiverService, ReceiverServiceArgs


def main() -> None:
    cfg = stack_config.load()
    receiver = build_receiver(cfg)
    if receiver is None:
        return
    # The header form sends the secret as `Authorization: Bearer`: the URL is plain, so
    # previews show it. The receiver takes both forms, so moving between them is an
    # in-place update of each subscription with no delivery refused.
    in_header = cfg.secret_in_header
    # The stack's key in every marker, and the sweep of what an interrupted run left.
    identity = StackIdentity("texter-stack")
    subscriptions = {
        sub.event: TexterSubscription(
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
        for sub in cfg.subscriptions
    }
    OrphanSweeper(
        "texter-orphans",
        OrphanSweeperArgs(identity.key, [s.subscription_id for s in subscriptions.values()]),
    )
    pulumi.export("receiverUrl", receiver.url)  # secret: it carries the receiver secret
    pulumi.export("receiverHookUrl", receiver.hook_url)  # plain: the header form's URL
    pulumi.export("subscriptionIds", {e: s.subscription_id for e, s in subscriptions.items()})
    pulumi.export("subscriptionStatuses", {e: s.live_status for e, s in subscriptions.items()})


def build_receiver(cfg: stack_config.StackConfig) -> LocalReceiver | ReceiverService | None:
    """The receiver of this stack; None while a Cloud Run stack has no image yet."""
    if cfg.cloudrun is not None:
        return cloud_run_receiver(cfg, cfg.cloudrun)
    if cfg.receiver_secret is None:
        raise stack_config.ConfigError(
            "texter-webhooks:receiverSecret is not set: "
            "`pulumi config set --secret texter-webhooks:receiverSecret <random>`"
        )
    return LocalReceiver(
        "receiver", LocalReceiverArgs(base_url=cfg.local_receiver_url, secret=cfg.receiver_secret)
    )


def cloud_run_receiver(
    cfg: stack_config.StackConfig, cloud: stack_config.CloudRunConfig
) -> ReceiverService | None:
    images = ImageRepository("receiver-images", project=cloud.project, region=cloud.region)
    pulumi.export("imageRepository", images.path)
    if cloud.image is None:
        # The first `up` of a stack: the repository exists after it, then
        # scripts/push-receiver-image builds, pushes and pins the image.
        pulumi.log.warn(
            "texter-webhooks:receiverImage is not set: this `up` makes the image repository "
            "only. Then `scripts/push-receiver-image <stack>` and `pulumi up` again for the "
            "receiver and the subscriptions."
        )
        return None
    service = ReceiverService(
        "receiver",
        ReceiverServiceArgs(
            project=cloud.project,
            region=cloud.region,
            image=cloud.image,
            receiver_secret=cfg.receiver_secret,
            min_instances=cloud.min_instances,
            max_instances=cloud.max_instances,
            concurrency=cloud.concurrency,
            cpu=cloud.cpu,
            memory=cloud.memory,
            request_timeout_seconds=cloud.request_timeout_seconds,
            protect=cloud.protect,
            alert_channels=cloud.alert_channels,
            oldest_unacked_alert_seconds=cloud.oldest_unacked_alert_seconds,
        ),
    )
    # What a consumer stack needs, by StackReference.
    pulumi.export("receiverTopic", service.topic)
    pulumi.export("receiverSubscription", service.subscription)
    pulumi.export("receiverDeadLetterSubscription", service.dead_letter_subscription)
    pulumi.export("receiverServiceAccount", service.service_account_email)
    pulumi.export("receiverService", service.service_name)
    return service
