"""Log lines: one JSON object per line, in Cloud Logging's field names."""

from __future__ import annotations

import json
import logging
import os
import sys

import pytest

from receiver.logs import FIELDS, JsonFormatter, JsonLineHandler, configure_logging


def record(message: str = "accepted", **fields: object) -> logging.LogRecord:
    made = logging.LogRecord("receiver.requests", logging.WARNING, __file__, 1, message, None, None)
    made.created = 1700000000.25
    setattr(made, FIELDS, fields)
    return made


def test_a_line_has_severity_message_timestamp_and_the_fields() -> None:
    line = JsonFormatter().format(record(eventName="chatAssigned", httpRequest={"status": 200}))

    assert json.loads(line) == {
        "severity": "WARNING",
        "message": "accepted",
        "timestamp": {"seconds": 1700000000, "nanos": 250000000},
        "logger": "receiver.requests",
        "eventName": "chatAssigned",
        "httpRequest": {"status": 200},
    }


def test_a_stack_trace_goes_into_the_message() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        failed = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, None)
        failed.exc_info = sys.exc_info()

    message = json.loads(JsonFormatter().format(failed))["message"]

    assert message.startswith("failed\nTraceback")
    assert "RuntimeError: boom" in message


class _Unencodable:
    def __str__(self) -> str:
        return "an odd value"


def test_a_value_json_cannot_hold_is_logged_as_text() -> None:
    line = JsonFormatter().format(record(odd=_Unencodable(), usual={1}))

    assert json.loads(line)["odd"] == "an odd value"
    assert json.loads(line)["usual"] == [1]


def test_the_handler_writes_exactly_one_line_per_record() -> None:
    read_end, write_end = os.pipe()
    handler = JsonLineHandler(write_end)
    try:
        handler.handle(record("first\nsecond"))
        handler.handle(record("third"))
        os.close(write_end)
        written = os.read(read_end, 65536)
    finally:
        os.close(read_end)

    lines = written.decode().splitlines()
    assert [json.loads(line)["message"] for line in lines] == ["first\nsecond", "third"]


@pytest.mark.parametrize("level", ["DEBUG", "ERROR"])
def test_configure_logging_sends_every_logger_to_one_handler(level: str) -> None:
    root = logging.getLogger()
    switches = ("logThreads", "logProcesses", "logMultiprocessing", "_srcfile")
    saved = (root.handlers[:], root.level, {name: getattr(logging, name) for name in switches})
    try:
        configure_logging(level, fd=1)
        assert [type(h) for h in root.handlers] == [JsonLineHandler]
        assert root.level == logging.getLevelName(level)
    finally:
        root.handlers[:], root.level = saved[0], saved[1]
        for name, value in saved[2].items():
            setattr(logging, name, value)
