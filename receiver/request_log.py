"""The one JSON line per request, in Cloud Logging's shape, without the logging module.

Through `logging` a line cost ~28 us of CPU (a LogRecord, the formatter, a dict, a JSON encoder, a
write(2)): as much as uvicorn's whole handling of the request. Here it is one bytes format of
parts mostly encoded in advance, and the lines of one event-loop turn go out in one write(2),
scheduled with call_soon: under load one write carries many lines, and when the loop is idle a
line is written on its next turn, at once.

Lifecycle messages (start-up, sink failures) still go through `logging` (receiver.logs); both
write whole lines to the same descriptor, so lines never interleave.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

import msgspec

from receiver.logs import STDERR, write_all

LOGGER_NAME = "receiver.requests"

_SEVERITY = {
    logging.DEBUG: b"DEBUG",
    logging.INFO: b"INFO",
    logging.WARNING: b"WARNING",
    logging.ERROR: b"ERROR",
    logging.CRITICAL: b"CRITICAL",
}
_HEAD = (
    b'{"severity":"%s","message":%s,"timestamp":{"seconds":%d,"nanos":%d},"logger":"'
    + LOGGER_NAME.encode()
    + b'","httpRequest":{"requestMethod":%s,"requestUrl":%s,"status":%d,"latency":"%.6fs"}'
)
# One format each, the event's fields in it or not: the line is built in one step.
_LINE = _HEAD + b"}\n"
_EVENT_LINE = _HEAD + b',"eventName":%s,"knownEvent":%s,"deliveryKey":"%s"}\n'
_BOOL = {True: b"true", False: b"false"}
_dumps = msgspec.json.encode
_time = time.time
_METHODS = {name: _dumps(name) for name in ("GET", "POST", "PUT", "DELETE", "HEAD")}


class RequestLog:
    def __init__(
        self, level: int = logging.INFO, write: Callable[[bytes], None] | None = None
    ) -> None:
        self._level = level
        self._write = write if write is not None else self._write_stderr
        self._lines: list[bytes] = []

    @property
    def level(self) -> int:
        return self._level

    def request(
        self,
        severity: int,
        message: str,
        method: str,
        url: str,
        status: int,
        seconds: float,
        event_name: str | None = None,
        known_event: bool = False,
        delivery_key: str = "",
    ) -> None:
        """Queues one line; the caller has checked `severity >= level`."""
        now = _time()
        second = int(now)
        fields = (
            _SEVERITY.get(severity, b"DEFAULT"),
            _dumps(message),
            second,
            int((now - second) * 1e9),
            _METHODS.get(method) or _dumps(method),
            _dumps(url),
            status,
            seconds,
        )
        if event_name is None:
            line = _LINE % fields
        else:
            line = _EVENT_LINE % (
                *fields,
                _dumps(event_name),
                _BOOL[known_event],
                delivery_key.encode(),
            )
        lines = self._lines
        lines.append(line)
        if len(lines) == 1:
            try:
                asyncio.get_running_loop().call_soon(self.flush)
            except RuntimeError:
                self.flush()

    def flush(self) -> None:
        """Writes every queued line now (called on the loop's next turn, and at shutdown)."""
        lines, self._lines = self._lines, []
        if lines:
            # A log that cannot be written must not cost a request; there is nowhere to say so.
            with contextlib.suppress(OSError):
                self._write(b"".join(lines))

    @staticmethod
    def _write_stderr(data: bytes) -> None:
        write_all(STDERR, data)
