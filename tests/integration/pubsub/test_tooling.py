"""The local stack's Pub/Sub pieces: the emulator's presence check, and the pull consumer
`make up` runs (tooling.event_consumer) against the real emulator."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration.pubsub.conftest import Topic
from tests.integration.receiver.conftest import REPO_ROOT
from tooling.event_consumer import read_record
from tooling.pubsub_emulator import PACKAGE, EmulatorMissing, publisher, require_emulator


def test_a_missing_gcloud_is_reported_naming_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")

    with pytest.raises(EmulatorMissing, match=PACKAGE):
        require_emulator()


def test_the_consumer_shows_and_records_each_event_as_published(
    topic: Topic, tmp_path: Path
) -> None:
    record = tmp_path / "consumed.jsonl"
    ready = tmp_path / "consumer.ready"
    log_path = tmp_path / "consumer.log"
    body = b'{"eventName":"chatAssigned","eventData":{"n":123456789012345678901234567890}}'
    with log_path.open("wb") as log:
        consumer = subprocess.Popen(
            [
                sys.executable,
                "-u",
                "-m",
                "tooling.event_consumer",
                topic.subscription,
                "--record",
                str(record),
                "--ready-file",
                str(ready),
            ],
            cwd=REPO_ROOT,
            env={**os.environ, "PUBSUB_EMULATOR_HOST": topic.emulator},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while not ready.exists():
            assert consumer.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, "the consumer never got ready"
            time.sleep(0.1)
        client = publisher(topic.emulator)
        client.publish(
            topic.topic, body, eventName="chatAssigned", deliveryKey="ab" * 32, receivedAt="t"
        ).result(timeout=30)
        client.stop()
        while not read_record(record):
            assert time.monotonic() < deadline + 30, "nothing was recorded"
            time.sleep(0.1)
    finally:
        consumer.send_signal(signal.SIGTERM)
        consumer.wait(timeout=30)

    [event] = read_record(record)
    assert event["data"].encode() == body
    assert event["attributes"] == {
        "eventName": "chatAssigned",
        "deliveryKey": "ab" * 32,
        "receivedAt": "t",
    }
    assert "chatAssigned" in log_path.read_text()
    assert consumer.returncode == 0
    assert not ready.exists()
