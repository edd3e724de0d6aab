"""`make up` / `make down` / `make status`: the embedded `local` stack.

up:   start the Texter simulator, and the receiver the way production runs it: publishing to
      Pub/Sub (Google's emulator here), with a small pull consumer (tooling.event_consumer)
      showing each event as it arrives; run the real `pulumi up` on the `local` stack, fire
      one sample event per subscription through the simulator and show each one arriving
      at the consumer, with its scenario run. LOCAL_SINK=file keeps the receiver's fsync'd
      file sink instead (no emulator, no consumer).
down: `pulumi destroy` the stack and stop every process.
Both are safe to repeat. Everything lives in .state/local/ (git-ignored); the secrets
there (simulator token, receiver secret, state passphrase) are random per machine.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import requests
import yaml
from pulumi import automation as auto
from pulumi.automation import ConfigValue

from texter_webhooks.texter.body import redact_urls
from tooling import infra_program
from tooling.engine import (
    REPO_ROOT,
    Engine,
    EngineMissingError,
    PulumiCommandError,
    write_project_file,
)

STACK = "local"
STATE = REPO_ROOT / ".state"
LOCAL = STATE / "local"
SIMULATOR_PORT = int(os.environ.get("LOCAL_SIMULATOR_PORT", "8786"))
RECEIVER_PORT = int(os.environ.get("LOCAL_RECEIVER_PORT", "8787"))
PUBSUB_PORT = int(os.environ.get("LOCAL_PUBSUB_PORT", "8788"))
API_PREFIX = "/server/api/v2"
SINKS = ("pubsub", "file")
# The emulator accepts any project id; this one only has to fit the receiver's topic pattern.
PUBSUB_PROJECT = "texter-local"
TOPIC = f"projects/{PUBSUB_PROJECT}/topics/texter-events"
SUBSCRIPTION = f"projects/{PUBSUB_PROJECT}/subscriptions/texter-events-local"


def step(message: str) -> None:
    print(f"==> {message}", flush=True)


def fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr, flush=True)
    raise SystemExit(1)


@dataclass(frozen=True)
class Service:
    """A process of the local stack, tracked by a pid file."""

    name: str
    # None for a process that serves no port: it is healthy once it wrote its ready file.
    port: int | None
    health_path: str = "/"
    start_timeout: float = 20.0

    @property
    def pid_file(self) -> Path:
        return LOCAL / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return LOCAL / f"{self.name}.log"

    @property
    def ready_file(self) -> Path:
        return LOCAL / f"{self.name}.ready"

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def where(self) -> str:
        return self.root_url if self.port is not None else "(no port)"

    def pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text())
            os.kill(pid, 0)
        except (FileNotFoundError, ValueError, ProcessLookupError):
            return None
        return pid

    def healthy(self) -> bool:
        if self.port is None:
            return self.pid() is not None and self.ready_file.exists()
        try:
            return requests.get(self.root_url + self.health_path, timeout=1).status_code < 500
        except requests.RequestException:
            return False

    def start(self, argv: list[str], env: Mapping[str, str]) -> None:
        if self.pid() is not None and self.healthy():
            print(f"    {self.name} already running (pid {self.pid()}) on {self.where}")
            return
        if self.port is not None and self.healthy():
            fail(
                f"port {self.port} is taken by another program; stop it or set "
                f"LOCAL_{self.name.upper()}_PORT"
            )
        with self.log_file.open("ab") as log:
            process = subprocess.Popen(  # noqa: S603 - our own entry points
                argv,
                cwd=REPO_ROOT,
                env={**os.environ, **env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # survives `make up` returning
            )
        self.pid_file.write_text(str(process.pid))
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                fail(
                    f"{self.name} exited at start-up; see {self.log_file.relative_to(REPO_ROOT)}:"
                    f"\n{_tail(self.log_file)}"
                )
            if self.healthy():
                print(f"    {self.name} started (pid {process.pid}) on {self.where}")
                return
            time.sleep(0.1)
        fail(
            f"{self.name} did not get ready ({self.where}) within {self.start_timeout:g} s; "
            f"see {self.log_file.relative_to(REPO_ROOT)}"
        )

    def stop(self) -> None:
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            print(f"    {self.name} not running")
            return
        os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and self.pid() is not None:
            time.sleep(0.1)
            _reap(pid)
        if self.pid() is not None:
            os.killpg(pid, signal.SIGKILL)
        self.pid_file.unlink(missing_ok=True)
        self.ready_file.unlink(missing_ok=True)
        print(f"    {self.name} stopped (pid {pid})")


SIMULATOR = Service("simulator", SIMULATOR_PORT, "/_sim/requests")
RECEIVER = Service("receiver", RECEIVER_PORT, "/healthz")
# Its GET / answers "Ok" once it serves; a JVM takes seconds to get there.
PUBSUB = Service("pubsub-emulator", PUBSUB_PORT, "/", start_timeout=90.0)
CONSUMER = Service("consumer", None)
SERVICES = (SIMULATOR, PUBSUB, CONSUMER, RECEIVER)


def _reap(pid: int) -> None:
    with suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


def _secret(name: str) -> str:
    """A random value kept in .state/local/<name> (0600), made on first use."""
    path = LOCAL / name
    if not path.exists():
        path.write_text(secrets.token_urlsafe(24))
        path.chmod(0o600)
    return path.read_text().strip()


def texter_token() -> str:
    """The local simulator's API token."""
    return _secret("texter-token")


