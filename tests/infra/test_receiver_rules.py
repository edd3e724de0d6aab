"""Rules a first real `pulumi up` on a fresh project depends on, checked under mocks."""

from __future__ import annotations

import pytest
from pulumi.output import Unknown
from pulumi.runtime.sync_await import _sync_await

from tests.infra.harness import (
    ALERT,
    API,
    EXCLUSION,
    SECRET,
    SECRET_T,
    SERVICE,
    SUBSCRIPTION,
    SUBSCRIPTION_IAM,
    TOPIC,
    TOPIC_IAM,
    Cloud,
    Registration,
    deploy,
    find_text,
)
from texter_webhooks.gcp import ReceiverServiceError
from texter_webhooks.gcp.limits import memory_mib

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
GET_PROJECT = "gcp:organizations/getProject:getProject"


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


def test_a_first_preview_looks_nothing_up_before_the_apis_exist(first_preview: Cloud) -> None:
    # A fresh project has Cloud Resource Manager off until this stack enables it: the
    # project lookup must wait for the APIs (unknown in preview), not fail the preview.
    deploy(first_preview)

    assert [c.token for c in first_preview.mocks.calls if c.token == GET_PROJECT] == []
    agent_grants = [
        r
        for r in [*first_preview.of_type(TOPIC_IAM), *first_preview.of_type(SUBSCRIPTION_IAM)]
        if r.name.startswith("receiver-dead-letter-")
    ]
    assert len(agent_grants) == 2
    assert all(isinstance(r.inputs["member"], Unknown) for r in agent_grants)


def test_the_url_waits_for_the_request_log_exclusion(cloud: Cloud) -> None:
    # Whoever is given the URL (Texter) calls it; until the exclusion exists, Cloud Run
    # would store each call's URL, secret included, in its request log.
    receiver = deploy(cloud)

    exclusion = cloud.one(EXCLUSION)
    resources = _sync_await(receiver.url.resources())
    assert exclusion.urn in {_sync_await(r.urn.future()) for r in resources}


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
        ({"cpu": "0.079", "concurrency": 1}, "cpu"),
        # Below one CPU the step is 0.001.
        ({"cpu": "0.0805", "concurrency": 1}, "cpu"),
        ({"cpu": "80.5m", "concurrency": 1}, "cpu"),
        ({"cpu": "6", "memory": "3Gi"}, "memory"),
        ({"cpu": "6", "memory": "25Gi"}, "memory"),
        # 4 CPUs need 2 GiB; 2G is 2*10^9 bytes, less than 2 GiB (2^31).
        ({"cpu": "4", "memory": "2G"}, "memory"),
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
        {"cpu": "6", "memory": "4Gi"},
        {"cpu": "6", "memory": "24Gi"},
        {"cpu": "0.08", "concurrency": 1, "memory": "128Mi"},
        {"cpu": "0.125", "concurrency": 1, "memory": "256Mi"},
        {"cpu": "999m", "concurrency": 1, "memory": "1Gi"},
        # 4.2G is 4.2*10^9 bytes, under 1 CPU's 4 GiB; 4.2Gi would be over.
        {"cpu": "1", "memory": "4.2G"},
    ],
)
def test_settings_cloud_run_accepts_pass(cloud: Cloud, sizing: dict) -> None:
    deploy(cloud, **sizing)
    assert cloud.one(SERVICE)


def test_decimal_memory_units_are_powers_of_ten() -> None:
    assert memory_mib("2G") == 2 * 10**9 / 2**20
    assert memory_mib("2Gi") == 2 * 1024
    assert memory_mib("500M") == 500 * 10**6 / 2**20


@pytest.mark.parametrize(
    ("sizing", "environment"),
    [
        ({"cpu": "500m", "concurrency": 1, "memory": "512Mi"}, "EXECUTION_ENVIRONMENT_GEN1"),
        ({"cpu": "0.08", "concurrency": 1, "memory": "128Mi"}, "EXECUTION_ENVIRONMENT_GEN1"),
        # The second generation needs 512 MiB at least, whatever the CPU.
        ({"cpu": "1", "memory": "256Mi"}, "EXECUTION_ENVIRONMENT_GEN1"),
        ({"cpu": "1", "memory": "512Mi"}, None),
        ({"cpu": "2", "memory": "2Gi"}, None),
    ],
)
def test_sizings_only_the_first_generation_runs_ask_for_it(
    cloud: Cloud, sizing: dict, environment: str | None
) -> None:
    deploy(cloud, **sizing)
    assert cloud.one(SERVICE).plain("template").get("executionEnvironment") == environment


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


def test_the_5xx_alert_adds_up_every_revision_and_response_code(cloud: Cloud) -> None:
    # request_count has one series per revision and response code: without a sum, 5xx
    # spread over two revisions (a rollout) or codes (500 and 503) never reach the threshold.
    deploy(cloud, alert_channels=[CHANNEL])

    (condition,) = next(
        p.plain("conditions")
        for p in cloud.of_type(ALERT)
        if p.name == "receiver-alert-receiver-5xx"
    )
    assert condition["conditionThreshold"]["aggregations"] == [
        {
            "alignmentPeriod": "300s",
            "perSeriesAligner": "ALIGN_SUM",
            "crossSeriesReducer": "REDUCE_SUM",
            "groupByFields": ["resource.label.service_name"],
        }
    ]
