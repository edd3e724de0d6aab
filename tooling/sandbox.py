"""A throwaway stack of TexterSubscriptions, driven through the real CLI, against the
simulator (end-to-end tests and benchmarks). The program is built from `subscriptions`,
which the caller edits between runs as a user edits their program."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi import automation as auto
from pulumi.dynamic import CreateResult, DiffResult, Resource, ResourceProvider

from simulator.server import SimulatorServer
from texter_webhooks.texter import (
    OrphanSweeper,
    OrphanSweeperArgs,
    StackIdentity,
    TexterSubscription,
    TexterSubscriptionArgs,
)
from texter_webhooks.texter.client import RetryPolicy, TexterClient
from texter_webhooks.texter.scenario import scenario_status
from tooling.engine import Engine, write_project_file

RECEIVER_SECRET = "rs_" + "9f8e7d6c5b4a39281706"  # appears only inside the receiver URL
# Options of `up` that change what its preview plans.
PREVIEW_AND_UP_OPTIONS = ("target", "replace", "target_dependents", "exclude", "parallel")


def receiver_url(path: str = "hooks") -> str:
    return f"http://127.0.0.1:9/{path}/{RECEIVER_SECRET}"


class StandInReceiverProvider(ResourceProvider):
    """A receiver whose URL exists only once it is created, as a Cloud Run service's URI:
    a preview of a new or replaced one hands the subscriptions an unknown URL."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        revision = props["revision"]
        return CreateResult(
            f"receiver-{revision}", {**props, "url": receiver_url(f"hooks-{revision}")}
        )

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = olds.get("revision") != news.get("revision")
        return DiffResult(
            changes=changed, replaces=["revision"] if changed else [], delete_before_replace=False
        )


class StandInReceiver(Resource):
    url: pulumi.Output[str]

    def __init__(self, name: str, revision: str) -> None:
        super().__init__(
            StandInReceiverProvider(),
            name,
            {"revision": revision, "url": None},
            pulumi.ResourceOptions(additional_secret_outputs=["url"]),
        )


@dataclass
class SubscriptionStack:
    engine: Engine
    sim: SimulatorServer
    token: str
    subscriptions: dict[str, dict[str, Any]] = field(default_factory=dict)
    name: str = "e2e"
    # Set: a StandInReceiver of this revision, whose URL (`hooks-<revision>`) is unknown
    # until it exists, gives its URL to the entries with `url_from_receiver`.
    receiver_revision: str | None = None
    # As infra/__main__.py: a StackIdentity whose key every subscription's marker carries,
    # and an OrphanSweeper after them all.
    sweep: bool = False

    def program(self) -> None:
        """One TexterSubscription per entry: TexterSubscriptionArgs fields, plus `after`
        (names it depends on), `plain_url` (pass the URL as a plain string),
        `url_from_receiver` (the stand-in receiver's URL output) and `retain_on_delete`."""
        receiver = (
            StandInReceiver("receiver", self.receiver_revision)
            if self.receiver_revision is not None
            else None
        )
        made: dict[str, TexterSubscription] = {}
        identity = StackIdentity("texter-stack") if self.sweep else None
        for resource_name, spec in self.subscriptions.items():
            args = dict(spec)
            if identity is not None:
                args["stack_key"] = identity.key
            after = [made[name] for name in args.pop("after", [])]
            plain = args.pop("plain_url", False)
            retain = args.pop("retain_on_delete", False)
            raw_url = args.pop("url", receiver_url())
            url: pulumi.Input[str] = raw_url if plain else pulumi.Output.secret(raw_url)
            if args.pop("url_from_receiver", False):
                assert receiver is not None, "url_from_receiver needs receiver_revision"
                url = receiver.url
            sub = TexterSubscription(
                resource_name,
                TexterSubscriptionArgs(url=url, **args),
                pulumi.ResourceOptions(depends_on=after, retain_on_delete=retain),
            )
            made[resource_name] = sub
            pulumi.export(f"{resource_name}Id", sub.subscription_id)
            pulumi.export(f"{resource_name}Status", sub.live_status)
        if identity is not None:
            OrphanSweeper(
                "texter-orphans",
                OrphanSweeperArgs(identity.key, [s.subscription_id for s in made.values()]),
            )

    def stack(self) -> auto.Stack:
        return self.engine.stack(self.name, self.program)

    def configure(self, **extra: str) -> None:
        write_project_file(self.engine.work_dir, config_schema=False)
        stack = self.stack()
        stack.set_all_config(
            {
                "texter:baseUrl": auto.ConfigValue(self.sim.base_url),
                "texter:token": auto.ConfigValue(self.token, secret=True),
                "texter:deadlineSeconds": auto.ConfigValue("4"),
                "texter:readTimeoutSeconds": auto.ConfigValue("1"),
                **{k: auto.ConfigValue(v) for k, v in extra.items()},
            }
        )

    def up(self, *, preview_first: bool = True, **kwargs: Any) -> auto.UpResult:
        """`pulumi up` as the CLI runs it: a preview (check and diff with unknowns), then
        the update. The Automation API's `up` skips that preview; `preview_first=False`
        skips it too, for a test that counts what the update alone does."""
        if preview_first:
            self.preview(**{k: v for k, v in kwargs.items() if k in PREVIEW_AND_UP_OPTIONS})
        return self.stack().up(show_secrets=False, color="never", **kwargs)

    def urn(self, resource_name: str) -> str:
        return str(self.state_resources()[resource_name]["urn"])

    def preview(self, **kwargs: Any) -> auto.PreviewResult:
        return self.stack().preview(color="never", **kwargs)

    def refresh(self, **kwargs: Any) -> auto.RefreshResult:
        return self.stack().refresh(show_secrets=False, color="never", **kwargs)

    def destroy(self) -> auto.DestroyResult:
        return self.stack().destroy(show_secrets=False, color="never")

    def state_resources(self) -> dict[str, dict[str, Any]]:
        """Resources in state by name, as `pulumi stack export` shows them."""
        exported = json.loads(self.engine.cli("stack", "export", "--stack", self.name).stdout)
        return {
            r["urn"].rsplit("::", 1)[1]: r
            for r in exported["deployment"].get("resources", [])
            if r["type"].startswith("pulumi-python:dynamic")
        }

    def client(self) -> TexterClient:
        return TexterClient(self.sim.base_url, self.token, policy=RetryPolicy(deadline=3))

    def live(self) -> dict[str, str]:
        """Scenario id -> live status, from the simulator's own state."""
        return {s["_id"]: scenario_status(s) for s in self.sim.scenarios()}

    def api_calls(self) -> list[dict[str, Any]]:
        return self.sim.request_log()


def throwaway_engine(root: Path, project_name: str = "texter-webhooks") -> Engine:
    """A project directory under `root` on its own file backend, PULUMI_HOME and passphrase."""
    work_dir = root / "project"
    work_dir.mkdir(parents=True)
    (work_dir / "Pulumi.yaml").write_text(f"name: {project_name}\nruntime: python\n")
    backend = root / "backend"
    backend.mkdir()
    passphrase = root / "passphrase"
    passphrase.write_text(secrets.token_urlsafe(24))
    return Engine(
        work_dir=work_dir,
        backend_url=backend.as_uri(),
        home=root / "pulumi-home",
        passphrase_file=passphrase,
    )
