"""The stack's configuration, read and checked in one place.

Every problem names the config key it comes from, so `pulumi preview` fails with
`texter-webhooks:events[1]: ...` rather than deep inside a resource.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import urlsplit

import pulumi

from texter_webhooks.gcp import ReceiverServiceArgs
from texter_webhooks.gcp.args import ReceiverServiceError
from texter_webhooks.gcp.naming import url_secret
from texter_webhooks.texter.catalog import lookup
from texter_webhooks.texter.errors import TemplateError
from texter_webhooks.texter.inputs import ON_DESTROY, STATUSES

PROJECT = "texter-webhooks"
RECEIVERS = ("local", "cloudrun")
# Where a subscription carries the receiver secret: an `Authorization: Bearer` header (the
# URL is then plain and reviewable) or the URL's path (subscriptions of releases before it).
SECRET_PLACES = ("header", "path")
# The program's own defaults, which Pulumi.yaml's schema repeats for the CLI
# (tests/unit/test_shared_facts.py keeps them equal).
DEFAULTS: dict[str, Any] = {
    "receiver": "local",
    "events": ["chatAssigned", "chatResolved"],
    "localReceiverUrl": "http://127.0.0.1:8787",
    "subscriptionStatus": "active",
    "onDestroy": "inactivate",
    "secretIn": "header",
}
# The Cloud Run settings' defaults are ReceiverServiceArgs' own: one place.
_DEFAULTS = ReceiverServiceArgs(project="", region="", image="")


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
    request_timeout_seconds: int
    protect: bool
    alert_channels: list[str]
    oldest_unacked_alert_seconds: int

    def receiver_args(self, receiver_secret: pulumi.Input[str] | None) -> ReceiverServiceArgs:
        """The ReceiverService arguments these settings give (their fields share names)."""
        settings = {f.name: getattr(self, f.name) for f in fields(self)}
        return ReceiverServiceArgs(**settings, receiver_secret=receiver_secret)


@dataclass(frozen=True)
class StackConfig:
    receiver: str
    local_receiver_url: str
    receiver_secret: pulumi.Output[str] | None
    subscriptions: tuple[SubscriptionConfig, ...]
    status: str
    on_destroy: str
    secret_in_header: bool = DEFAULTS["secretIn"] == "header"
    cloudrun: CloudRunConfig | None = None

    def require_receiver_secret(self) -> pulumi.Output[str]:
        """The receiver secret, which the local receiver cannot run without."""
        if self.receiver_secret is None:
            raise ConfigError(
                f"{PROJECT}:receiverSecret is not set: "
                f"`pulumi config set --secret {PROJECT}:receiverSecret <random>`"
            )
        return self.receiver_secret


def load() -> StackConfig:
    config = pulumi.Config(PROJECT)
    receiver = _choice(config, "receiver", RECEIVERS, default=DEFAULTS["receiver"])
    events = config.get_object("events") or list(DEFAULTS["events"])
    parameters = config.get_object("eventParameters") or {}
    local_receiver_url = (config.get("localReceiverUrl") or DEFAULTS["localReceiverUrl"]).rstrip(
        "/"
    )
    if receiver == "local":
        _refuse_a_laptop_for_a_real_texter(local_receiver_url)
    return StackConfig(
        receiver=receiver,
        local_receiver_url=local_receiver_url,
        receiver_secret=_checked_secret(config.get_secret("receiverSecret")),
        subscriptions=parse_subscriptions(events, parameters),
        status=_choice(
            config, "subscriptionStatus", STATUSES, default=DEFAULTS["subscriptionStatus"]
        ),
        on_destroy=_choice(config, "onDestroy", ON_DESTROY, default=DEFAULTS["onDestroy"]),
        secret_in_header=_choice(config, "secretIn", SECRET_PLACES, default=DEFAULTS["secretIn"])
        == "header",
        cloudrun=_cloudrun(config) if receiver == "cloudrun" else None,
    )


# The stack setting each ReceiverServiceArgs field comes from: its checks are the ones a
# stack's config goes through, reported by the setting's name.
SETTING_OF_ARG = {
    "project": "gcp:project",
    "region": "gcp:region",
    "min_instances": f"{PROJECT}:minInstances",
    "max_instances": f"{PROJECT}:maxInstances",
    "concurrency": f"{PROJECT}:concurrency",
    "cpu": f"{PROJECT}:cpu",
    "memory": f"{PROJECT}:memory",
    "request_timeout_seconds": f"{PROJECT}:requestTimeoutSeconds",
    "alert_channels": f"{PROJECT}:alertNotificationChannels",
    "oldest_unacked_alert_seconds": f"{PROJECT}:oldestUnackedAlertSeconds",
}


def _cloudrun(config: pulumi.Config) -> CloudRunConfig:
    gcp = pulumi.Config("gcp")
    project, region = gcp.get("project"), gcp.get("region")
    if not project or not region:
        raise ConfigError(
            "receiver=cloudrun needs gcp:project and gcp:region "
            "(`pulumi config set gcp:project <id>`, `pulumi config set gcp:region europe-west1`)"
        )
    channels = config.get_object("alertNotificationChannels") or []
    if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
        raise ConfigError(
            f"{PROJECT}:alertNotificationChannels must be a list of "
            "projects/<project>/notificationChannels/<id>"
        )
    cloud = CloudRunConfig(
        project=project,
        region=region,
        image=config.get("receiverImage") or None,
        min_instances=_whole_number(config, "minInstances", _DEFAULTS.min_instances),
        max_instances=_whole_number(config, "maxInstances", _DEFAULTS.max_instances),
        concurrency=_whole_number(config, "concurrency", _DEFAULTS.concurrency),
        cpu=config.get("cpu") or _DEFAULTS.cpu,
        memory=config.get("memory") or _DEFAULTS.memory,
        request_timeout_seconds=_whole_number(
            config, "requestTimeoutSeconds", _DEFAULTS.request_timeout_seconds
        ),
        protect=config.get_bool("protect") or False,
        alert_channels=channels,
        oldest_unacked_alert_seconds=_whole_number(
            config, "oldestUnackedAlertSeconds", _DEFAULTS.oldest_unacked_alert_seconds
        ),
    )
    # ReceiverService checks its arguments too, but after this program has registered the
    # image repository: checked here, a bad setting fails before any resource.
    try:
        cloud.receiver_args(None).validate_settings()
    except ReceiverServiceError as exc:
        setting = SETTING_OF_ARG.get(exc.field or "")
        if setting is None:
            raise ConfigError(str(exc)) from None
        # A problem naming another argument (min_instances ... max_instances) names its
        # setting instead.
        problem = re.sub(
            r"\b[a-z]+(?:_[a-z]+)+\b", lambda m: SETTING_OF_ARG.get(m[0], m[0]), exc.problem
        )
        raise ConfigError(f"{setting} {problem}") from None
    return cloud


def _refuse_a_laptop_for_a_real_texter(local_receiver_url: str) -> None:
    """A real Texter (not on loopback) cannot reach a receiver on loopback: its
    subscriptions would post into the void. The default `receiver: local` must not do
    that silently when a stack points at a real tenant."""
    base_url = pulumi.Config("texter").get("baseUrl")
    if base_url and not (
        urlsplit(base_url).scheme in ("http", "https") and urlsplit(base_url).hostname
    ):
        raise ConfigError(
            f"texter:baseUrl must be an absolute http(s) URL such as "
            f"https://<project>.texterchat.com/server/api/v2, got {base_url!r}"
        )
    if base_url and not _is_loopback(base_url) and _is_loopback(local_receiver_url):
        raise ConfigError(
            f"{PROJECT}:receiver is `local` (the default), so every subscription would post to "
            f"{local_receiver_url}, which texter:baseUrl {base_url} cannot reach: "
            f"`pulumi config set {PROJECT}:receiver cloudrun` (and gcp:project, gcp:region), "
            f"or set {PROJECT}:localReceiverUrl to an address Texter can reach"
        )


def _checked_secret(secret: pulumi.Output[str] | None) -> pulumi.Output[str] | None:
    """receiverSecret as the receiver accepts it (one secret, or `new,old`), whichever
    receiver runs: checked before any URL carrying it is built."""

    def check(value: str) -> str:
        try:
            url_secret(value)
        except ReceiverServiceError as exc:
            raise ConfigError(f"{PROJECT}:receiverSecret: {exc}") from None
        return value

    return None if secret is None else secret.apply(check)


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _whole_number(config: pulumi.Config, key: str, default: int) -> int:
    """A whole number from config (its bounds are ReceiverServiceArgs' to check)."""
    raw = config.get(key)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{PROJECT}:{key} must be a whole number, got {raw!r}") from None


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
