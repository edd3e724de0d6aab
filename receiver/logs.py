"""One JSON object per log line, with the field names Cloud Logging reads from a container."""

from __future__ import annotations

import logging
import os
from typing import Any

import msgspec

# Callers put structured fields under this `extra` key; the formatter merges them in.
FIELDS = "json_fields"
STDERR = 2


def write_all(fd: int, data: bytes) -> None:
    """Writes all of `data` to `fd`, however many write(2) calls it takes."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return self.format_bytes(record).decode()

    def format_bytes(self, record: logging.LogRecord) -> bytes:
        message = record.getMessage()
        if record.exc_info:
            # Error Reporting picks a stack trace up only from the message text.
            message = f"{message}\n{self.formatException(record.exc_info)}"
        seconds = int(record.created)
        entry: dict[str, Any] = {
            "severity": record.levelname,
            "message": message,
            # Cloud Logging's structured form of a timestamp: no date formatting per line.
            "timestamp": {"seconds": seconds, "nanos": int((record.created - seconds) * 1e9)},
            "logger": record.name,
        }
        fields = getattr(record, FIELDS, None)
        if fields:
            entry.update(fields)
        # enc_hook=str: a stray non-JSON value must cost a log line its precision, not the request.
        return msgspec.json.encode(entry, enc_hook=str)


class JsonLineHandler(logging.Handler):
    """Writes each record with one write(2): lines from concurrent writers never interleave."""

    def __init__(self, fd: int = STDERR) -> None:
        super().__init__()
        self._fd = fd
        self._formatter = JsonFormatter()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            os.write(self._fd, self._formatter.format_bytes(record) + b"\n")
        except Exception:
            self.handleError(record)


def configure_logging(level: str, fd: int = STDERR) -> None:
    """Route every logger (uvicorn's too) through one JSON handler writing to `fd`."""
    # The documented switches for skipping record attributes nobody reads here; they cost
    # a measurable share of a request's time.
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    logging._srcfile = None
    root = logging.getLogger()
    root.handlers[:] = [JsonLineHandler(fd)]
    root.setLevel(level)