def start_simulator() -> None:
    """The Texter simulator on its fixed port, its state kept across restarts."""
    argv = [sys.executable, "-m", "simulator", "--host", "127.0.0.1"]
    argv += ["--port", str(SIMULATOR.port), "--state", str(LOCAL / "simulator.json")]
    SIMULATOR.start([*argv, "--token", texter_token()], {})


def sink_path() -> Path:
    return LOCAL / "events.jsonl"


def consumed_path() -> Path:
    """What the consumer has pulled from the topic (tooling.event_consumer's record)."""
    return LOCAL / "consumed.jsonl"


def chosen_sink() -> str:
    sink = os.environ.get("LOCAL_SINK", "pubsub").strip() or "pubsub"
    if sink not in SINKS:
        fail(f"LOCAL_SINK must be one of {', '.join(SINKS)} (got {sink!r})")
    return sink


def start_pubsub() -> dict[str, str]:
    """The emulator with the topic and subscription, and the consumer on it; returns the
    receiver's settings for publishing there."""
    from tooling.pubsub_emulator import (
        EmulatorMissing,
        emulator_argv,
        ensure_subscription,
        ensure_topic,
        require_emulator,
    )

    try:
        gcloud = require_emulator()
    except EmulatorMissing as missing:
        fail(f"{missing}; or run the file sink: make up LOCAL_SINK=file")
    emulator_host = f"127.0.0.1:{PUBSUB_PORT}"
    data_dir = LOCAL / "pubsub-data"
    data_dir.mkdir(parents=True, exist_ok=True)
    PUBSUB.start(emulator_argv(gcloud, "127.0.0.1", PUBSUB_PORT, data_dir), {})
    ensure_topic(emulator_host, TOPIC)
    ensure_subscription(emulator_host, TOPIC, SUBSCRIPTION)
    print(f"    topic {TOPIC}, subscription {SUBSCRIPTION}")
    emulator_env = {"PUBSUB_EMULATOR_HOST": emulator_host}
    CONSUMER.start(
        [
            sys.executable,
            "-u",
            "-m",
            "tooling.event_consumer",
            SUBSCRIPTION,
            "--record",
            str(consumed_path()),
            "--ready-file",
            str(CONSUMER.ready_file),
        ],
        emulator_env,
    )
    return {"RECEIVER_SINK": f"pubsub:{TOPIC}", **emulator_env}


