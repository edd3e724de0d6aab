"""Facts two packages must each hold, because one ships without the other (the receiver
image carries no library; the simulator stands in for Texter): the copies agree."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest
import stack_config
import yaml

from receiver import auth as receiver_auth
from receiver import events as receiver_events
from receiver import settings as receiver_settings
from simulator import import_body, routes
from texter_webhooks.gcp import ReceiverServiceArgs, args, naming, receiver_service
from texter_webhooks.gcp.naming import SECRET_PATTERN
from texter_webhooks.texter import catalog, content
from texter_webhooks.texter.client import ROUTES

ROOT = Path(__file__).resolve().parents[2]


def test_the_client_s_routes_are_the_simulator_s() -> None:
    served = {route.name: (route.method, route.path) for route in routes.ROUTES}
    for operation, (method, path) in ROUTES.items():
        assert served[operation] == (method, path), operation


def test_the_urls_the_library_builds_are_the_receiver_s_routes() -> None:
    # The path form (secret after the prefix) and the header form (the plain path).
    assert naming.HOOKS_PREFIX == receiver_auth.HOOKS_PREFIX
    assert naming.HOOKS_PATH == receiver_auth.HOOKS_PATH
    assert naming.hook_url("https://r.example/") == "https://r.example" + receiver_auth.HOOKS_PATH


def test_content_is_hashed_over_the_fields_an_import_body_s_data_may_carry() -> None:
    # Every content key is a key Texter takes in `data`; `version` is the template format.
    assert set(content.CONTENT_KEYS) <= set(import_body.DATA_KEYS)
    assert set(import_body.DATA_KEYS) - set(content.CONTENT_KEYS) <= {
        "version",
        "loops",
        "tags",
        "attachedData",
    }


def test_the_receiver_knows_every_event_the_catalog_subscribes_to() -> None:
    delivered = {
        catalog.lookup(e).template["data"]["actions"][0]["params"]["data"]["eventName"]
        for e in catalog.event_names()
    }
    assert delivered == set(receiver_events.KNOWN_EVENT_NAMES)


def test_the_hold_the_service_sets_is_at_most_the_receiver_s_default() -> None:
    assert receiver_service.RECEIVER_HOLD_SECONDS == receiver_settings.DEFAULT_HOLD_SECONDS


def test_the_secret_format_is_the_receiver_s() -> None:
    assert SECRET_PATTERN.pattern == receiver_settings._SECRET_RE.pattern


def test_the_log_levels_the_service_allows_are_the_receiver_s() -> None:
    assert args.LOG_LEVELS == receiver_settings.LOG_LEVELS


def test_the_secrets_the_url_may_come_from_are_as_many_as_the_receiver_takes() -> None:
    secrets = [f"secret-{n}-0123456789" for n in range(receiver_settings.MAX_SECRETS + 1)]
    assert naming.url_secret(",".join(secrets[:-1])) == secrets[0]
    with pytest.raises(args.ReceiverServiceError):
        naming.url_secret(",".join(secrets))


def test_the_projects_the_service_allows_are_the_ones_the_receiver_s_sink_takes() -> None:
    # args.py checks the project so a bad one fails `pulumi preview`, not the first revision.
    project = args._PROJECT_RE.pattern
    assert receiver_settings._TOPIC_RE.pattern.startswith(f"projects/{project}/topics/")


@pytest.mark.parametrize("project", ["my-project", "abcdef", "a" + "-" * 28 + "1", "p-123456"])
@pytest.mark.parametrize("topic", ["receiver-events-1a2b3c4", "texter_webhooks-events-0f9e8d7"])
def test_the_sink_the_service_sets_is_one_the_receiver_parses(project: str, topic: str) -> None:
    # A project the service allows and a topic as Pulumi auto-names it (`<name>-<7 hex>`),
    # built into RECEIVER_SINK the way the service builds it, parsed by the receiver.
    ReceiverServiceArgs(project=project, region="europe-west1", image="i").validate()
    sink = naming.pubsub_sink(project, topic)
    parsed = receiver_settings.load_settings({"RECEIVER_SINK": sink, "RECEIVER_SECRET": "s" * 16})
    # The topic the receiver publishes to is the one the service outputs (`topic.id`).
    assert parsed.sink == receiver_settings.PubSubSinkSpec(f"projects/{project}/topics/{topic}")


def test_pulumi_yaml_defaults_are_the_program_s() -> None:
    schema = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    defaults = ReceiverServiceArgs(project="p", region="r", image="i")
    by_key = {
        "minInstances": defaults.min_instances,
        "maxInstances": defaults.max_instances,
        "concurrency": defaults.concurrency,
        "cpu": defaults.cpu,
        "memory": defaults.memory,
        "requestTimeoutSeconds": defaults.request_timeout_seconds,
        "protect": defaults.protect,
        "alertNotificationChannels": defaults.alert_channels,
        "oldestUnackedAlertSeconds": defaults.oldest_unacked_alert_seconds,
        **stack_config.DEFAULTS,
    }
    for key, value in by_key.items():
        assert schema[key]["default"] == value, key


def test_every_checked_receiver_setting_is_named_by_its_stack_key() -> None:
    """The program checks a Cloud Run stack's settings with ReceiverServiceArgs' own
    checks: each argument it sets from config maps to a key the CLI knows (Pulumi.yaml)."""
    schema = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    from_config = {f.name for f in fields(stack_config.CloudRunConfig)}
    assert from_config <= {f.name for f in fields(ReceiverServiceArgs)}
    # The image is checked once it exists; protect is a bool, with nothing to check.
    assert set(stack_config.SETTING_OF_ARG) == from_config - {"image", "protect"}
    for setting in stack_config.SETTING_OF_ARG.values():
        namespace, key = setting.split(":")
        assert namespace == "gcp" or key in schema, setting
