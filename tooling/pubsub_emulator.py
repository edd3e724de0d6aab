"""Google's Pub/Sub emulator, run locally: found, started, waited for, stopped; and the few
admin calls (topics, subscriptions, a synchronous pull) the local stack and the tests make.

The emulator is the `gcloud` component of the Debian package google-cloud-cli-pubsub-emulator
(Java 17). It speaks gRPC and, on the same port, plain HTTP/1.1, where GET / answers "Ok."
once it serves: that is the readiness check.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PACKAGE = "google-cloud-cli-pubsub-emulator"
# It takes several seconds (a JVM) to serve; more on a loaded machine.
START_TIMEOUT_SECONDS = 90.0
STOP_TIMEOUT_SECONDS = 15.0
_COMPONENT = Path("platform", "pubsub-emulator", "bin", "cloud-pubsub-emulator")


class EmulatorMissing(RuntimeError):
    pass


class EmulatorFailed(RuntimeError):
    pass


def require_emulator() -> str:
    """The `gcloud` to run the emulator with; raises EmulatorMissing saying what to install."""
    gcloud = shutil.which("gcloud")
    if gcloud is None:
        raise EmulatorMissing(
            f"`gcloud` is not on PATH: install the Debian package {PACKAGE} "
            "(from Google's apt repository; it brings google-cloud-cli)"
        )
    sdk_root = Path(os.path.realpath(gcloud)).parent.parent
    if not (sdk_root / _COMPONENT).exists():
        raise EmulatorMissing(
            f"the Pub/Sub emulator component is missing from {sdk_root}: install the Debian "
            f"package {PACKAGE} (or `gcloud components install pubsub-emulator`)"
        )
    if shutil.which("java") is None:
        raise EmulatorMissing(
            f"`java` is not on PATH: {PACKAGE} needs Java 17 (Debian: openjdk-17-jre-headless)"
        )
    return gcloud


def emulator_argv(gcloud: str, host: str, port: int, data_dir: Path) -> list[str]:
    return [
        gcloud,
        "beta",
        "emulators",
        "pubsub",
        "start",
        f"--host-port={host}:{port}",
        f"--data-dir={data_dir}",
        "--quiet",
    ]


def is_serving(host_port: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(f"http://{host_port}/", timeout=timeout) as response:
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError):
        return False


@dataclass
class RunningEmulator:
    process: subprocess.Popen[bytes]
    host_port: str
    log_path: Path

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no output)"


def start_emulator(
    host: str,
    port: int,
    data_dir: Path,
    log_path: Path,
    *,
    timeout: float = START_TIMEOUT_SECONDS,
) -> RunningEmulator:
    """Starts the emulator on host:port and returns once it serves, or stops it and raises.

    Its output goes to `log_path`. It runs in a session of its own: gcloud starts Java as a
    child, and stop_emulator signals the whole group.
    """
    gcloud = require_emulator()
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        process = subprocess.Popen(  # noqa: S603 - gcloud, found on PATH
            emulator_argv(gcloud, host, port, data_dir),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    running = RunningEmulator(process, f"{host}:{port}", log_path)
    try:
        wait_until_serving(running, timeout)
    except BaseException:
        stop_process_group(process.pid)
        raise
    return running


def wait_until_serving(running: RunningEmulator, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if running.process.poll() is not None:
            raise EmulatorFailed(
                f"the Pub/Sub emulator exited with {running.process.returncode}:\n"
                f"{running.log_tail()}"
            )
        if is_serving(running.host_port):
            return
        time.sleep(0.2)
    raise EmulatorFailed(
        f"the Pub/Sub emulator did not serve on {running.host_port} within {timeout:g} s:\n"
        f"{running.log_tail()}"
    )


def stop_process_group(pid: int, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
    """SIGTERM to the group `pid` leads (gcloud and its Java), then SIGKILL if it lingers."""
    with suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    with suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    with suppress(ChildProcessError):
        os.waitpid(pid, 0)


def stop_emulator(running: RunningEmulator) -> None:
    stop_process_group(running.process.pid)
    with suppress(subprocess.TimeoutExpired):
        running.process.wait(timeout=STOP_TIMEOUT_SECONDS)


@contextmanager
def emulator(host: str, port: int, work_dir: Path) -> Iterator[RunningEmulator]:
    running = start_emulator(host, port, work_dir / "data", work_dir / "emulator.log")
    try:
        yield running
    finally:
        stop_emulator(running)


# Admin calls, through clients bound to the emulator explicitly (no PUBSUB_EMULATOR_HOST in
# this process's environment needed).


def _channel(host_port: str) -> Any:
    import grpc

    return grpc.insecure_channel(host_port)


def publisher(host_port: str) -> Any:
    from google.cloud import pubsub_v1
    from google.pubsub_v1.services.publisher.transports import PublisherGrpcTransport

    transport = PublisherGrpcTransport(channel=_channel(host_port))
    return pubsub_v1.PublisherClient(transport=transport)


def subscriber(host_port: str) -> Any:
    from google.cloud import pubsub_v1
    from google.pubsub_v1.services.subscriber.transports import SubscriberGrpcTransport

    transport = SubscriberGrpcTransport(channel=_channel(host_port))
    return pubsub_v1.SubscriberClient(transport=transport)


def ensure_topic(host_port: str, topic: str) -> None:
    from google.api_core.exceptions import AlreadyExists

    with suppress(AlreadyExists):
        publisher(host_port).create_topic(request={"name": topic}, timeout=30)


def ensure_subscription(host_port: str, topic: str, subscription: str) -> None:
    from google.api_core.exceptions import AlreadyExists

    client = subscriber(host_port)
    try:
        with suppress(AlreadyExists):
            client.create_subscription(
                request={"name": subscription, "topic": topic, "ack_deadline_seconds": 30},
                timeout=30,
            )
    finally:
        client.close()


@dataclass(frozen=True)
class PulledMessage:
    data: bytes
    attributes: Mapping[str, str]
    message_id: str


def pull(
    host_port: str, subscription: str, *, at_least: int = 0, timeout: float = 30.0
) -> list[PulledMessage]:
    """Pulls and acknowledges what `subscription` holds: until `at_least` messages have come,
    then until a pull comes back empty (or `timeout`)."""
    from google.api_core.exceptions import DeadlineExceeded

    client = subscriber(host_port)
    pulled: list[PulledMessage] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            # A pull waits for messages until its own timeout: short once the count is met.
            wait = 1.0 if len(pulled) >= at_least else 5.0
            try:
                response = client.pull(
                    request={"subscription": subscription, "max_messages": 1000}, timeout=wait
                )
            except DeadlineExceeded:
                response = None
            received = response.received_messages if response is not None else []
            if not received:
                if len(pulled) >= at_least:
                    break
                continue
            pulled.extend(
                PulledMessage(
                    bytes(item.message.data), dict(item.message.attributes), item.message.message_id
                )
                for item in received
            )
            client.acknowledge(
                request={
                    "subscription": subscription,
                    "ack_ids": [item.ack_id for item in received],
                },
                timeout=30,
            )
    finally:
        client.close()
    return pulled