def engine() -> Engine:
    """The local stack's project directory: Pulumi.yaml and the committed stack settings
    are copied in, so secrets set there never touch the tracked Pulumi.local.yaml."""
    project = LOCAL / "project"
    write_project_file(project)
    _sync_stack_settings(project / f"Pulumi.{STACK}.yaml")
    (STATE / "backend").mkdir(parents=True, exist_ok=True)
    _secret("passphrase")
    return Engine(
        work_dir=project,
        backend_url=(STATE / "backend").as_uri(),
        home=STATE / "pulumi-home",
        passphrase_file=LOCAL / "passphrase",
    )


def _sync_stack_settings(copy: Path) -> None:
    """The committed settings, plus what only this machine has: the passphrase's salt
    and the encrypted secrets (`secure:` values) set by an earlier run."""
    settings = yaml.safe_load((REPO_ROOT / f"Pulumi.{STACK}.yaml").read_text()) or {}
    settings.setdefault("config", {})
    if copy.exists():
        earlier = yaml.safe_load(copy.read_text()) or {}
        if "encryptionsalt" in earlier:
            settings["encryptionsalt"] = earlier["encryptionsalt"]
        for key, value in (earlier.get("config") or {}).items():
            if isinstance(value, dict) and "secure" in value:
                settings["config"].setdefault(key, value)
    copy.write_text(yaml.safe_dump(settings, sort_keys=False))


@contextmanager
def _handled() -> Iterator[None]:
    try:
        yield
    except EngineMissingError as exc:
        fail(str(exc))
    except PulumiCommandError as exc:
        fail(str(exc))
    except auto.CommandError as exc:
        fail(f"pulumi failed:\n{exc}")


def up() -> None:
    LOCAL.mkdir(parents=True, exist_ok=True)
    token = texter_token()
    receiver_secret = _secret("receiver-secret")

    sink = chosen_sink()

    step("starting the Texter simulator")
    start_simulator()
    if sink == "pubsub":
        step("starting the Pub/Sub emulator and the event consumer")
        sink_env = start_pubsub()
    else:
        sink_env = {"RECEIVER_SINK": f"file:{sink_path()}"}
        for unused in (CONSUMER, PUBSUB):
            if unused.pid() is not None:
                unused.stop()
    step(f"starting the receiver ({sink} sink)")
    if RECEIVER.pid() is not None and _receiver_sink() != sink_env["RECEIVER_SINK"]:
        print("    restarting it: it runs with another sink")
        RECEIVER.stop()
    RECEIVER.start(
        [sys.executable, "-m", "receiver"],
        {
            "HOST": "127.0.0.1",
            "PORT": str(RECEIVER.port),
            "RECEIVER_SECRET": receiver_secret,
            **sink_env,
        },
    )
    (LOCAL / "receiver.sink").write_text(sink_env["RECEIVER_SINK"])

    step("pulumi up (stack `local`)")
    with _handled():
        stack = engine().stack(STACK, infra_program.run)
        stack.set_all_config(
            {
                "texter:baseUrl": ConfigValue(SIMULATOR.root_url + API_PREFIX),
                "texter:token": ConfigValue(token, secret=True),
                "texter-webhooks:localReceiverUrl": ConfigValue(RECEIVER.root_url),
                "texter-webhooks:receiverSecret": ConfigValue(receiver_secret, secret=True),
            }
        )
        result = stack.up(on_output=_indent, show_secrets=False, color="never")
    outputs = result.outputs
    ids: dict[str, str] = outputs["subscriptionIds"].value

    step(f"firing one sample event per subscription ({len(ids)})")
    since = _arrival_count(sink)
    fired = fire_samples(list(ids))
    arrived = wait_for_events(set(fired), sink=sink, since=since, timeout=15)
    where = "at the consumer" if sink == "pubsub" else "in the file sink"
    for event in ids:
        mark = "arrived" if event in arrived else "MISSING"
        print(f"    {event:<28} {mark:<8} {where}; {fired.get(event, 'not fired')}")
    step("summary")
    print(f"    subscriptions: {len(ids)} ({', '.join(sorted(ids))})")
    if sink == "pubsub":
        print(f"    receiver -> {TOPIC} (emulator on 127.0.0.1:{PUBSUB_PORT})")
        print(f"    consumer: {CONSUMER.log_file.relative_to(REPO_ROOT)} shows each event")
    else:
        print(f"    receiver sink: {sink_path().relative_to(REPO_ROOT)}")
    print("    next: `make status`, `make down`")
    if set(ids) - arrived:
        fail("some events did not get through; see .state/local/*.log")


