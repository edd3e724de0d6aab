"""Rules a first real `pulumi up` on a fresh project depends on, checked under mocks."""

from __future__ import annotations

import pytest

from tests.infra.harness import (
    ALERT,
    API,
    EXCLUSION,
    SECRET,
    SECRET_T,
    SERVICE,
    SUBSCRIPTION,
    TOPIC,
    Cloud,
    Registration,
    deploy,
    find_text,
)
from texter_webhooks.gcp import ReceiverServiceError

# Which Google API each resource module needs: the test's own reading of Google's docs,
# not the component's list.
API_OF_MODULE = {
    "cloudrunv2": "run.googleapis.com",
    "secretmanager": "secretmanager.googleapis.com",
    "pubsub": "pubsub.googleapis.com",
    "serviceaccount": "iam.googleapis.com",
    "logging": "logging.googleapis.com",
    "monitoring": "monitoring.googleapis.com",
    "artifactregistry": "artifactregistry.googleapis.com",
}
CHANNEL = "projects/acme-texter/notificationChannels/4242"


def needed_api(registration: Registration) -> str | None:
    if not registration.typ.startswith("gcp:") or registration.typ == API:
        return None
    module = registration.typ.split(":")[1].split("/")[0]
    return API_OF_MODULE[module]


def test_every_api_a_resource_needs_is_enabled_before_it(cloud: Cloud) -> None:
    deploy(cloud, alert_channels=[CHANNEL])

    enabled = {r.plain("service"): r for r in cloud.of_type(API)}
    for registration in cloud.registrations:
        api = needed_api(registration)
        if api is None:
            continue
        assert api in enabled, f"{registration.typ} needs {api}"
        assert enabled[api].urn in registration.dependencies, registration.name
    # The Pub/Sub agent's number comes from a project lookup.
    assert "cloudresourcemanager.googleapis.com" in enabled
    assert all(r.plain("disableOnDestroy") is False for r in enabled.values())


def test_cloud_run_s_request_logs_are_excluded_from_storage(cloud: Cloud) -> None:
    deploy(cloud)

    service = cloud.one(SERVICE)
    (exclusion,) = cloud.of_type(EXCLUSION)
    rule = exclusion.plain("filter")
    assert 'log_id("run.googleapis.com/requests")' in rule
    assert f'resource.labels.service_name = "{service.outputs["name"]}"' in rule
    assert 'resource.type = "cloud_run_revision"' in rule
    # The secret reaches Secret Manager only, never a field that ends up in a log.
    assert [
        (r.typ, path) for r in cloud.registrations for path, _ in find_text(r.inputs, SECRET)
    ] == [("gcp:secretmanager/secretVersion:SecretVersion", "secretData")]


@pytest.mark.parametrize("protect", [False, True])
def test_protection_covers_what_holds_data(cloud: Cloud, protect: bool) -> None:
    deploy(cloud, protect=protect)

    holding = [*cloud.of_type(TOPIC), *cloud.of_type(SUBSCRIPTION), cloud.one(SECRET_T)]
    service = cloud.one(SERVICE)
    assert {r.name: r.protect for r in [*holding, service]} == {
        r.name: protect for r in [*holding, service]
    }
    assert service.plain("deletionProtection") is protect


@pytest.mark.parametrize(
    ("sizing", "field"),
    [
        ({"cpu": "500m", "concurrency": 80}, "concurrency"),
        ({"cpu": "3"}, "cpu"),
        ({"memory": "64Gi"}, "memory"),
        ({"cpu": "4", "memory": "512Mi"}, "memory"),
        ({"cpu": "250m", "concurrency": 1, "memory": "1Gi"}, "memory"),
        ({"cpu": "0.05", "concurrency": 1}, "cpu"),
        ({"cpu": "9"}, "cpu"),
        ({"cpu": "a lot"}, "cpu"),
    ],
)
def test_settings_cloud_run_refuses_fail_before_anything_exists(
    cloud: Cloud, sizing: dict, field: str
) -> None:
    with pytest.raises(ReceiverServiceError, match=rf"^ReceiverServiceArgs\.{field} "):
        deploy(cloud, **sizing)
    assert cloud.registrations == []


@pytest.mark.parametrize(
    "sizing",
    [
        {"cpu": "500m", "concurrency": 1, "memory": "1Gi"},
        {"cpu": "1", "memory": "4Gi"},
        {"cpu": "4", "memory": "2Gi", "concurrency": 250},
        {"cpu": "8", "memory": "32Gi"},
    ],
)
def test_settings_cloud_run_accepts_pass(cloud: Cloud, sizing: dict) -> None:
    deploy(cloud, **sizing)
    assert cloud.one(SERVICE)


def test_a_webhook_request_times_out_within_a_minute(cloud: Cloud) -> None:
    deploy(cloud)
    timeout = cloud.one(SERVICE).plain("template")["timeout"]
    assert timeout.endswith("s")
    assert 0 < int(timeout[:-1]) <= 60
    with pytest.raises(ReceiverServiceError, match="request_timeout_seconds"):
        deploy(cloud, request_timeout_seconds=300)


def test_alerts_are_opt_in(cloud: Cloud) -> None:
    deploy(cloud)
    assert cloud.of_type(ALERT) == []
    assert "monitoring.googleapis.com" not in {r.plain("service") for r in cloud.of_type(API)}


def test_alerts_watch_the_backlog_the_dead_letters_and_5xx_answers(cloud: Cloud) -> None:
    alerted = cloud
    deploy(alerted, alert_channels=[CHANNEL])
    policies = alerted.of_type(ALERT)
    filters = [p.plain("conditions")[0]["conditionThreshold"]["filter"] for p in policies]
    events = alerted.one(SUBSCRIPTION, "receiver-events-sub").outputs["name"]
    dead = alerted.one(SUBSCRIPTION, "receiver-dead-letter-sub").outputs["name"]
    service = alerted.one(SERVICE).outputs["name"]
    assert any("oldest_unacked_message_age" in f and events in f for f in filters)
    assert any("num_undelivered_messages" in f and dead in f for f in filters)
    assert any('response_code_class = "5xx"' in f and service in f for f in filters)
    assert all(p.plain("notificationChannels") == [CHANNEL] for p in policies)


def test_a_malformed_notification_channel_is_refused(cloud: Cloud) -> None:
    with pytest.raises(ReceiverServiceError, match="alert_channels"):
        deploy(cloud, alert_channels=["4242"])
