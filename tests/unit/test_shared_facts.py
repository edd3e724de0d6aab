"""Facts two packages must each hold, because one ships without the other (the receiver
image carries no library; the simulator stands in for Texter): the copies agree."""

from __future__ import annotations

from pathlib import Path

import yaml

from infra import config as stack_config
from receiver import auth as receiver_auth
from receiver import events as receiver_events
from receiver import settings as receiver_settings
from simulator import import_body, routes
from texter_webhooks.gcp import ReceiverServiceArgs, naming, receiver_service
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