def _indent(line: str) -> None:
    print("    " + line.rstrip("\n"), flush=True)


def fire_samples(events: list[str]) -> dict[str, str]:
    """Fire each event through the simulator; event -> what its scenario run recorded."""
    fired: dict[str, str] = {}
    for event in events:
        answer = requests.post(
            SIMULATOR.root_url + "/_sim/fire", json={"eventName": event}, timeout=30
        ).json()
        runs = answer.get("fired", [])
        fired[event] = (
            ", ".join(
                f"run: HTTP {run.get('status')}"
                + (f" ({redact_urls(str(run['error']))})" if run.get("error") else "")
                for run in runs
            )
            or "no active scenario"
        )
    return fired


def _receiver_sink() -> str | None:
    try:
        return (LOCAL / "receiver.sink").read_text().strip()
    except FileNotFoundError:
        return None


def _arrived(sink: str) -> list[str]:
    """The event names that got through so far, oldest first."""
    if sink == "pubsub":
        from tooling.event_consumer import read_record

        return [
            record["attributes"].get("eventName", "") for record in read_record(consumed_path())
        ]
    from receiver.sinks.file import read_events

    if not sink_path().exists():
        return []
    return [record.event_name for record in read_events(sink_path())]


def _arrival_count(sink: str) -> int:
    return len(_arrived(sink))


def wait_for_events(expected: set[str], *, sink: str, since: int = 0, timeout: float) -> set[str]:
    """The events of `expected` that got through after the first `since` arrivals."""
    deadline = time.monotonic() + timeout
    seen: set[str] = set()
    while time.monotonic() < deadline:
        seen = set(_arrived(sink)[since:])
        if expected <= seen:
            break
        time.sleep(0.2)
    return seen & expected


def _has_resources() -> bool:
    if not (STATE / "backend").exists():
        return False
    listed = engine().cli("stack", "ls", "--json", check=False)
    if listed.returncode != 0:
        return False
    stacks = json.loads(listed.stdout or "[]")
    return any(s.get("name") == STACK and s.get("resourceCount") for s in stacks)


def down() -> None:
    if _has_resources():
        step("pulumi destroy (stack `local`)")
        if SIMULATOR.pid() is None:
            step("starting the Texter simulator (destroy talks to it)")
            start_simulator()
        with _handled():
            stack = engine().stack(STACK, infra_program.run)
            stack.destroy(on_output=_indent, show_secrets=False, color="never")
    else:
        step("the local stack has no resources: nothing to destroy")
    step("stopping the local processes")
    RECEIVER.stop()
    CONSUMER.stop()
    PUBSUB.stop()
    SIMULATOR.stop()
    (LOCAL / "receiver.sink").unlink(missing_ok=True)


def status() -> None:
    for service in SERVICES:
        pid = service.pid()
        state = f"running (pid {pid}) on {service.where}" if pid else "stopped"
        print(f"{service.name:<16} {state}")
    running_sink = _receiver_sink()
    if running_sink is not None and RECEIVER.pid() is not None:
        print(f"receiver sink: {running_sink}")
    consumed = consumed_path()
    if consumed.exists():
        from tooling.event_consumer import read_record

        count = len(read_record(consumed))
        print(f"consumer: {count} event(s) pulled, in {consumed.relative_to(REPO_ROOT)}")
    if sink_path().exists():
        from receiver.sinks.file import read_events

        events = list(read_events(sink_path()))
        print(f"file sink: {len(events)} event(s) in {sink_path().relative_to(REPO_ROOT)}")


COMMANDS: dict[str, Callable[[], None]] = {"up": up, "down": down, "status": status}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tooling.local_stack", description=__doc__)
    parser.add_argument("command", choices=sorted(COMMANDS))
    args = parser.parse_args(argv)
    COMMANDS[args.command]()


if __name__ == "__main__":
    main()
