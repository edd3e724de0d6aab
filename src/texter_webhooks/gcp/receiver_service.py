"""The receiver on Google Cloud Run (the `cloudrun` receiver): service, secret, Pub/Sub, IAM.

Texter POSTs every webhook to `https://<service>/hooks/<secret>`. The secret in the path is
the only authentication Texter offers, so:

- the service takes unauthenticated requests (`invoker_iam_disabled`, not an `allUsers`
  binding: an organisation with domain-restricted sharing refuses `allUsers`, but allows
  a service that skips the invoker check);
- the secret lives in Secret Manager and reaches the container as `RECEIVER_SECRET`;
- Cloud Run's own request logs, which record the URL and so the secret, are excluded
  from storage; the receiver logs each request itself, with the secret redacted.

The receiver publishes each accepted delivery to a Pub/Sub topic; a subscription with a
dead-letter topic holds them for whatever consumes them. Same outputs as `LocalReceiver`
(`url`, `sink`), so a program can use either.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_gcp as gcp
import pulumi_random

from texter_webhooks.gcp import alerts, apis, images, limits
from texter_webhooks.gcp.args import (
    DOCKERFILE_IN_CONTEXT,
    LOG_LEVELS,
    MAX_REQUEST_TIMEOUT_SECONDS,
    ReceiverServiceArgs,
    ReceiverServiceError,
)
from texter_webhooks.gcp.delay import IamPropagation
from texter_webhooks.gcp.images import docker_engine_available
from texter_webhooks.gcp.naming import (
    HOOKS_PREFIX,
    SECRET_PATTERN,
    bearer_token,
    hook_url,
    pubsub_sink,
    resource_id,
    url_secret,
)

RESOURCE_TYPE = "texter-webhooks:receiver:ReceiverService"

# The receiver listens on $PORT; Cloud Run sets PORT to the declared container port.
CONTAINER_PORT = 8080
HEALTH_PATH = "/healthz"
# Deliveries a consumer fails this often move to the dead-letter topic instead of looping.
MAX_DELIVERY_ATTEMPTS = 10
# Subscriptions keep unacknowledged events 31 days, the most Pub/Sub allows (default 7):
# a consumer can be down that long and lose nothing. Backlog kept past a day is billed
# as storage, so an idle consumer costs money, and the backlog-age alert says so early.
SUBSCRIPTION_RETENTION = "2678400s"
# The topic's own copy (what a subscription can seek back to, acknowledged or not).
TOPIC_RETENTION = "604800s"
GENERATED_SECRET_LENGTH = 40
# How long the receiver holds a delivery Pub/Sub cannot take yet before a 503 (Texter
# documents no retry, so a 503 may lose the event): the receiver's own default, cut to
# leave this margin inside Cloud Run's request timeout, which would end the request first.
RECEIVER_HOLD_SECONDS = 25
HOLD_MARGIN_SECONDS = 5
# Cloud Run's request log, excluded from storage: its URLs carry the secret.
REQUEST_LOG = "run.googleapis.com/requests"

__all__ = [
    "DOCKERFILE_IN_CONTEXT",
    "LOG_LEVELS",
    "MAX_REQUEST_TIMEOUT_SECONDS",
    "SECRET_PATTERN",
    "ReceiverService",
    "ReceiverServiceArgs",
    "ReceiverServiceError",
    "docker_engine_available",
    "resource_id",
    "url_secret",
]


@dataclass
class _Secret:
    value: pulumi.Output[str]  # checked, secret
    secret: gcp.secretmanager.Secret
    version: gcp.secretmanager.SecretVersion
    accessor: gcp.secretmanager.SecretIamMember


@dataclass
class _Events:
    topic: gcp.pubsub.Topic
    dead_letter_topic: gcp.pubsub.Topic
    subscription: gcp.pubsub.Subscription
    dead_letter_subscription: gcp.pubsub.Subscription
    publisher: gcp.pubsub.TopicIAMMember


class ReceiverService(pulumi.ComponentResource):
    """The webhook receiver on Cloud Run, publishing to Pub/Sub.

    Outputs: `url` (secret: it carries the receiver secret in its path), `hook_url` and
    `bearer_token` (the header form: the URL plain, the token secret), `sink` (the RECEIVER_SINK the
    service runs with), `topic`, `dead_letter_topic`, `subscription` and
    `dead_letter_subscription` (Pub/Sub ids), `service_account_email`, `service_name`
    and `image` (the image the service runs).
    """

    url: pulumi.Output[str]
    hook_url: pulumi.Output[str]
    bearer_token: pulumi.Output[str]
    sink: pulumi.Output[str]
    topic: pulumi.Output[str]
    dead_letter_topic: pulumi.Output[str]
    subscription: pulumi.Output[str]
    dead_letter_subscription: pulumi.Output[str]
    service_account_email: pulumi.Output[str]
    service_name: pulumi.Output[str]
    image: pulumi.Output[str]

    def __init__(
        self, name: str, args: ReceiverServiceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        # Every check before the first registration: a bad argument leaves nothing behind.
        args.validate()
        if args.build_context is not None:
            _require_docker(args)
        super().__init__(RESOURCE_TYPE, name, None, opts)
        self._name, self._args, self._stack = name, args, pulumi.get_stack()
        self._enabled = apis.enable(name, args.project, self._apis(), self)
        # Children wait for the APIs they use; what holds data is protected on request.
        self._child = pulumi.ResourceOptions(parent=self, depends_on=self._enabled)
        self._kept = pulumi.ResourceOptions.merge(
            self._child, pulumi.ResourceOptions(protect=args.protect)
        )

        account = self._service_account()
        secret = self._receiver_secret(account)
        events = self._events(account)
        image = self._image()
        service = self._service(account, secret, events, image)
        exclusion = self._hide_request_logs(service)
        if args.alert_channels:
            self._alerts(events, service)

        # The exclusion's id is in the URL's inputs so that whatever takes the URL (the
        # Texter subscriptions) waits for it: no request carrying the secret is sent
        # before Cloud Run's request logs stop being stored.
        self.url = pulumi.Output.secret(
            pulumi.Output.all(service.uri, secret.value, exclusion.id).apply(
                lambda parts: f"{parts[0]}{HOOKS_PREFIX}{url_secret(parts[1])}"
            )
        )
        # The header form: the URL is plain, and waits for the exclusion all the same (a
        # subscription may still carry the secret in its path until it is updated).
        self.hook_url = pulumi.Output.all(service.uri, exclusion.id).apply(
            lambda parts: hook_url(parts[0])
        )
        # The token too waits for the service: while rotating, Texter must be told the new
        # secret only once a revision that accepts it is serving.
        self.bearer_token = pulumi.Output.secret(
            pulumi.Output.all(service.uri, secret.value).apply(lambda parts: bearer_token(parts[1]))
        )
        self.sink = _sink(args.project, events.topic)
        self.topic = events.topic.id
        self.dead_letter_topic = events.dead_letter_topic.id
        self.subscription = events.subscription.id
        self.dead_letter_subscription = events.dead_letter_subscription.id
        self.service_account_email = account.email
        self.service_name = service.name
        self.image = image
        self.register_outputs(
            {
                "url": self.url,
                "hook_url": self.hook_url,
                "bearer_token": self.bearer_token,
                "sink": self.sink,
                "topic": self.topic,
                "dead_letter_topic": self.dead_letter_topic,
                "subscription": self.subscription,
                "dead_letter_subscription": self.dead_letter_subscription,
                "service_account_email": self.service_account_email,
                "service_name": self.service_name,
                "image": self.image,
            }
        )

    # --- the steps, in order ------------------------------------------------------------

    def _apis(self) -> tuple[str, ...]:
        needed = list(apis.CORE_APIS)
        if self._args.build_context is not None:
            needed.append(apis.IMAGES_API)
        if self._args.alert_channels:
            needed.append(apis.ALERTS_API)
        return tuple(needed)

    def _service_account(self) -> gcp.serviceaccount.Account:
        return gcp.serviceaccount.Account(
            f"{self._name}-sa",
            account_id=resource_id(self._name, self._stack, max_length=30),
            display_name=f"Texter webhook receiver ({self._stack})",
            description="Runs the Cloud Run receiver: reads its secret, publishes events.",
            project=self._args.project,
            opts=self._child,
        )

    def _receiver_secret(self, account: gcp.serviceaccount.Account) -> _Secret:
        name, project = self._name, self._args.project
        raw: pulumi.Input[str]
        if self._args.receiver_secret is None:
            # special=False: only A-Z a-z 0-9, nothing that needs escaping in a URL path.
            raw = pulumi_random.RandomPassword(
                f"{name}-secret-value",
                length=GENERATED_SECRET_LENGTH,
                special=False,
                opts=self._kept,
            ).result
        else:
            raw = self._args.receiver_secret
        # Checked before Secret Manager gets it; Output.secret in case the input was plain.
        value = pulumi.Output.secret(raw).apply(_checked)
        secret = gcp.secretmanager.Secret(
            f"{name}-secret",
            replication=gcp.secretmanager.SecretReplicationArgs(
                auto=gcp.secretmanager.SecretReplicationAutoArgs()
            ),
            project=project,
            opts=self._kept,
        )
        version = gcp.secretmanager.SecretVersion(
            f"{name}-secret-version", secret=secret.id, secret_data=value, opts=self._child
        )
        accessor = gcp.secretmanager.SecretIamMember(
            f"{name}-secret-accessor",
            secret_id=secret.id,
            role="roles/secretmanager.secretAccessor",
            member=account.member,
            project=project,
            opts=self._child,
        )
        return _Secret(value, secret, version, accessor)

    def _events(self, account: gcp.serviceaccount.Account) -> _Events:
        name, project = self._name, self._args.project
        topic = gcp.pubsub.Topic(
            f"{name}-events",
            project=project,
            message_retention_duration=TOPIC_RETENTION,
            opts=self._kept,
        )
        dead_letter_topic = gcp.pubsub.Topic(
            f"{name}-dead-letter", project=project, opts=self._kept
        )
        subscription = gcp.pubsub.Subscription(
            f"{name}-events-sub",
            topic=topic.id,
            project=project,
            ack_deadline_seconds=60,
            message_retention_duration=SUBSCRIPTION_RETENTION,
            # ttl "": never expire; by default an idle subscription is deleted after 31 days.
            expiration_policy=gcp.pubsub.SubscriptionExpirationPolicyArgs(ttl=""),
            retry_policy=gcp.pubsub.SubscriptionRetryPolicyArgs(
                minimum_backoff="10s", maximum_backoff="600s"
            ),
            dead_letter_policy=gcp.pubsub.SubscriptionDeadLetterPolicyArgs(
                dead_letter_topic=dead_letter_topic.id, max_delivery_attempts=MAX_DELIVERY_ATTEMPTS
            ),
            opts=self._kept,
        )
        # A topic with no subscription drops what is published to it: this one keeps the
        # dead letters for inspection and replay.
        dead_letter_subscription = gcp.pubsub.Subscription(
            f"{name}-dead-letter-sub",
            topic=dead_letter_topic.id,
            project=project,
            message_retention_duration=SUBSCRIPTION_RETENTION,
            expiration_policy=gcp.pubsub.SubscriptionExpirationPolicyArgs(ttl=""),
            opts=self._kept,
        )
        publisher = gcp.pubsub.TopicIAMMember(
            f"{name}-events-publisher",
            topic=topic.name,
            role="roles/pubsub.publisher",
            member=account.member,
            project=project,
            opts=self._child,
        )
        self._dead_lettering(dead_letter_topic, subscription)
        return _Events(topic, dead_letter_topic, subscription, dead_letter_subscription, publisher)

    def _dead_lettering(
        self, dead_letter_topic: gcp.pubsub.Topic, subscription: gcp.pubsub.Subscription
    ) -> None:
        """Dead-lettering is done by the Pub/Sub service agent, not by us: it must be able
        to publish to the dead-letter topic and to pull (ack) from the source subscription,
        or messages keep being redelivered and never move."""
        agent = self._pubsub_service_agent()
        gcp.pubsub.TopicIAMMember(
            f"{self._name}-dead-letter-publisher",
            topic=dead_letter_topic.name,
            role="roles/pubsub.publisher",
            member=agent,
            project=self._args.project,
            opts=self._child,
        )
        gcp.pubsub.SubscriptionIAMMember(
            f"{self._name}-dead-letter-subscriber",
            subscription=subscription.name,
            role="roles/pubsub.subscriber",
            member=agent,
            project=self._args.project,
            opts=self._child,
        )

    def _image(self) -> pulumi.Output[str]:
        args = self._args
        if args.image is not None:
            return pulumi.Output.from_input(args.image)
        assert args.build_context is not None  # validate(): exactly one of the two
        repository = images.repository(
            f"{self._name}-images",
            resource_id(self._name, self._stack, max_length=63),
            project=args.project,
            region=args.region,
            opts=self._child,
        )
        return images.build_and_push(
            f"{self._name}-image",
            Path(args.build_context),
            images.registry_path(args.region, args.project, repository.repository_id),
            region=args.region,
            parent=self,
            opts=self._child,
        )

    def _service(
        self,
        account: gcp.serviceaccount.Account,
        secret: _Secret,
        events: _Events,
        image: pulumi.Output[str],
    ) -> gcp.cloudrunv2.Service:
        args = self._args
        grants: list[pulumi.Resource] = [secret.accessor, events.publisher, secret.version]
        if args.iam_propagation_seconds > 0:
            grants.append(
                IamPropagation(
                    f"{self._name}-iam-propagation",
                    [secret.accessor.id, events.publisher.id],
                    args.iam_propagation_seconds,
                    opts=pulumi.ResourceOptions(parent=self),
                )
            )
        return gcp.cloudrunv2.Service(
            self._name,
            project=args.project,
            location=args.region,
            deletion_protection=args.protect,
            # Texter calls from the internet, unsigned; the URL's secret authenticates it.
            ingress="INGRESS_TRAFFIC_ALL",
            invoker_iam_disabled=True,
            template=gcp.cloudrunv2.ServiceTemplateArgs(
                service_account=account.email,
                # Fractional CPU and under 512 MiB run only in the first generation.
                execution_environment=limits.execution_environment(args.cpu, args.memory),
                max_instance_request_concurrency=args.concurrency,
                timeout=f"{args.request_timeout_seconds}s",
                scaling=gcp.cloudrunv2.ServiceTemplateScalingArgs(
                    min_instance_count=args.min_instances, max_instance_count=args.max_instances
                ),
                containers=[self._container(secret, events, image)],
            ),
            # The first revision starts only once its account can read the secret and
            # publish; Cloud Run does not wait for IAM on its own.
            opts=pulumi.ResourceOptions.merge(
                self._kept, pulumi.ResourceOptions(depends_on=grants)
            ),
        )

    def _container(
        self, secret: _Secret, events: _Events, image: pulumi.Output[str]
    ) -> gcp.cloudrunv2.ServiceTemplateContainerArgs:
        args = self._args
        env = gcp.cloudrunv2.ServiceTemplateContainerEnvArgs
        envs = [
            env(name="RECEIVER_SINK", value=_sink(args.project, events.topic)),
            env(
                name="RECEIVER_SECRET",
                # A reference, never the value: the plaintext stays out of the service's
                # state. The pinned version makes a new secret roll out a new revision.
                value_source=gcp.cloudrunv2.ServiceTemplateContainerEnvValueSourceArgs(
                    secret_key_ref=gcp.cloudrunv2.ServiceTemplateContainerEnvValueSourceSecretKeyRefArgs(
                        secret=secret.secret.secret_id, version=secret.version.version
                    )
                ),
            ),
            env(name="RECEIVER_LOG_LEVEL", value=args.log_level.upper()),
            env(
                name="RECEIVER_HOLD_SECONDS", value=str(hold_seconds(args.request_timeout_seconds))
            ),
        ]
        if args.max_body_bytes is not None:
            envs.append(env(name="RECEIVER_MAX_BODY_BYTES", value=str(args.max_body_bytes)))
        if args.dedup_window_seconds is not None:
            envs.append(
                env(name="RECEIVER_DEDUP_WINDOW_SECONDS", value=str(args.dedup_window_seconds))
            )
        probe_get = gcp.cloudrunv2.ServiceTemplateContainerStartupProbeHttpGetArgs
        live_get = gcp.cloudrunv2.ServiceTemplateContainerLivenessProbeHttpGetArgs
        return gcp.cloudrunv2.ServiceTemplateContainerArgs(
            image=image,
            ports=gcp.cloudrunv2.ServiceTemplateContainerPortsArgs(container_port=CONTAINER_PORT),
            envs=envs,
            resources=gcp.cloudrunv2.ServiceTemplateContainerResourcesArgs(
                limits={"cpu": args.cpu, "memory": args.memory},
                # The receiver answers only after Pub/Sub has the event, so nothing runs
                # between requests and CPU can be throttled then.
                cpu_idle=True,
                startup_cpu_boost=True,
            ),
            startup_probe=gcp.cloudrunv2.ServiceTemplateContainerStartupProbeArgs(
                http_get=probe_get(path=HEALTH_PATH, port=CONTAINER_PORT),
                period_seconds=2,
                timeout_seconds=2,
                failure_threshold=15,
            ),
            # A sink that cannot write fails /healthz: the instance is replaced.
            liveness_probe=gcp.cloudrunv2.ServiceTemplateContainerLivenessProbeArgs(
                http_get=live_get(path=HEALTH_PATH, port=CONTAINER_PORT),
                period_seconds=30,
                timeout_seconds=5,
                failure_threshold=3,
            ),
        )

    def _hide_request_logs(self, service: gcp.cloudrunv2.Service) -> gcp.logging.ProjectExclusion:
        """Cloud Run's request log records `httpRequest.requestUrl`, `/hooks/<secret>`:
        anyone with Logs Viewer could read it and forge events. Excluded from storage."""
        return gcp.logging.ProjectExclusion(
            f"{self._name}-request-logs",
            name=resource_id(f"{self._name}-requests", self._stack, max_length=100),
            project=self._args.project,
            description="Texter receiver request logs: their URLs carry the receiver secret",
            filter=pulumi.Output.concat(
                'resource.type = "cloud_run_revision" AND resource.labels.service_name = "',
                service.name,
                f'" AND log_id("{REQUEST_LOG}")',
            ),
            opts=self._child,
        )

    def _alerts(self, events: _Events, service: gcp.cloudrunv2.Service) -> None:
        alerts.policies(
            self._name,
            project=self._args.project,
            channels=self._args.alert_channels,
            events_subscription=events.subscription.name,
            dead_letter_subscription=events.dead_letter_subscription.name,
            service=service.name,
            oldest_unacked_seconds=self._args.oldest_unacked_alert_seconds,
            opts=self._child,
        )

    def _pubsub_service_agent(self) -> pulumi.Output[str]:
        """`serviceAccount:service-<number>@gcp-sa-pubsub...`: the agent is named by the
        project number, which only a lookup (or the caller) knows."""
        project, given = self._args.project, self._args.project_number
        number: pulumi.Output[str]
        if given is not None:
            number = pulumi.Output.from_input(given)
        else:
            # After the APIs (Cloud Resource Manager among them): on a fresh project's
            # first preview the lookup is unknown instead of failing on a disabled API.
            found = gcp.organizations.get_project_output(
                project_id=project,
                opts=pulumi.InvokeOutputOptions(parent=self, depends_on=self._enabled),
            )
            number = found.apply(lambda result: _project_number(project, result.number))
        return number.apply(
            lambda n: f"serviceAccount:service-{n}@gcp-sa-pubsub.iam.gserviceaccount.com"
        )


def hold_seconds(request_timeout_seconds: int) -> int:
    """The receiver's hold, inside Cloud Run's request timeout by HOLD_MARGIN_SECONDS."""
    return max(1, min(RECEIVER_HOLD_SECONDS, request_timeout_seconds - HOLD_MARGIN_SECONDS))


def _sink(project: str, topic: gcp.pubsub.Topic) -> pulumi.Output[str]:
    """RECEIVER_SINK: the receiver publishes to `topic`."""
    return topic.name.apply(lambda name: pubsub_sink(project, name))


def _require_docker(args: ReceiverServiceArgs) -> None:
    available = (
        args.docker_available if args.docker_available is not None else docker_engine_available()
    )
    if not available:
        raise ReceiverServiceError(
            "ReceiverServiceArgs.build_context needs a Docker engine to build the receiver "
            "image and none answers here: pass `image`, a pushed image reference, instead "
            "(texter-webhooks:receiverImage in this repo's stacks), or run where a Docker "
            "engine is available"
        )


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
