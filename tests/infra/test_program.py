"""infra/__main__.py itself under mocks: config in, receiver and subscriptions out."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pulumi
import pytest
import yaml
from stack_config import ConfigError

from tests.infra.harness import (
    ALERT,
    API,
    EXCLUSION,
    PROJECT,
    REGION,
    SECRET,
    SECRET_T,
    SERVICE,
    SERVICE_URI,
    SUBSCRIPTION,
    TOPIC,
    Cloud,
    find_text,
)
from texter_webhooks.texter.subscription import SUBSCRIPTION_TYPE
from tooling import infra_program

DYNAMIC = SUBSCRIPTION_TYPE
ROOT = Path(__file__).resolve().parents[2]


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
    cloud.run(infra_program.run)
    service = cloud.one(SERVICE)
    assert service.plain("template")["scaling"]["maxInstanceCount"] == 5
    subscriptions = {r.name: r for r in cloud.of_type(DYNAMIC)}
    assert set(subscriptions) == {"chatAssigned", "newMatchedMessage"}
    for subscription in subscriptions.values():
        # The header form (the default): the URL plain and reviewable, the token secret.
        assert subscription.plain("url") == f"{SERVICE_URI}/hooks"
        assert list(find_text(subscription.inputs["url"], SECRET)) == []
        assert list(find_text(subscription.inputs["url"], "/hooks")) == [("", False)]
        assert list(find_text(subscription.inputs["bearer_token"], SECRET)) == [("", True)]
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
    cloud.run(infra_program.run)
    assert not [r for r in cloud.registrations if r.typ.startswith(("gcp:", "random:"))]
    urls = {r.plain("url") for r in cloud.of_type(DYNAMIC)}
    assert urls == {"http://127.0.0.1:8787/hooks"}
    assert {r.plain("bearer_token") for r in cloud.of_type(DYNAMIC)} == {SECRET}


def test_the_path_form_puts_the_secret_in_a_secret_url(cloud: Cloud, config):
    apply({**config, "texter-webhooks:secretIn": "path"})
    cloud.run(infra_program.run)
    for subscription in cloud.of_type(DYNAMIC):
        assert subscription.plain("url") == f"{SERVICE_URI}/hooks/{SECRET}"
        assert list(find_text(subscription.inputs["url"], SECRET)) == [("", True)]
        assert subscription.inputs.get("bearer_token") is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"gcp:project": ""}, "receiver=cloudrun needs gcp:project and gcp:region"),
        ({"texter-webhooks:maxInstances": "0"}, "maxInstances must be >= 1, got 0"),
        (
            {"texter-webhooks:minInstances": "9"},
            r"^texter-webhooks:minInstances \(9\) must not exceed "
            r"texter-webhooks:maxInstances \(5\)$",
        ),
        ({"texter-webhooks:concurrency": "many"}, "concurrency must be a whole number"),
        ({"texter-webhooks:receiver": "lambda"}, "receiver must be one of local, cloudrun"),
        ({"texter-webhooks:events": '["chatAsigned"]'}, r"events\[0\]: unknown Texter event"),
        (
            {"texter-webhooks:cpu": "500m", "texter-webhooks:concurrency": "80"},
            r"^texter-webhooks:concurrency must be 1 when cpu is below 1",
        ),
        ({"texter-webhooks:cpu": "3"}, r"^texter-webhooks:cpu must be one of 1, 2, 4, 6, 8"),
        ({"texter-webhooks:memory": "64Gi"}, r"^texter-webhooks:memory with cpu 1 must be"),
        (
            {"texter-webhooks:requestTimeoutSeconds": "300"},
            "requestTimeoutSeconds must be between 1 and 60, got 300",
        ),
        ({"texter-webhooks:alertNotificationChannels": '"all"'}, "alertNotificationChannels must"),
        # Refused by ReceiverServiceArgs' own checks, which the stack's config goes through
        # before any resource (the image repository included) is registered.
        ({"texter-webhooks:concurrency": "2000"}, r"^texter-webhooks:concurrency must be"),
        (
            {"texter-webhooks:oldestUnackedAlertSeconds": "30"},
            r"^texter-webhooks:oldestUnackedAlertSeconds must be >= 60, got 30",
        ),
        (
            {"texter-webhooks:alertNotificationChannels": '["all"]'},
            r"^texter-webhooks:alertNotificationChannels must hold projects/",
        ),
        ({"gcp:project": "Not_A_Project"}, r"^gcp:project must be a GCP project id"),
        ({"gcp:region": "moon"}, r"^gcp:region must be a Cloud Run region"),
    ],
)
def test_bad_config_fails_before_any_resource_naming_the_key(cloud: Cloud, config, change, message):
    apply({**config, **change})
    with pytest.raises(ConfigError, match=message):
        infra_program.run()
    assert cloud.registrations == []


def test_a_dev_like_stack_is_ready_for_a_fresh_project(cloud: Cloud, config) -> None:
    apply(config)
    cloud.run(infra_program.run)
    enabled = {r.plain("service") for r in cloud.of_type(API)}
    assert {"run", "secretmanager", "pubsub", "iam"} <= {api.split(".")[0] for api in enabled}
    timeout = cloud.one(SERVICE).plain("template")["timeout"]
    assert int(timeout.removesuffix("s")) <= 60
    (exclusion,) = cloud.of_type(EXCLUSION)
    assert "run.googleapis.com/requests" in exclusion.plain("filter")
    assert not any(r.protect for r in cloud.registrations)  # protect defaults to false


def test_protect_true_protects_topics_subscriptions_secret_and_service(cloud: Cloud, config):
    apply({**config, "texter-webhooks:protect": "true"})
    cloud.run(infra_program.run)
    for kind in (TOPIC, SUBSCRIPTION, SECRET_T, SERVICE):
        assert all(r.protect for r in cloud.of_type(kind)), kind
    assert cloud.one(SERVICE).plain("deletionProtection") is True


def test_a_cloud_run_stack_without_an_image_makes_only_the_repository(cloud: Cloud, config):
    apply({k: v for k, v in config.items() if k != "texter-webhooks:receiverImage"})
    cloud.run(infra_program.run)
    kinds = {r.typ for r in cloud.registrations}
    assert kinds == {
        "texter-webhooks:receiver:ImageRepository",
        API,
        "gcp:artifactregistry/repository:Repository",
    }
    repository = cloud.one("gcp:artifactregistry/repository:Repository")
    policies = {p["action"] for p in repository.plain("cleanupPolicies")}
    assert policies == {"KEEP", "DELETE"}  # bounded: old images go, recent ones stay


@pytest.mark.parametrize("base_url", ["https://acme.texterchat.com/server/api/v2"])
def test_a_real_texter_with_the_default_local_receiver_fails_at_preview(cloud: Cloud, base_url):
    apply(
        {
            "texter:baseUrl": base_url,
            "texter-webhooks:receiverSecret": SECRET,
        }
    )
    with pytest.raises(ConfigError, match=r"^texter-webhooks:receiver is `local`"):
        infra_program.run()
    assert cloud.registrations == []


def test_the_simulator_on_loopback_with_a_local_receiver_is_fine(cloud: Cloud) -> None:
    apply(
        {
            "texter:baseUrl": "http://127.0.0.1:8790/server/api/v2",
            "texter-webhooks:receiverSecret": SECRET,
        }
    )
    cloud.run(infra_program.run)
    assert cloud.of_type(DYNAMIC)


@pytest.mark.parametrize("example", ["Pulumi.dev.yaml.example", "Pulumi.prod.yaml.example"])
def test_the_example_stacks_are_valid_and_prod_is_protected(cloud: Cloud, example: str) -> None:
    values = yaml.safe_load((ROOT / example).read_text())["config"]
    flat = {k: v if isinstance(v, str) else json.dumps(v) for k, v in values.items()}
    pinned = "europe-west1-docker.pkg.dev/p/r/receiver@sha256:" + "ab" * 32
    apply({**flat, "texter-webhooks:receiverImage": pinned})
    cloud.run(infra_program.run)
    service = cloud.one(SERVICE)
    assert service.protect is example.startswith("Pulumi.prod")
    assert bool(cloud.of_type(ALERT)) is example.startswith("Pulumi.prod")


@pytest.mark.parametrize("base_url", ["acme.texterchat.com/server/api/v2", "ftp://acme/x"])
def test_a_texter_base_url_without_http_scheme_is_named_as_such(cloud: Cloud, base_url) -> None:
    apply({"texter:baseUrl": base_url, "texter-webhooks:receiverSecret": SECRET})
    with pytest.raises(ConfigError, match=r"^texter:baseUrl must be an absolute http\(s\) URL"):
        infra_program.run()
    assert cloud.registrations == []


@pytest.mark.parametrize("receiver", ["local", "cloudrun"])
@pytest.mark.parametrize("secret", ["abc/../x?y=1#z", "short", "a" * 20 + ",b/c" + "d" * 20])
def test_a_receiver_secret_the_receiver_would_refuse_fails_naming_the_key(
    cloud: Cloud, config, receiver: str, secret: str
) -> None:
    apply(
        {**config, "texter-webhooks:receiver": receiver, "texter-webhooks:receiverSecret": secret}
    )
    with pytest.raises(
        Exception, match=r"texter-webhooks:receiverSecret: the receiver secret"
    ) as e:
        cloud.run(infra_program.run)
    assert secret not in str(e.value)
    # No subscription got a URL: each waits for the checked secret.
    assert all(r.plain("url") is None for r in cloud.of_type(DYNAMIC))
