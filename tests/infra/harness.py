"""Pulumi mocks that record every registration, with realistic outputs for GCP resources.

`Cloud.run(program)` runs a program under the mocks and waits for every registration;
`Cloud.registrations` then holds what the engine would have been asked to create: type,
name, inputs (secrets still wrapped, as the engine sees them), parent and dependencies.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pulumi
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs
from pulumi.runtime.rpc import is_rpc_secret, unwrap_rpc_secret
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

from texter_webhooks.gcp.receiver_service import ReceiverService, ReceiverServiceArgs

PROJECT = "acme-texter"
PROJECT_NUMBER = "123456789012"
STACK = "dev"
SERVICE_URI = "https://receiver-xyz-ew.a.run.app"
IMAGE_DIGEST = "sha256:" + "ab" * 32
ACCESS_TOKEN = "ya29.test-access-token"  # a fake token the mocks answer with
GENERATED_PASSWORD = "Gen3ratedByRandomPassword0123456789abcde"  # 40 chars, as generated
REGION = "europe-west1"
IMAGE = "europe-docker.pkg.dev/acme-texter/images/receiver:1.4.2"
SECRET = "Pl41nText-Receiver_Secret.0123"  # must never appear in plain text

COMPONENT = "texter-webhooks:receiver:ReceiverService"
ACCOUNT = "gcp:serviceaccount/account:Account"
SECRET_T = "gcp:secretmanager/secret:Secret"
SECRET_VERSION = "gcp:secretmanager/secretVersion:SecretVersion"
SECRET_IAM = "gcp:secretmanager/secretIamMember:SecretIamMember"
TOPIC = "gcp:pubsub/topic:Topic"
SUBSCRIPTION = "gcp:pubsub/subscription:Subscription"
TOPIC_IAM = "gcp:pubsub/topicIAMMember:TopicIAMMember"
SUBSCRIPTION_IAM = "gcp:pubsub/subscriptionIAMMember:SubscriptionIAMMember"
SERVICE = "gcp:cloudrunv2/service:Service"
API = "gcp:projects/service:Service"
EXCLUSION = "gcp:logging/projectExclusion:ProjectExclusion"
ALERT = "gcp:monitoring/alertPolicy:AlertPolicy"
IAM_PROPAGATION = "pulumi-python:dynamic/gcp:IamPropagation"
PASSWORD = "random:index/randomPassword:RandomPassword"
REPOSITORY = "gcp:artifactregistry/repository:Repository"
IMAGE_T = "docker-build:index:Image"

T = TypeVar("T")


@dataclass(frozen=True)
class Registration:
    typ: str
    name: str
    inputs: dict[str, Any]
    urn: str
    parent: str
    dependencies: frozenset[str]
    outputs: dict[str, Any]
    protect: bool = False

    def plain(self, key: str) -> Any:
        """An input with any secret wrapping removed, at every depth."""
        return unwrap(self.inputs.get(key))


@dataclass(frozen=True)
class Resolved:
    value: Any
    secret: bool


class RecordingMocks(pulumi.runtime.Mocks):
    """Answers like GCP would: computed ids, names, emails and URIs from the inputs."""

    def __init__(
        self, *, project_number: str | None = PROJECT_NUMBER, first_preview: bool = False
    ) -> None:
        self.project_number = project_number
        # A fresh stack's first preview: nothing exists, so every new resource's id is
        # unknown, as the engine reports it (an empty id).
        self.first_preview = first_preview
        self.calls: list[MockCallArgs] = []
        self.last_outputs: dict[str, Any] = {}

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        inputs = unwrap(args.inputs)
        project = inputs.get("project", PROJECT)
        computed: dict[str, Any] = {}
        resource_id = f"{args.name}-id"
        if args.typ == "gcp:serviceaccount/account:Account":
            email = f"{inputs['accountId']}@{project}.iam.gserviceaccount.com"
            computed = {"email": email, "member": f"serviceAccount:{email}"}
            resource_id = f"projects/{project}/serviceAccounts/{email}"
        elif args.typ == "gcp:secretmanager/secret:Secret":
            secret_id = inputs.get("secretId") or f"{args.name}-5e1f2a3"
            resource_id = f"projects/{project}/secrets/{secret_id}"
            computed = {"secretId": secret_id, "name": resource_id}
        elif args.typ == "gcp:secretmanager/secretVersion:SecretVersion":
            resource_id = f"{inputs['secret']}/versions/1"
            computed = {"version": "1", "name": resource_id}
        elif args.typ == "gcp:pubsub/topic:Topic":
            name = inputs.get("name") or f"{args.name}-7c0ffee"
            resource_id = f"projects/{project}/topics/{name}"
            computed = {"name": name}
        elif args.typ == "gcp:pubsub/subscription:Subscription":
            name = inputs.get("name") or f"{args.name}-7c0ffee"
            resource_id = f"projects/{project}/subscriptions/{name}"
            computed = {"name": name}
        elif args.typ == "gcp:cloudrunv2/service:Service":
            name = inputs.get("name") or f"{args.name}-1d2e3f4"
            resource_id = f"projects/{project}/locations/{inputs['location']}/services/{name}"
            computed = {"name": name, "uri": SERVICE_URI, "project": project}
        elif args.typ == "gcp:artifactregistry/repository:Repository":
            resource_id = (
                f"projects/{project}/locations/{inputs['location']}"
                f"/repositories/{inputs['repositoryId']}"
            )
            computed = {"name": inputs["repositoryId"]}
        elif args.typ == "random:index/randomPassword:RandomPassword":
            computed = {"result": GENERATED_PASSWORD}
        elif args.typ == "docker-build:index:Image":
            tags = inputs.get("tags") or []
            computed = {"digest": IMAGE_DIGEST, "ref": f"{tags[0]}@{IMAGE_DIGEST}"}
        outputs = {**args.inputs, **computed}
        self.last_outputs = outputs
        return ("" if self.first_preview else resource_id), outputs

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        self.calls.append(args)
        if args.token == "gcp:organizations/getProject:getProject":
            answer = {"projectId": args.args.get("projectId")}
            if self.project_number is not None:
                answer["number"] = self.project_number
            return answer, []
        if args.token == "gcp:organizations/getClientConfig:getClientConfig":
            return {"accessToken": ACCESS_TOKEN, "project": PROJECT}, []
        raise AssertionError(f"unexpected invoke {args.token}")


class RecordingMonitor(MockMonitor):
    """Adds what `Mocks.new_resource` does not see: the parent and the dependencies."""

    def __init__(self, mocks: RecordingMocks) -> None:
        super().__init__(mocks)
        self.recording_mocks = mocks
        self.registrations: list[Registration] = []
        # Registrations arrive on executor threads; one at a time keeps each request
        # paired with the outputs its own new_resource call produced.
        self._lock = threading.Lock()

    def RegisterResource(self, request: Any) -> Any:  # the gRPC method name
        with self._lock:
            self.recording_mocks.last_outputs = {}
            response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
            if request.type != "pulumi:pulumi:Stack":
                from pulumi.runtime.rpc import deserialize_properties

                self.registrations.append(
                    Registration(
                        typ=request.type,
                        name=request.name,
                        inputs=deserialize_properties(request.object),
                        urn=response.urn,
                        parent=request.parent,
                        dependencies=frozenset(request.dependencies),
                        outputs=self.recording_mocks.last_outputs,
                        protect=bool(request.protect),
                    )
                )
            return response


@dataclass
class Cloud:
    mocks: RecordingMocks
    monitor: RecordingMonitor
    _results: list[Any] = field(default_factory=list)

    def run(self, program: Callable[[], T]) -> T:
        """Runs `program` as a Pulumi program; returns once every registration is done."""

        def body() -> None:
            self._results.append(program())

        as_program: Callable[[Callable[[], None]], Callable[[], None]] = pulumi.runtime.test
        as_program(body)()
        return self._results.pop()

    def resolve(self, output: pulumi.Output[Any]) -> Resolved:
        return Resolved(_sync_await(output.future()), _sync_await(output.is_secret()))

    @property
    def registrations(self) -> list[Registration]:
        return list(self.monitor.registrations)

    def of_type(self, typ: str) -> list[Registration]:
        return [r for r in self.monitor.registrations if r.typ == typ]

    def one(self, typ: str, name: str | None = None) -> Registration:
        found = [r for r in self.of_type(typ) if name is None or r.name == name]
        assert len(found) == 1, f"expected one {typ} {name or ''}, got {len(found)}"
        return found[0]


def deploy(
    cloud: Cloud,
    name: str = "receiver",
    *,
    secret: str | None = SECRET,
    plain_secret: bool = False,
    **fields: Any,
) -> ReceiverService:
    """A ReceiverService with test defaults; `secret` is given as a secret Output unless
    `plain_secret`, and None leaves it to the component to generate one."""

    def program() -> ReceiverService:
        given: pulumi.Input[str] | None = None
        if secret is not None:
            given = secret if plain_secret else pulumi.Output.secret(secret)
        defaults: dict[str, Any] = {"project": PROJECT, "region": REGION, "image": IMAGE}
        args = ReceiverServiceArgs(**{**defaults, **fields}, receiver_secret=given)
        return ReceiverService(name, args)

    return cloud.run(program)


def start_cloud(
    *, project_number: str | None = PROJECT_NUMBER, first_preview: bool = False
) -> Cloud:
    """A fresh mocked engine: no root stack or registration carried over from before.
    `first_preview` runs the program as `pulumi preview` of a stack with nothing in it."""
    mocks = RecordingMocks(project_number=project_number, first_preview=first_preview)
    monitor = RecordingMonitor(mocks)
    runtime_settings.ROOT.set(None)
    ensure_loop: Callable[[], asyncio.AbstractEventLoop] = _ensure_event_loop
    ensure_loop().set_exception_handler(_drop_expected_errors)
    pulumi.runtime.set_mocks(
        mocks, project="texter-webhooks", stack=STACK, preview=first_preview, monitor=monitor
    )
    return Cloud(mocks, monitor)


def stop_cloud() -> None:
    runtime_settings.SETTINGS.rpc_manager.clear()
    runtime_settings.SETTINGS.outputs.clear()
    runtime_settings.ROOT.set(None)


def _drop_expected_errors(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """A program that failed on purpose leaves every output waiting on the bad value holding
    the error; asyncio would print each one as "never retrieved" whenever it is collected,
    usually during a later test. The test has already asserted on that error."""
    if isinstance(context.get("exception"), pulumi.RunError) and "never retrieved" in str(
        context.get("message")
    ):
        return
    loop.default_exception_handler(context)


def unwrap(value: Any) -> Any:
    """`value` with every secret marker removed."""
    value = unwrap_rpc_secret(value)
    if isinstance(value, dict):
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


def find_text(
    value: Any, text: str, path: str = "", *, in_secret: bool = False
) -> Iterator[tuple[str, bool]]:
    """Every place under `value` whose string contains `text`: (path, inside a secret)."""
    if is_rpc_secret(value):
        yield from find_text(value["value"], text, path, in_secret=True)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from find_text(item, text, f"{path}.{key}" if path else key, in_secret=in_secret)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from find_text(item, text, f"{path}[{index}]", in_secret=in_secret)
    elif isinstance(value, str) and text in value:
        yield path, in_secret
