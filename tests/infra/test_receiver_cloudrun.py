"""ReceiverService under Pulumi mocks: the resources it asks for, their wiring and IAM."""

from __future__ import annotations

import pytest

from receiver.app import HEALTH_PATH as RECEIVER_HEALTH_PATH
from receiver.settings import DEFAULT_PORT as RECEIVER_PORT
from receiver.settings import Settings, load_settings
from tests.infra.harness import (
    ACCOUNT,
    COMPONENT,
    GENERATED_PASSWORD,
    IAM_PROPAGATION,
    PASSWORD,
    PROJECT,
    PROJECT_NUMBER,
    SECRET,
    SECRET_IAM,
    SECRET_T,
    SECRET_VERSION,
    SERVICE,
    SERVICE_URI,
    SUBSCRIPTION,
    SUBSCRIPTION_IAM,
    TOPIC,
    TOPIC_IAM,
    Cloud,
    Registration,
    deploy,
    find_text,
    unwrap,
)
from texter_webhooks.gcp.receiver_service import ReceiverServiceError

PUBSUB_AGENT = f"serviceAccount:service-{PROJECT_NUMBER}@gcp-sa-pubsub.iam.gserviceaccount.com"


THIRTY_ONE_DAYS = f"{31 * 24 * 3600}s"


def container_of(service: Registration) -> dict:
    (container,) = service.plain("template")["containers"]
    return container


def env_of(service: Registration) -> dict[str, dict]:
    return {env["name"]: env for env in container_of(service)["envs"]}


def receiver_settings_of(service: Registration) -> Settings:
    """What the receiver makes of the container's environment (the secret, a Secret
    Manager reference here, stood in for)."""
    environ = {name: env.get("value", SECRET) for name, env in env_of(service).items()}
    return load_settings(environ)


def test_every_child_is_parented_to_the_component_and_named_once(cloud: Cloud) -> None:
    deploy(cloud)

    component = cloud.one(COMPONENT, "receiver")
    children = [r for r in cloud.registrations if r is not component]
    # Every kind the receiver needs is there; a topic without a subscription would drop
    # what it gets, so each topic has one.
    kinds = {r.typ for r in children}
    assert {ACCOUNT, SECRET_T, SECRET_VERSION, SECRET_IAM, TOPIC, SUBSCRIPTION, SERVICE} <= kinds
    topics = {f"projects/{PROJECT}/topics/{t.outputs['name']}" for t in cloud.of_type(TOPIC)}
    assert {s.plain("topic") for s in cloud.of_type(SUBSCRIPTION)} == topics
    assert len({(r.typ, r.name) for r in children}) == len(children)
    assert all(r.parent == component.urn for r in children), [
        (r.typ, r.name) for r in children if r.parent != component.urn
    ]


def test_receiver_sink_names_the_events_topic(cloud: Cloud) -> None:
    receiver = deploy(cloud)

    publisher = next(r for r in cloud.of_type(TOPIC_IAM) if r.name == "receiver-events-publisher")
    events = cloud.one(TOPIC, "receiver-events")
    topic_name = events.outputs["name"]
    assert publisher.plain("topic") == topic_name
    sink = f"pubsub:projects/{PROJECT}/topics/{topic_name}"
    assert env_of(cloud.one(SERVICE))["RECEIVER_SINK"]["value"] == sink
    assert cloud.resolve(receiver.sink).value == sink
    assert cloud.resolve(receiver.topic).value == f"projects/{PROJECT}/topics/{topic_name}"


def test_receiver_secret_comes_from_secret_manager_never_a_plain_value(cloud: Cloud) -> None:
    deploy(cloud)

    secret_env = env_of(cloud.one(SERVICE))["RECEIVER_SECRET"]
    assert "value" not in secret_env
    ref = secret_env["valueSource"]["secretKeyRef"]
    assert ref["secret"] == cloud.one(SECRET_T).outputs["secretId"]
    # Pinned to the version this deployment wrote, so a new secret rolls a new revision.
    assert ref["version"] == cloud.one(SECRET_VERSION).outputs["version"]


def test_service_waits_for_its_grants_to_propagate_before_the_first_revision(
    cloud: Cloud,
) -> None:
    deploy(cloud, iam_propagation_seconds=45)

    service = cloud.one(SERVICE)
    accessor = cloud.one(SECRET_IAM)
    publisher = cloud.one(TOPIC_IAM, "receiver-events-publisher")
    wait = cloud.one(IAM_PROPAGATION)
    assert {accessor.urn, publisher.urn, wait.urn} <= service.dependencies
    assert {accessor.urn, publisher.urn} <= wait.dependencies
    assert wait.plain("seconds") == 45


