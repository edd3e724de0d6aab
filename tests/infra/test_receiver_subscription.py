"""The program's wiring: TexterSubscriptions told the Cloud Run receiver's URL."""

from __future__ import annotations

import pulumi

from tests.infra.harness import (
    EXCLUSION,
    IMAGE,
    PROJECT,
    REGION,
    SECRET,
    SERVICE,
    SERVICE_URI,
    Cloud,
    find_text,
)
from texter_webhooks.gcp.receiver_service import ReceiverService, ReceiverServiceArgs
from texter_webhooks.texter import TexterSubscription, TexterSubscriptionArgs
from texter_webhooks.texter.subscription import SUBSCRIPTION_TYPE

DYNAMIC = SUBSCRIPTION_TYPE
EVENTS = ("chatAssigned", "chatResolved")


def test_subscriptions_get_the_receiver_url_still_secret(cloud: Cloud) -> None:
    def program() -> ReceiverService:
        # As infra/program.py does it: one receiver, one subscription per event.
        receiver = ReceiverService(
            "receiver",
            ReceiverServiceArgs(
                project=PROJECT,
                region=REGION,
                image=IMAGE,
                receiver_secret=pulumi.Output.secret(SECRET),
            ),
        )
        for event in EVENTS:
            TexterSubscription(event, TexterSubscriptionArgs(url=receiver.url, event=event))
        return receiver

    receiver = cloud.run(program)

    expected = f"{SERVICE_URI}/hooks/{SECRET}"
    assert cloud.resolve(receiver.url).value == expected
    service = cloud.one(SERVICE)
    exclusion = cloud.one(EXCLUSION)
    subscriptions = cloud.of_type(DYNAMIC)
    assert sorted(r.name for r in subscriptions) == sorted(EVENTS)
    for subscription in subscriptions:
        assert subscription.plain("event") == subscription.name
        assert subscription.plain("url") == expected
        # Secret on its way into the subscription's state, not only as our Output.
        assert list(find_text(subscription.inputs["url"], SECRET)) == [("", True)]
        # Texter learns the URL only once the service exists (and takes its requests)
        # and Cloud Run's request logs, which would record the secret, are excluded.
        assert {service.urn, exclusion.urn} <= subscription.dependencies
