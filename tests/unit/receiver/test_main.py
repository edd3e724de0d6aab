"""`python -m receiver` start-up: a bad configuration stops it with a message naming the setting."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from receiver.__main__ import CONFIG_ERROR, main
from receiver.settings import FileSinkSpec, NullSinkSpec, PubSubSinkSpec
from receiver.sinks.factory import build_sink
from receiver.sinks.file import FileSink
from receiver.sinks.null import NullSink
from receiver.sinks.pubsub import PubSubSink

SECRET = "main-test-secret-0123456789"


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """main() configures the process's logging; put back pytest's."""
    root = logging.getLogger()
    switches = ("logThreads", "logProcesses", "logMultiprocessing", "_srcfile")
    saved = (root.handlers[:], root.level, {name: getattr(logging, name) for name in switches})
    yield
    root.handlers[:], root.level = saved[0], saved[1]
    for name, value in saved[2].items():
        setattr(logging, name, value)


def test_a_bad_setting_stops_start_up_naming_it_without_the_secret(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status = main({"RECEIVER_SECRET": f"{SECRET},short", "RECEIVER_SINK": "null"})

    assert status == CONFIG_ERROR
    error = capsys.readouterr().err
    assert "RECEIVER_SECRET" in error
    assert SECRET not in error
    assert "short" not in error


def test_a_sink_that_cannot_be_opened_stops_start_up(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "not-a-dir").write_text("")

    status = main(
        {"RECEIVER_SECRET": SECRET, "RECEIVER_SINK": f"file:{tmp_path}/not-a-dir/events.jsonl"}
    )

    assert status == CONFIG_ERROR
    assert "RECEIVER_SINK" in capsys.readouterr().err


@pytest.mark.anyio
async def test_each_sink_kind_is_built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The emulator setting makes the real client skip credentials and connect lazily.
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", "127.0.0.1:9")

    file_sink = build_sink(FileSinkSpec(tmp_path / "events.jsonl"))
    pubsub_sink = build_sink(PubSubSinkSpec("projects/my-project/topics/texter-events"))

    assert isinstance(file_sink, FileSink)
    assert isinstance(build_sink(NullSinkSpec()), NullSink)
    assert isinstance(pubsub_sink, PubSubSink)
    await file_sink.close()
    await pubsub_sink.close()
