"""The program's wiring: TexterSubscriptions told the Cloud Run receiver's URL."""

from __future__ import annotations

import pulumi
from pulumi.runtime.sync_await import _sync_await

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
        # As infra/__main__.py does it: one receiver, one subscription per event.
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


def test_the_header_form_waits_for_the_service_that_accepts_the_token(cloud: Cloud) -> None:
    new, old = "N3w-secret-0123456789", "0ld-secret-0123456789"

    def program() -> ReceiverService:
        receiver = ReceiverService(
            "receiver",
            ReceiverServiceArgs(
                project=PROJECT,
                region=REGION,
                image=IMAGE,
                receiver_secret=pulumi.Output.secret(f"{new},{old}"),
            ),
        )
        for event in EVENTS:
            TexterSubscription(
                event,
                TexterSubscriptionArgs(
                    url=receiver.hook_url, bearer_token=receiver.bearer_token, event=event
                ),
            )
        return receiver

    receiver = cloud.run(program)

    assert cloud.resolve(receiver.hook_url).value == f"{SERVICE_URI}/hooks"
    assert not cloud.resolve(receiver.hook_url).secret
    service, exclusion = cloud.one(SERVICE), cloud.one(EXCLUSION)
    for subscription in cloud.of_type(DYNAMIC):
        assert subscription.plain("url") == f"{SERVICE_URI}/hooks"
        # While rotating, the token is the new secret, secret in state.
        assert list(find_text(subscription.inputs["bearer_token"], new)) == [("", True)]
        assert list(find_text(subscription.inputs, old)) == []
        # Texter is told the new token only once the service runs with both secrets: a
        # subscription switched before would have its deliveries refused.
        assert {service.urn, exclusion.urn} <= subscription.dependencies
    token_sources = _sync_await(receiver.bearer_token.resources())
    assert service.urn in {_sync_await(r.urn.future()) for r in token_sources}
