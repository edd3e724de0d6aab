"""infra/program.py itself under mocks: config in, receiver and subscriptions out."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pulumi
import pytest

from infra import program
from infra.config import ConfigError
from tests.infra.harness import PROJECT, REGION, SECRET, SERVICE, SERVICE_URI, Cloud, find_text
from texter_webhooks.texter.subscription import SUBSCRIPTION_TYPE

DYNAMIC = SUBSCRIPTION_TYPE


@pytest.fixture
def config() -> Iterator[dict[str, str]]:
    values = {
        "texter-webhooks:receiver": "cloudrun",
        "texter-webhooks:receiverImage": "europe-docker.pkg.dev/p/r/receiver:1",
        "texter-webhooks:receiverSecret": SECRET,
        "texter-webhooks:events": json.dumps(["chatAssigned", "newMatchedMessage"]),
        "texter-webhooks:eventParameters": json.dumps(
            {"newMatchedMessage": {"expression": 'text == "help"'}}
        ),
        "texter-webhooks:maxInstances": "5",
        "gcp:project": PROJECT,
        "gcp:region": REGION,
    }
    yield values
    pulumi.runtime.set_all_config({}, [])


def apply(values: dict[str, str]) -> None:
    pulumi.runtime.set_all_config(values, ["texter-webhooks:receiverSecret"])


def test_cloudrun_stack_wires_the_service_url_into_every_subscription(cloud: Cloud, config):
    apply(config)
    cloud.run(program.main)
    service = cloud.one(SERVICE)
    assert service.plain("template")["scaling"]["maxInstanceCount"] == 5
    subscriptions = {r.name: r for r in cloud.of_type(DYNAMIC)}
    assert set(subscriptions) == {"chatAssigned", "newMatchedMessage"}
    for subscription in subscriptions.values():
        assert subscription.plain("url") == f"{SERVICE_URI}/hooks/{SECRET}"
        assert list(find_text(subscription.inputs["url"], SECRET)) == [("", True)]
    assert subscriptions["newMatchedMessage"].plain("placeholders") == {
        "expression": 'text == "help"'
    }


def test_local_stack_creates_no_cloud_resource(cloud: Cloud, config):
    apply(
        {
            "texter-webhooks:receiver": "local",
            "texter-webhooks:receiverSecret": SECRET,
            "texter-webhooks:localReceiverUrl": "http://127.0.0.1:8787",
        }
    )
    cloud.run(program.main)
    assert not [r for r in cloud.registrations if r.typ.startswith(("gcp:", "random:"))]
    urls = {r.plain("url") for r in cloud.of_type(DYNAMIC)}
    assert urls == {f"http://127.0.0.1:8787/hooks/{SECRET}"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"gcp:project": ""}, "receiver=cloudrun needs gcp:project and gcp:region"),
        ({"texter-webhooks:maxInstances": "0"}, "maxInstances must be at least 1"),
        ({"texter-webhooks:minInstances": "9"}, "minInstances .9. exceeds"),
        ({"texter-webhooks:concurrency": "many"}, "concurrency must be a whole number"),
        ({"texter-webhooks:receiver": "lambda"}, "receiver must be one of local, cloudrun"),
        ({"texter-webhooks:events": '["chatAsigned"]'}, r"events\[0\]: unknown Texter event"),
    ],
)
def test_bad_config_fails_before_any_resource_naming_the_key(cloud: Cloud, config, change, message):
    apply({**config, **change})
    with pytest.raises(ConfigError, match=message):
        program.main()
    assert cloud.registrations == []
