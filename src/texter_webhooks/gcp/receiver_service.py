"""The receiver on Google Cloud Run (the `cloudrun` receiver): service, secret, Pub/Sub, IAM.

Texter POSTs every webhook to `https://<service>/hooks/<secret>`. The secret in the path is
the only authentication Texter offers, so the service is public (`allUsers` may invoke it)
and the secret lives in Secret Manager, reaching the container as `RECEIVER_SECRET`. The
receiver publishes each accepted delivery to a Pub/Sub topic; a subscription with a
dead-letter topic holds them for whatever consumes them.

Same outputs as `LocalReceiver` (`url`, `sink`), so the program can use either.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_docker_build as docker_build
import pulumi_gcp as gcp
import pulumi_random

RESOURCE_TYPE = "texter-webhooks:receiver:ReceiverService"

# The receiver listens on $PORT; Cloud Run sets PORT to the declared container port.
CONTAINER_PORT = 8080
HEALTH_PATH = "/healthz"
HOOKS_PATH = "/hooks/"
# Deliveries a consumer fails this often move to the dead-letter topic instead of looping.
MAX_DELIVERY_ATTEMPTS = 10
# Pub/Sub's maximum: a consumer that is down for a week loses nothing.
RETENTION = "604800s"
GENERATED_SECRET_LENGTH = 40

# Where the receiver's Dockerfile sits inside a build context (a checkout of this repo).
DOCKERFILE_IN_CONTEXT = Path("receiver") / "Dockerfile"

# What receiver/settings.py accepts; checked here so a bad value fails `pulumi preview`
# rather than the first revision's start-up. Not imported: the library does not depend on
# the receiver package, which the container image holds on its own.
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_SECRET_RE = re.compile(r"[A-Za-z0-9._~-]{16,256}")
# RECEIVER_SINK must match the receiver's topic pattern, which embeds the project-id rules.
_PROJECT_RE = re.compile(r"[a-z][a-z0-9-]{4,28}[a-z0-9]")
_REGION_RE = re.compile(r"[a-z]+(?:-[a-z]+)+[0-9]+")
_CPU_RE = re.compile(r"[0-9]+(?:\.[0-9]+)?m?")
_MEMORY_RE = re.compile(r"[0-9]+(?:Ki|Mi|Gi|k|M|G)?")


class ReceiverServiceError(pulumi.RunError):
    """A ReceiverService argument is wrong or cannot be met; reported without a traceback."""


@dataclass
class ReceiverServiceArgs:
    """The inputs of a ReceiverService.

    project / region: where everything is created, e.g. "acme-prod" / "europe-west1".
    image: the receiver image to run, ideally digest-pinned
        (`europe-west1-docker.pkg.dev/P/R/receiver@sha256:...`). Give either this or
        build_context.
    build_context: a folder holding the receiver's source as this repository lays it out
        (`receiver/Dockerfile` inside it); the image is built from it and pushed to a new
        Artifact Registry repository, which needs a Docker engine. An installed library
        does not carry the receiver's source: it ships as an image.
    receiver_secret: the secret path segment of the webhook URL, ideally a secret Output;
        None generates one. One secret, or two comma-separated while rotating: the
        receiver accepts both, and the URL carries the first, so list the new one first.
    min_instances / max_instances / concurrency / cpu / memory: Cloud Run sizing.
    log_level: the receiver's RECEIVER_LOG_LEVEL.
    max_body_bytes / dedup_window_seconds: RECEIVER_MAX_BODY_BYTES and
        RECEIVER_DEDUP_WINDOW_SECONDS; None keeps the receiver's defaults.
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
    log_level: str = "INFO"
    max_body_bytes: int | None = None
    dedup_window_seconds: float | None = None
    docker_available: bool | None = None
    project_number: str | None = None

    def validate(self) -> None:
        """Raises ReceiverServiceError naming the first bad field."""
        if not _PROJECT_RE.fullmatch(self.project):
            _fail("project", f"must be a GCP project id, got {self.project!r}")
        if not _REGION_RE.fullmatch(self.region):
            _fail("region", f"must be a Cloud Run region such as europe-west1, got {self.region!r}")
        if self.image is not None and not self.image.strip():
            _fail("image", "must be an image reference, or None to build one")
        if (self.image is None) == (self.build_context is None):
            _fail(
                "image",
                "or build_context: give exactly one, an image reference to run (see the "
                "README's `scripts/push-receiver-image`) or a folder holding receiver/Dockerfile "
                "to build",
            )
        if (
            self.build_context is not None
            and not (Path(self.build_context) / DOCKERFILE_IN_CONTEXT).is_file()
        ):
            _fail(
                "build_context",
                f"must be a folder holding {DOCKERFILE_IN_CONTEXT}, got {self.build_context!r}",
            )
        _check_int("min_instances", self.min_instances, minimum=0)
        _check_int("max_instances", self.max_instances, minimum=1)
        if self.min_instances > self.max_instances:
            _fail(
                "min_instances",
                f"({self.min_instances}) must not exceed max_instances ({self.max_instances})",
            )
        # Cloud Run's own bounds on requests per instance.
        _check_int("concurrency", self.concurrency, minimum=1, maximum=1000)
        if not _CPU_RE.fullmatch(self.cpu):
            _fail("cpu", f"must be a CPU limit such as 1, 2 or 500m, got {self.cpu!r}")
        if not _MEMORY_RE.fullmatch(self.memory):
            _fail("memory", f"must be a memory limit such as 512Mi or 1Gi, got {self.memory!r}")
        if self.log_level.upper() not in LOG_LEVELS:
            _fail("log_level", f"must be one of {', '.join(LOG_LEVELS)}, got {self.log_level!r}")
        if self.max_body_bytes is not None:
            _check_int("max_body_bytes", self.max_body_bytes, minimum=1)
        if self.dedup_window_seconds is not None and not 0 <= self.dedup_window_seconds < float(
            "inf"
        ):
            _fail("dedup_window_seconds", "must be a finite number of seconds >= 0")
        if self.project_number is not None and not self.project_number.isdigit():
            _fail("project_number", f"must be digits, got {self.project_number!r}")