def test_service_account_gets_publisher_on_the_events_topic_and_nothing_else(
    cloud: Cloud,
) -> None:
    deploy(cloud)

    member = cloud.one(ACCOUNT).outputs["member"]
    granted = [r for r in cloud.registrations if r.plain("member") == member]
    assert sorted((r.typ, r.plain("role")) for r in granted) == sorted(
        [
            (SECRET_IAM, "roles/secretmanager.secretAccessor"),
            (TOPIC_IAM, "roles/pubsub.publisher"),
        ]
    )
    publisher = next(r for r in granted if r.typ == TOPIC_IAM)
    assert publisher.plain("topic") == cloud.one(TOPIC, "receiver-events").outputs["name"]
    # No project-wide grant of any kind: every IAM resource is scoped to one resource.
    assert not [r for r in cloud.registrations if r.typ.startswith("gcp:projects/iAM")]


def test_secret_accessor_is_scoped_to_the_receiver_secret(cloud: Cloud) -> None:
    deploy(cloud)

    secret = cloud.one(SECRET_T)
    accessor = cloud.one(SECRET_IAM)
    assert accessor.plain("secretId") == f"projects/{PROJECT}/secrets/{secret.outputs['secretId']}"
    assert secret.urn in accessor.dependencies


def test_the_service_takes_unsigned_requests_without_any_allusers_grant(cloud: Cloud) -> None:
    receiver = deploy(cloud)

    service = cloud.one(SERVICE)
    # Texter cannot sign requests; an org with domain-restricted sharing refuses allUsers.
    assert service.plain("invokerIamDisabled") is True
    assert not [r for r in cloud.registrations if "allUsers" in str(unwrap(r.inputs))]
    assert not [r for r in cloud.registrations if r.typ.startswith("gcp:cloudrunv2/serviceIam")]
    assert cloud.resolve(receiver.service_name).value == service.outputs["name"]


def test_dead_letters_go_to_their_own_topic_with_the_pubsub_agent_allowed(cloud: Cloud) -> None:
    receiver = deploy(cloud)

    events = cloud.one(TOPIC, "receiver-events")
    dead = cloud.one(TOPIC, "receiver-dead-letter")
    events_id = f"projects/{PROJECT}/topics/{events.outputs['name']}"
    dead_id = f"projects/{PROJECT}/topics/{dead.outputs['name']}"
    subscription = cloud.one(SUBSCRIPTION, "receiver-events-sub")
    assert subscription.plain("topic") == events_id
    assert subscription.plain("deadLetterPolicy") == {
        "deadLetterTopic": dead_id,
        "maxDeliveryAttempts": 10,
    }
    assert cloud.one(SUBSCRIPTION, "receiver-dead-letter-sub").plain("topic") == dead_id
    assert cloud.resolve(receiver.dead_letter_topic).value == dead_id

    agent_grants = [r for r in cloud.registrations if r.plain("member") == PUBSUB_AGENT]
    assert sorted(
        (r.typ, r.plain("role"), r.plain("topic") or r.plain("subscription")) for r in agent_grants
    ) == [
        (SUBSCRIPTION_IAM, "roles/pubsub.subscriber", subscription.outputs["name"]),
        (TOPIC_IAM, "roles/pubsub.publisher", dead.outputs["name"]),
    ]
    lookups = [c for c in cloud.mocks.calls if c.token == "gcp:organizations/getProject:getProject"]
    assert [c.args.get("projectId") for c in lookups] == [PROJECT]


def test_a_given_project_number_skips_the_lookup(cloud: Cloud) -> None:
    deploy(cloud, project_number="555")

    assert not cloud.mocks.calls
    members = {r.plain("member") for r in cloud.of_type(TOPIC_IAM)}
    assert "serviceAccount:service-555@gcp-sa-pubsub.iam.gserviceaccount.com" in members


def test_a_missing_project_number_is_a_clear_error(cloud: Cloud) -> None:
    cloud.mocks.project_number = None
    with pytest.raises(ReceiverServiceError, match="project_number"):
        deploy(cloud)


def test_url_is_the_service_uri_and_the_secret_and_is_secret(cloud: Cloud) -> None:
    receiver = deploy(cloud)

    url = cloud.resolve(receiver.url)
    assert url.value == f"{SERVICE_URI}/hooks/{SECRET}"
    assert url.secret


@pytest.mark.parametrize("plain_secret", [False, True], ids=["secret-output", "plain-string"])
def test_plaintext_secret_reaches_only_secret_manager(cloud: Cloud, plain_secret: bool) -> None:
    receiver = deploy(cloud, plain_secret=plain_secret)

    found = [
        (r.typ, path, in_secret)
        for r in cloud.registrations
        for path, in_secret in find_text(r.inputs, SECRET)
    ]
    # Only where Secret Manager needs it, and marked secret even if given as a plain str.
    assert found == [(SECRET_VERSION, "secretData", True)]
    assert cloud.resolve(receiver.url).secret


