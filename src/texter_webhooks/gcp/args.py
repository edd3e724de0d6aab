"""ReceiverServiceArgs: what a ReceiverService is made from, checked before anything is
registered, so a bad value fails `pulumi preview` naming the field."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import pulumi

from texter_webhooks.gcp import limits

# Where the receiver's Dockerfile sits inside a build context (a checkout of this repo).
DOCKERFILE_IN_CONTEXT = Path("receiver") / "Dockerfile"
# What receiver/settings.py accepts; checked here so a bad value fails `pulumi preview`
# rather than the first revision's start-up. Not imported: the library does not depend on
# the receiver package, which the container image holds on its own (test_shared_facts keeps
# the two equal).
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# A webhook is answered once Pub/Sub has the event: seconds, not minutes. Cloud Run's own
# default (300 s) would let a stalled request hold a slot for five minutes.
MAX_REQUEST_TIMEOUT_SECONDS = 60
# RECEIVER_SINK must match the receiver's topic pattern, which embeds the project-id rules
# (test_shared_facts keeps them equal).
_PROJECT_RE = re.compile(r"[a-z][a-z0-9-]{4,28}[a-z0-9]")
_REGION_RE = re.compile(r"[a-z]+(?:-[a-z]+)+[0-9]+")
_CHANNEL_RE = re.compile(r"projects/[^/]+/notificationChannels/[^/]+")


class ReceiverServiceError(pulumi.RunError):
    """A ReceiverService argument is wrong or cannot be met; reported without a traceback.

    `field` names the argument (None when no one argument is at fault) and `problem` says
    what is wrong with it, so a program can name the setting the value came from."""

    def __init__(self, message: str, *, field: str | None = None, problem: str = "") -> None:
        super().__init__(message)
        self.field = field
        self.problem = problem or message


@dataclass
class ReceiverServiceArgs:
    """The inputs of a ReceiverService.

    project / region: where everything is created, e.g. "acme-prod" / "europe-west1".
    image: the receiver image to run, ideally digest-pinned
        (`europe-west1-docker.pkg.dev/P/R/receiver@sha256:...`, what
        `scripts/push-receiver-image` pins). Give either this or build_context.
    build_context: a folder holding the receiver's source as this repository lays it out
        (`receiver/Dockerfile` inside it); the image is built from it and pushed to an
        Artifact Registry repository of the component's, which needs a Docker engine. An
        installed library does not carry the receiver's source: it ships as an image.
    receiver_secret: the secret path segment of the webhook URL, ideally a secret Output;
        None generates one. One secret, or two comma-separated while rotating: the
        receiver accepts both, and the URL carries the first, so list the new one first.
    min_instances / max_instances / concurrency / cpu / memory: Cloud Run sizing, checked
        against Cloud Run's CPU/memory/concurrency table (`limits`).
    request_timeout_seconds: how long one webhook may take, at most 60.
    log_level: the receiver's RECEIVER_LOG_LEVEL.
    max_body_bytes / dedup_window_seconds: RECEIVER_MAX_BODY_BYTES and
        RECEIVER_DEDUP_WINDOW_SECONDS; None keeps the receiver's defaults.
    protect: protect the topics, subscriptions, secret and service from deletion (Pulumi's
        `protect` and the service's own deletion protection): for production.
    alert_channels: notification channel names (`projects/P/notificationChannels/N`);
        given, alert policies watch the events backlog's age, the dead letters and the
        receiver's 5xx answers. oldest_unacked_alert_seconds: the backlog age that alerts.
    iam_propagation_seconds: wait after the service account's first grants before the
        first revision starts (IAM is eventually consistent); 0 does not wait.
    docker_available: whether a Docker engine can build the image; None asks `docker info`.
    project_number: skips the project lookup for the Pub/Sub service agent's grants.
    """

    project: str
    region: str
    image: str | None = None
    build_context: str | None = None
    receiver_secret: pulumi.Input[str] | None = None
    min_instances: int = 0
    max_instances: int = 3
    concurrency: int = 80
    cpu: str = "1"
    memory: str = "512Mi"
    request_timeout_seconds: int = 30
    log_level: str = "INFO"
    max_body_bytes: int | None = None
    dedup_window_seconds: float | None = None
    protect: bool = False
    alert_channels: list[str] = field(default_factory=list)
    oldest_unacked_alert_seconds: int = 3600
    iam_propagation_seconds: int = 60
    docker_available: bool | None = None
    project_number: str | None = None

    def validate(self) -> None:
        """Raises ReceiverServiceError naming the first bad field."""
        self.validate_settings()
        self._validate_image()

    def validate_settings(self) -> None:
        """Every check but the image's: what a stack's configuration decides, which can be
        checked before the stack's first image exists. Raises ReceiverServiceError."""
        if not _PROJECT_RE.fullmatch(self.project):
            _fail("project", f"must be a GCP project id, got {self.project!r}")
        if not _REGION_RE.fullmatch(self.region):
            _fail("region", f"must be a Cloud Run region such as europe-west1, got {self.region!r}")
        _check_int("min_instances", self.min_instances, minimum=0)
        _check_int("max_instances", self.max_instances, minimum=1)
        if self.min_instances > self.max_instances:
            _fail(
                "min_instances",
                f"({self.min_instances}) must not exceed max_instances ({self.max_instances})",
            )
        # Cloud Run's own bounds on requests per instance.
        _check_int("concurrency", self.concurrency, minimum=1, maximum=1000)
        for setting, problem in limits.problems(self.cpu, self.memory, self.concurrency):
            _fail(setting, problem)
        _check_int(
            "request_timeout_seconds",
            self.request_timeout_seconds,
            minimum=1,
            maximum=MAX_REQUEST_TIMEOUT_SECONDS,
        )
        if self.log_level.upper() not in LOG_LEVELS:
            _fail("log_level", f"must be one of {', '.join(LOG_LEVELS)}, got {self.log_level!r}")
        if self.max_body_bytes is not None:
            _check_int("max_body_bytes", self.max_body_bytes, minimum=1)
        if self.dedup_window_seconds is not None and not (
            self.dedup_window_seconds >= 0 and math.isfinite(self.dedup_window_seconds)
        ):
            _fail("dedup_window_seconds", "must be a finite number of seconds >= 0")
        for channel in self.alert_channels:
            if not _CHANNEL_RE.fullmatch(channel):
                _fail(
                    "alert_channels",
                    f"must hold projects/<project>/notificationChannels/<id>, got {channel!r}",
                )
        _check_int("oldest_unacked_alert_seconds", self.oldest_unacked_alert_seconds, minimum=60)
        _check_int("iam_propagation_seconds", self.iam_propagation_seconds, minimum=0)
        if self.project_number is not None and not self.project_number.isdigit():
            _fail("project_number", f"must be digits, got {self.project_number!r}")

    def _validate_image(self) -> None:
        if self.image is not None and not self.image.strip():
            _fail("image", "must be an image reference, or None to build one")
        if (self.image is None) == (self.build_context is None):
            _fail(
                "image",
                "or build_context: give exactly one, an image reference to run (see "
                "`scripts/push-receiver-image` in docs/operations.md) or a folder holding "
                "receiver/Dockerfile to build",
            )
        if (
            self.build_context is not None
            and not (Path(self.build_context) / DOCKERFILE_IN_CONTEXT).is_file()
        ):
            _fail(
                "build_context",
                f"must be a folder holding {DOCKERFILE_IN_CONTEXT}, got {self.build_context!r}",
            )


def _fail(field: str, problem: str) -> None:
    raise ReceiverServiceError(
        f"ReceiverServiceArgs.{field} {problem}", field=field, problem=problem
    )


def _check_int(field: str, value: int, *, minimum: int, maximum: int | None = None) -> None:
    # bool is an int; True as a count is a mistake, not 1.
    if not isinstance(value, int) or isinstance(value, bool):
        _fail(field, f"must be an integer, got {value!r}")
    if value < minimum or (maximum is not None and value > maximum):
        bounds = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        _fail(field, f"must be {bounds}, got {value}")
