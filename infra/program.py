"""The Pulumi program: the receiver, one subscription per configured event, the outputs.

`infra/__main__.py` runs it under the Pulumi CLI; tooling/ runs the same function as an
Automation API inline program.
"""

from __future__ import annotations

from pathlib import Path

import pulumi

from infra import config as stack_config
from infra.receiver_local import LocalReceiver, LocalReceiverArgs
from texter_webhooks import TexterSubscription, TexterSubscriptionArgs
from texter_webhooks.gcp import ReceiverService, ReceiverServiceArgs

# This checkout: the build context of the receiver image when no image is configured.
REPO_ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    cfg = stack_config.load()
    receiver = build_receiver(cfg)
    subscriptions = {
        sub.event: TexterSubscription(
            sub.event,
            TexterSubscriptionArgs(
                url=receiver.url,
                event=sub.event,
                placeholders=dict(sub.placeholders) or None,
                status=cfg.status,
                on_destroy=cfg.on_destroy,
            ),
        )
        for sub in cfg.subscriptions
    }
    pulumi.export("receiverUrl", receiver.url)  # secret: it carries the receiver secret
    pulumi.export("subscriptionIds", {e: s.subscription_id for e, s in subscriptions.items()})
    pulumi.export("subscriptionStatuses", {e: s.live_status for e, s in subscriptions.items()})


def build_receiver(cfg: stack_config.StackConfig) -> LocalReceiver | ReceiverService:
    if cfg.cloudrun is not None:
        cloud = cfg.cloudrun
        service = ReceiverService(
            "receiver",
            ReceiverServiceArgs(
                project=cloud.project,
                region=cloud.region,
                image=cloud.image,
                build_context=None if cloud.image is not None else str(REPO_ROOT),
                receiver_secret=cfg.receiver_secret,
                min_instances=cloud.min_instances,
                max_instances=cloud.max_instances,
                concurrency=cloud.concurrency,
                cpu=cloud.cpu,
                memory=cloud.memory,
            ),
        )
        pulumi.export("receiverTopic", service.topic)
        return service
    if cfg.receiver_secret is None:
        raise stack_config.ConfigError(
            "texter-webhooks:receiverSecret is not set: "
            "`pulumi config set --secret texter-webhooks:receiverSecret <random>`"
        )
    return LocalReceiver(
        "receiver", LocalReceiverArgs(base_url=cfg.local_receiver_url, secret=cfg.receiver_secret)
    )
