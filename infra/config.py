"""The stack's configuration, read and checked in one place.

Every problem names the config key it comes from, so `pulumi preview` fails with
`texter-webhooks:events[1]: ...` rather than deep inside a resource.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi

from texter_webhooks.texter.catalog import lookup
from texter_webhooks.texter.errors import TemplateError

PROJECT = "texter-webhooks"
RECEIVERS = ("local", "cloudrun")
STATUSES = ("active", "inactive")
ON_DESTROY = ("inactivate", "delete")


class ConfigError(pulumi.RunError):
    """A stack config value is missing or wrong; reported without a traceback."""


@dataclass(frozen=True)
class SubscriptionConfig:
    event: str
    placeholders: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CloudRunConfig:
    """Where and how the receiver runs on Cloud Run (receiver=cloudrun)."""

    project: str
    region: str
    image: str | None
    min_instances: int
    max_instances: int
    concurrency: int
    cpu: str
    memory: str


@dataclass(frozen=True)
class StackConfig:
    receiver: str
    local_receiver_url: str
    receiver_secret: pulumi.Output[str] | None
    subscriptions: tuple[SubscriptionConfig, ...]
    status: str
    on_destroy: str
    cloudrun: CloudRunConfig | None = None


def load() -> StackConfig:
    config = pulumi.Config(PROJECT)
    receiver = _choice(config, "receiver", RECEIVERS, default="local")
    events = config.get_object("events") or ["chatAssigned", "chatResolved"]
    parameters = config.get_object("eventParameters") or {}
    return StackConfig(
        receiver=receiver,
        local_receiver_url=(config.get("localReceiverUrl") or "http://127.0.0.1:8787").rstrip("/"),
        receiver_secret=config.get_secret("receiverSecret"),
        subscriptions=parse_subscriptions(events, parameters),
        status=_choice(config, "subscriptionStatus", STATUSES, default="active"),
        on_destroy=_choice(config, "onDestroy", ON_DESTROY, default="inactivate"),
        cloudrun=_cloudrun(config) if receiver == "cloudrun" else None,
    )


def _cloudrun(config: pulumi.Config) -> CloudRunConfig:
    gcp = pulumi.Config("gcp")
    project, region = gcp.get("project"), gcp.get("region")
    if not project or not region:
        raise ConfigError(
            "receiver=cloudrun needs gcp:project and gcp:region "
            "(`pulumi config set gcp:project <id>`, `pulumi config set gcp:region europe-west1`)"
        )
    sizes = {
        key: _positive_int(config, key, default)
        for key, default in (("minInstances", 0), ("maxInstances", 3), ("concurrency", 80))
    }
    if sizes["minInstances"] > sizes["maxInstances"]:
        raise ConfigError(
            f"{PROJECT}:minInstances ({sizes['minInstances']}) exceeds "
            f"{PROJECT}:maxInstances ({sizes['maxInstances']})"
        )
    return CloudRunConfig(
        project=project,
        region=region,
        image=config.get("receiverImage") or None,
        min_instances=sizes["minInstances"],
        max_instances=sizes["maxInstances"],
        concurrency=sizes["concurrency"],
        cpu=config.get("cpu") or "1",
        memory=config.get("memory") or "512Mi",
    )


def _positive_int(config: pulumi.Config, key: str, default: int) -> int:
    """A whole number from config; minInstances may be 0 (scale to zero), others not."""
    minimum = 0 if key == "minInstances" else 1
    raw = config.get(key)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{PROJECT}:{key} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{PROJECT}:{key} must be at least {minimum}, got {value}")
    return value


def parse_subscriptions(events: Any, parameters: Any) -> tuple[SubscriptionConfig, ...]:
    """`events` is a list of catalog event names; `eventParameters` maps an event to the
    values of its placeholders, e.g. {"newMatchedMessage": {"expression": "text == \\"hi\\""}}."""
    if not isinstance(events, list) or not events:
        raise ConfigError(f"{PROJECT}:events must be a non-empty list of Texter event names")
    if not isinstance(parameters, dict):
        raise ConfigError(f"{PROJECT}:eventParameters must be an object of event -> values")
    seen: set[str] = set()
    subscriptions = []
    for index, event in enumerate(events):
        where = f"{PROJECT}:events[{index}]"
        if not isinstance(event, str):
            raise ConfigError(f"{where}: expected an event name, got {event!r}")
        try:
            lookup(event)
        except TemplateError as exc:
            raise ConfigError(f"{where}: {exc}") from None
        if event in seen:
            raise ConfigError(f"{where}: {event} is listed twice")
        seen.add(event)
        values = parameters.get(event, {})
        if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
            raise ConfigError(
                f"{PROJECT}:eventParameters.{event} must map placeholder names to strings"
            )
        subscriptions.append(SubscriptionConfig(event, values))
    unused = sorted(set(parameters) - seen)
    if unused:
        raise ConfigError(
            f"{PROJECT}:eventParameters has values for {', '.join(unused)}, "
            "which are not in texter-webhooks:events"
        )
    return tuple(subscriptions)


def _choice(config: pulumi.Config, key: str, allowed: tuple[str, ...], *, default: str) -> str:
    value = config.get(key) or default
    if value not in allowed:
        raise ConfigError(f"{PROJECT}:{key} must be one of {', '.join(allowed)}, got {value!r}")
    return value