def test_rotation_puts_the_first_secret_in_the_url_and_both_in_secret_manager(
    cloud: Cloud,
) -> None:
    new, old = "N3w-secret-0123456789", "0ld-secret-0123456789"
    receiver = deploy(cloud, secret=f"{new},{old}")

    assert cloud.resolve(receiver.url).value == f"{SERVICE_URI}/hooks/{new}"
    assert cloud.one(SECRET_VERSION).plain("secretData") == f"{new},{old}"


def test_a_secret_the_receiver_would_refuse_fails_without_echoing_it(cloud: Cloud) -> None:
    with pytest.raises(ReceiverServiceError, match="16 to 256 characters") as error:
        deploy(cloud, secret="has/slash-0123456789")
    assert "has/slash" not in str(error.value)
    assert not cloud.of_type(SECRET_VERSION)


def test_without_a_secret_one_is_generated_and_used(cloud: Cloud) -> None:
    receiver = deploy(cloud, secret=None)

    password = cloud.one(PASSWORD)
    assert password.parent == cloud.one(COMPONENT).urn
    assert password.plain("length") == 40
    assert password.plain("special") is False
    version = cloud.one(SECRET_VERSION)
    assert version.plain("secretData") == GENERATED_PASSWORD
    assert list(find_text(version.inputs, GENERATED_PASSWORD)) == [("secretData", True)]
    url = cloud.resolve(receiver.url)
    assert url.value == f"{SERVICE_URI}/hooks/{GENERATED_PASSWORD}"
    assert url.secret


def test_a_given_secret_generates_nothing(cloud: Cloud) -> None:
    deploy(cloud)

    assert not cloud.of_type(PASSWORD)


@pytest.mark.parametrize("name", ["receiver-events-sub", "receiver-dead-letter-sub"])
def test_subscriptions_keep_events_as_long_as_pubsub_allows_and_never_expire(
    cloud: Cloud, name: str
) -> None:
    deploy(cloud)

    subscription = cloud.one(SUBSCRIPTION, name)
    # 31 days, Pub/Sub's maximum: a consumer outage that long loses nothing.
    assert subscription.plain("messageRetentionDuration") == THIRTY_ONE_DAYS
    # ttl "": never deleted; by default a subscription idle 31 days is, backlog and all.
    assert subscription.plain("expirationPolicy") == {"ttl": ""}


def test_body_limit_and_dedup_window_reach_the_receiver(cloud: Cloud) -> None:
    deploy(cloud, max_body_bytes=65536, dedup_window_seconds=90.5)

    settings = receiver_settings_of(cloud.one(SERVICE))
    assert settings.max_body_bytes == 65536
    assert settings.dedup_window_seconds == 90.5


@pytest.mark.parametrize(("timeout", "hold"), [(30, 25), (60, 25), (12, 7), (5, 1)])
def test_the_receiver_holds_a_delivery_within_the_request_timeout(
    cloud: Cloud, timeout: int, hold: float
) -> None:
    deploy(cloud, request_timeout_seconds=timeout)

    settings = receiver_settings_of(cloud.one(SERVICE))
    assert settings.hold_seconds == hold
    assert settings.hold_seconds < timeout


def test_unset_body_limit_and_dedup_window_leave_the_receiver_s_defaults(cloud: Cloud) -> None:
    deploy(cloud)

    env = env_of(cloud.one(SERVICE))
    assert "RECEIVER_MAX_BODY_BYTES" not in env
    assert "RECEIVER_DEDUP_WINDOW_SECONDS" not in env


@pytest.mark.parametrize("probe", ["startupProbe", "livenessProbe"])
def test_probes_ask_the_receiver_s_health_endpoint_on_its_port(cloud: Cloud, probe: str) -> None:
    deploy(cloud)

    container = container_of(cloud.one(SERVICE))
    port = receiver_settings_of(cloud.one(SERVICE)).port
    assert port == RECEIVER_PORT
    assert container["ports"] == {"containerPort": port}
    checks = container[probe]
    assert checks["httpGet"] == {"path": RECEIVER_HEALTH_PATH, "port": port}
    # Bounded: a receiver that never gets healthy (or stops being) is replaced.
    assert checks["failureThreshold"] >= 1
    assert checks["periodSeconds"] >= 1
    assert 1 <= checks["timeoutSeconds"] <= checks["periodSeconds"]