def _fail(field: str, problem: str) -> None:
    raise ReceiverServiceError(f"ReceiverServiceArgs.{field} {problem}")


def _check_int(field: str, value: int, *, minimum: int, maximum: int | None = None) -> None:
    # bool is an int; True as a count is a mistake, not 1.
    if not isinstance(value, int) or isinstance(value, bool):
        _fail(field, f"must be an integer, got {value!r}")
    if value < minimum or (maximum is not None and value > maximum):
        bounds = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        _fail(field, f"must be {bounds}, got {value}")


def docker_engine_available() -> bool:
    """Whether a Docker engine answers here: a `docker` CLI on PATH and `docker info` works.

    The CLI alone is not enough: it is often installed where no daemon runs (CI, sandboxes).
    """
    docker = shutil.which("docker")
    if docker is None:
        return False
    try:
        # A fixed argv with the resolved executable: nothing user-controlled reaches it.
        result = subprocess.run(  # noqa: S603
            [docker, "info"], capture_output=True, timeout=20, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def resource_id(name: str, stack: str, *, max_length: int) -> str:
    """A GCP id from the component name and the stack: lowercase letters, digits and
    hyphens, starting with a letter, at most `max_length` (>= 10) characters.

    The stack is part of it so two stacks in one project never claim the same id, and a
    short hash of both keeps truncated ids apart.
    """
    digest = hashlib.sha256(f"{name}\0{stack}".encode()).hexdigest()[:4]
    base = re.sub(r"[^a-z0-9]+", "-", f"{name}-{stack}".lower()).strip("-")
    if not base[:1].isalpha():
        base = f"r-{base}".rstrip("-")
    base = base[: max_length - len(digest) - 1].rstrip("-")
    return f"{base}-{digest}"


def url_secret(raw: str) -> str:
    """The secret the webhook URL carries: the first of RECEIVER_SECRET's comma-separated
    secrets. Raises, without echoing the value, if the receiver would refuse it."""
    parts = [part.strip() for part in raw.split(",")]
    if len(parts) > 2 or not all(_SECRET_RE.fullmatch(part) for part in parts):
        raise ReceiverServiceError(
            "the receiver secret must be one secret, or two separated by a comma, each 16 to "
            "256 characters of A-Z a-z 0-9 . _ ~ - (it is a URL path segment)"
        )
    return parts[0]


class ReceiverService(pulumi.ComponentResource):
    """The webhook receiver on Cloud Run, publishing to Pub/Sub.

    Outputs: `url` (secret: it carries the receiver secret), `sink` (the RECEIVER_SINK the
    service runs with), `topic` and `dead_letter_topic` (Pub/Sub topic ids),
    `subscription` (the events subscription id), `service_account_email`, `service_name`
    and `image` (the image the service runs).
    """

    url: pulumi.Output[str]
    sink: pulumi.Output[str]
    topic: pulumi.Output[str]
    dead_letter_topic: pulumi.Output[str]
    subscription: pulumi.Output[str]
    service_account_email: pulumi.Output[str]
    service_name: pulumi.Output[str]
    image: pulumi.Output[str]

    def __init__(
        self, name: str, args: ReceiverServiceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        # Every check before the first registration: a bad argument leaves nothing behind.
        args.validate()
        build_image = args.image is None
        if build_image:
            available = (
                args.docker_available
                if args.docker_available is not None
                else docker_engine_available()
            )
            if not available:
                raise ReceiverServiceError(
                    "ReceiverServiceArgs.build_context needs a Docker engine to build the "
                    "receiver image and none answers here: pass `image`, a pushed image "
                    "reference, instead (texter-webhooks:receiverImage in this repo's stacks), "
                    "or run where a Docker engine is available"
                )
        super().__init__(RESOURCE_TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        project, region = args.project, args.region
        stack = pulumi.get_stack()

        account = gcp.serviceaccount.Account(
            f"{name}-sa",
            account_id=resource_id(name, stack, max_length=30),
            display_name=f"Texter webhook receiver ({stack})",
            description="Runs the Cloud Run receiver: reads its secret, publishes events.",
            project=project,
            opts=child,
        )

        # --- the receiver secret -------------------------------------------------------
        if args.receiver_secret is None:
            # special=False: only A-Z a-z 0-9, nothing that needs escaping in a URL path.
            password = pulumi_random.RandomPassword(
                f"{name}-secret-value", length=GENERATED_SECRET_LENGTH, special=False, opts=child
            )
            raw_secret: pulumi.Input[str] = password.result
        else:
            raw_secret = args.receiver_secret
        # Checked before Secret Manager gets it; Output.secret in case the input was plain.
        checked_secret = pulumi.Output.secret(raw_secret).apply(_checked)
        secret = gcp.secretmanager.Secret(
            f"{name}-secret",
            replication=gcp.secretmanager.SecretReplicationArgs(
                auto=gcp.secretmanager.SecretReplicationAutoArgs()
            ),
            project=project,
            opts=child,
        )
        secret_version = gcp.secretmanager.SecretVersion(
            f"{name}-secret-version",
            secret=secret.id,
            secret_data=checked_secret,
            opts=child,
        )
        secret_accessor = gcp.secretmanager.SecretIamMember(
            f"{name}-secret-accessor",
            secret_id=secret.id,
            role="roles/secretmanager.secretAccessor",
            member=account.member,
            project=project,
            opts=child,
        )

        # --- Pub/Sub ------------------------------------------------------------------
        events = gcp.pubsub.Topic(
            f"{name}-events", project=project, message_retention_duration=RETENTION, opts=child
        )
        dead_letter = gcp.pubsub.Topic(f"{name}-dead-letter", project=project, opts=child)
        subscription = gcp.pubsub.Subscription(
            f"{name}-events-sub",
            topic=events.id,
            project=project,
            ack_deadline_seconds=60,
            message_retention_duration=RETENTION,
            # ttl "": never expire; by default an idle subscription is deleted after 31 days.
            expiration_policy=gcp.pubsub.SubscriptionExpirationPolicyArgs(ttl=""),
            retry_policy=gcp.pubsub.SubscriptionRetryPolicyArgs(
                minimum_backoff="10s", maximum_backoff="600s"
            ),
            dead_letter_policy=gcp.pubsub.SubscriptionDeadLetterPolicyArgs(
                dead_letter_topic=dead_letter.id, max_delivery_attempts=MAX_DELIVERY_ATTEMPTS
            ),
            opts=child,
        )
        # A topic with no subscription drops what is published to it: this one keeps the
        # dead letters for inspection and replay.
        gcp.pubsub.Subscription(
            f"{name}-dead-letter-sub",
            topic=dead_letter.id,
            project=project,
            message_retention_duration=RETENTION,
            expiration_policy=gcp.pubsub.SubscriptionExpirationPolicyArgs(ttl=""),
            opts=child,
        )
        publisher = gcp.pubsub.TopicIAMMember(
            f"{name}-events-publisher",
            topic=events.name,
            role="roles/pubsub.publisher",
            member=account.member,
            project=project,
            opts=child,
        )
        # Dead-lettering is done by the Pub/Sub service agent, not by us: it must be able to
        # publish to the dead-letter topic and to pull (ack) from the source subscription,
        # or messages keep being redelivered and never move.
        agent = self._pubsub_service_agent(project, args.project_number)
        gcp.pubsub.TopicIAMMember(
            f"{name}-dead-letter-publisher",
            topic=dead_letter.name,
            role="roles/pubsub.publisher",
            member=agent,
            project=project,
            opts=child,
        )
        gcp.pubsub.SubscriptionIAMMember(
            f"{name}-dead-letter-subscriber",
            subscription=subscription.name,
            role="roles/pubsub.subscriber",
            member=agent,
            project=project,
            opts=child,
        )

        # --- the service ---------------------------------------------------------------
        if args.image is not None:
            image = pulumi.Output.from_input(args.image)
        else:
            assert args.build_context is not None  # validate(): exactly one of the two
            context = Path(args.build_context)
            image = self._build_image(name, context, project, region, stack, child)
        sink = pulumi.Output.concat("pubsub:projects/", project, "/topics/", events.name)
        envs = [
            gcp.cloudrunv2.ServiceTemplateContainerEnvArgs(name="RECEIVER_SINK", value=sink),
            gcp.cloudrunv2.ServiceTemplateContainerEnvArgs(
                name="RECEIVER_SECRET",
                # A reference, never the value: the plaintext stays out of the service's
                # state. The pinned version makes a new secret roll out a new revision.
                value_source=gcp.cloudrunv2.ServiceTemplateContainerEnvValueSourceArgs(
                    secret_key_ref=gcp.cloudrunv2.ServiceTemplateContainerEnvValueSourceSecretKeyRefArgs(
                        secret=secret.secret_id, version=secret_version.version
                    )
                ),
            ),
            gcp.cloudrunv2.ServiceTemplateContainerEnvArgs(
                name="RECEIVER_LOG_LEVEL", value=args.log_level.upper()
            ),
        ]
        if args.max_body_bytes is not None:
            envs.append(
                gcp.cloudrunv2.ServiceTemplateContainerEnvArgs(
                    name="RECEIVER_MAX_BODY_BYTES", value=str(args.max_body_bytes)
                )
            )
        if args.dedup_window_seconds is not None:
            envs.append(
                gcp.cloudrunv2.ServiceTemplateContainerEnvArgs(
                    name="RECEIVER_DEDUP_WINDOW_SECONDS", value=str(args.dedup_window_seconds)
                )
            )
        service = gcp.cloudrunv2.Service(
            name,
            project=project,
            location=region,
            # Otherwise `pulumi destroy` (and any replacement) fails on the service.
            deletion_protection=False,
            # Texter calls from the internet; the URL's secret is the authentication.
            ingress="INGRESS_TRAFFIC_ALL",
            template=gcp.cloudrunv2.ServiceTemplateArgs(
                service_account=account.email,
                max_instance_request_concurrency=args.concurrency,
                scaling=gcp.cloudrunv2.ServiceTemplateScalingArgs(
                    min_instance_count=args.min_instances,
                    max_instance_count=args.max_instances,
                ),
                containers=[
                    gcp.cloudrunv2.ServiceTemplateContainerArgs(
                        image=image,
                        ports=gcp.cloudrunv2.ServiceTemplateContainerPortsArgs(
                            container_port=CONTAINER_PORT
                        ),
                        envs=envs,
                        resources=gcp.cloudrunv2.ServiceTemplateContainerResourcesArgs(
                            limits={"cpu": args.cpu, "memory": args.memory},
                            # The receiver answers only after Pub/Sub has the event, so
                            # nothing runs between requests and CPU can be throttled then.
                            cpu_idle=True,
                            startup_cpu_boost=True,
                        ),
                        startup_probe=gcp.cloudrunv2.ServiceTemplateContainerStartupProbeArgs(
                            http_get=gcp.cloudrunv2.ServiceTemplateContainerStartupProbeHttpGetArgs(
                                path=HEALTH_PATH, port=CONTAINER_PORT
                            ),
                            period_seconds=2,
                            timeout_seconds=2,
                            failure_threshold=15,
                        ),
                        liveness_probe=gcp.cloudrunv2.ServiceTemplateContainerLivenessProbeArgs(
                            http_get=gcp.cloudrunv2.ServiceTemplateContainerLivenessProbeHttpGetArgs(
                                path=HEALTH_PATH, port=CONTAINER_PORT
                            ),
                            period_seconds=30,
                            timeout_seconds=5,
                            failure_threshold=3,
                        ),
                    )
                ],
            ),
            # The first revision starts only if its account can already read the secret
            # and publish; Cloud Run does not wait for IAM on its own.
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[secret_accessor, publisher, secret_version]
            ),
        )
        # Public on purpose, and on this service only. An org policy restricting
        # allUsers (domain-restricted sharing) makes this fail; Texter cannot sign requests.
        invoker = gcp.cloudrunv2.ServiceIamMember(
            f"{name}-invoker",
            name=service.name,
            location=service.location,
            project=project,
            role="roles/run.invoker",
            member="allUsers",
            opts=child,
        )

        # Through invoker.id, everything given the URL (Texter subscriptions) waits for the
        # public grant: until then the service answers 403 to Texter.
        self.url = pulumi.Output.secret(
            pulumi.Output.all(service.uri, checked_secret, invoker.id).apply(
                lambda parts: f"{parts[0]}{HOOKS_PATH}{url_secret(parts[1])}"
            )
        )
        self.sink = sink
        self.topic = events.id
        self.dead_letter_topic = dead_letter.id
        self.subscription = subscription.id
        self.service_account_email = account.email
        self.service_name = service.name
        self.image = image
        self.register_outputs(
            {
                "url": self.url,
                "sink": self.sink,
                "topic": self.topic,
                "dead_letter_topic": self.dead_letter_topic,
                "subscription": self.subscription,
                "service_account_email": self.service_account_email,
                "service_name": self.service_name,
                "image": self.image,
            }
        )

    def _pubsub_service_agent(self, project: str, project_number: str | None) -> pulumi.Output[str]:
        """`serviceAccount:service-<number>@gcp-sa-pubsub...`: the agent is named by the
        project number, which only a lookup (or the caller) knows."""
        if project_number is not None:
            number: pulumi.Output[str] = pulumi.Output.from_input(project_number)
        else:
            found = gcp.organizations.get_project_output(
                project_id=project, opts=pulumi.InvokeOutputOptions(parent=self)
            )
            number = found.apply(lambda result: _project_number(project, result.number))
        return number.apply(
            lambda n: f"serviceAccount:service-{n}@gcp-sa-pubsub.iam.gserviceaccount.com"
        )

    def _build_image(
        self,
        name: str,
        context: Path,
        project: str,
        region: str,
        stack: str,
        child: pulumi.ResourceOptions,
    ) -> pulumi.Output[str]:
        """Builds the context's receiver/Dockerfile, pushes it to a new Artifact Registry
        repository and returns the pushed image's digest-qualified reference."""
        repository = gcp.artifactregistry.Repository(
            f"{name}-images",
            repository_id=resource_id(name, stack, max_length=63),
            format="DOCKER",
            location=region,
            project=project,
            description="Images of the Texter webhook receiver",
            opts=child,
        )
        registry = f"{region}-docker.pkg.dev"
        # The deployer's own Google credentials, short-lived: no `gcloud auth
        # configure-docker` needed, and nothing is written to ~/.docker.
        token = gcp.organizations.get_client_config_output(
            opts=pulumi.InvokeOutputOptions(parent=self)
        ).access_token
        image = docker_build.Image(
            f"{name}-image",
            push=True,
            context=docker_build.BuildContextArgs(location=str(context)),
            dockerfile=docker_build.DockerfileArgs(location=str(context / DOCKERFILE_IN_CONTEXT)),
            # Cloud Run runs x86-64 only, whatever the machine building it.
            platforms=[docker_build.Platform.LINUX_AMD64],
            tags=[
                pulumi.Output.concat(
                    registry, "/", project, "/", repository.repository_id, "/receiver:latest"
                )
            ],
            registries=[
                docker_build.RegistryArgs(
                    address=registry,
                    username="oauth2accesstoken",
                    password=pulumi.Output.secret(token),
                )
            ],
            opts=child,
        )
        # `ref` is `<tag>@sha256:<digest>`: every new build is a new revision, whereas
        # `:latest` alone would look unchanged to Cloud Run.
        return image.ref


def _checked(secret: str) -> str:
    url_secret(secret)
    return secret


def _project_number(project: str, number: str | None) -> str:
    if not number:
        raise ReceiverServiceError(
            f"could not read the number of project {project!r} (needed to name the Pub/Sub "
            "service agent): grant resourcemanager.projects.get, or pass "
            "ReceiverServiceArgs.project_number"
        )
    return number
