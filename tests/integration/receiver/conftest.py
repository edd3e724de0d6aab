"""Runs the real receiver process (`python -m receiver`) for a test.

The pattern to copy: `receiver` gives a started process with a file sink under tmp_path and
stops it afterwards; `start_receiver` is for tests that need several runs or their own settings.
"""

from __future__ import annotations

import http.client
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
# What follows the interpreter in the command: the container's CMD must say the same.
RECEIVER_ARGV = ("-m", "receiver")
START_TIMEOUT_SECONDS = 20.0
STOP_TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True)
class RunningReceiver:
    process: subprocess.Popen[bytes]
    host: str
    port: int
    secret: str
    sink_path: Path
    # The process's stdout and stderr: its JSON log lines.
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def hook_path(self) -> str:
        return f"/hooks/{self.secret}"

    @property
    def hook_url(self) -> str:
        return f"{self.base_url}{self.hook_path}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def receiver_env(extra: Mapping[str, str] = {}) -> dict[str, str]:
    """The parent's environment without any receiver setting it may carry, plus `extra`."""
    inherited = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("RECEIVER_") and key not in ("HOST", "PORT")
    }
    return {**inherited, **extra}


def start_receiver(
    directory: Path,
    *,
    sink_path: Path | None = None,
    env: Mapping[str, str] = {},
    secret: str | None = None,
    port: int | None = None,
) -> RunningReceiver:
    """Starts `python -m receiver` on 127.0.0.1 and a free port (or `port`, to stand in for
    a new revision behind the same URL); returns once it answers."""
    directory.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    secret = secret or secrets.token_urlsafe(24)
    sink_path = sink_path or directory / "events.jsonl"
    log_path = directory / f"receiver-{port}.log"
    settings = {
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "RECEIVER_SECRET": secret,
        "RECEIVER_SINK": f"file:{sink_path}",
        "RECEIVER_SHUTDOWN_TIMEOUT_SECONDS": "5",
        **env,
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, *RECEIVER_ARGV],
            cwd=REPO_ROOT,
            env=receiver_env(settings),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    running = RunningReceiver(process, "127.0.0.1", port, secret, sink_path, log_path)
    try:
        _wait_until_healthy(running)
    except BaseException:
        stop_receiver(running)
        raise
    return running


def stop_receiver(running: RunningReceiver) -> int:
    """SIGTERM, then SIGKILL if it does not exit in time; returns the exit status."""
    if running.process.poll() is None:
        running.process.send_signal(signal.SIGTERM)
        try:
            running.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            running.process.kill()
            running.process.wait()
    return running.process.returncode


def _wait_until_healthy(running: RunningReceiver) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if running.process.poll() is not None:
            raise RuntimeError(
                f"the receiver exited with {running.process.returncode}:\n{running.log()}"
            )
        connection = http.client.HTTPConnection(running.host, running.port, timeout=2)
        try:
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            connection.close()
        time.sleep(0.05)
    raise RuntimeError(f"the receiver did not become healthy:\n{running.log()}")


ReceiverStarter = Callable[..., RunningReceiver]


@pytest.fixture
def start(tmp_path: Path) -> Iterator[ReceiverStarter]:
    """start(**kwargs) runs a receiver like start_receiver; every one is stopped afterwards."""
    started: list[RunningReceiver] = []

    def start_one(**kwargs: object) -> RunningReceiver:
        running = start_receiver(tmp_path / f"run-{len(started)}", **kwargs)  # type: ignore[arg-type]
        started.append(running)
        return running

    yield start_one
    for running in started:
        stop_receiver(running)


@pytest.fixture
def receiver(start: ReceiverStarter) -> RunningReceiver:
    """A receiver process with a file sink in tmp_path: base_url, secret, sink_path."""
    return start()
