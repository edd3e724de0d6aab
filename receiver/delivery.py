"""A webhook delivery as it is handed to a sink, and the record the sinks store for it."""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass

import orjson


@dataclass(frozen=True, slots=True)
class Delivery:
    # Hex sha256 of the canonical JSON body: the same delivery retried gets the same key.
    key: str
    event_name: str
    # eventData as canonical JSON (UTF-8), kept serialised because every sink stores it so.
    event_data_json: bytes
    # RFC 3339, UTC, microseconds.
    received_at: str

    def record_json(self) -> bytes:
        """One JSON object: receivedAt, deliveryKey, eventName, eventData (no newline)."""
        # Assembled by hand so eventData, already canonical JSON, is not serialised twice.
        return b"".join(
            (
                b'{"receivedAt":"',
                self.received_at.encode(),
                b'","deliveryKey":"',
                self.key.encode(),
                b'","eventName":',
                orjson.dumps(self.event_name),
                b',"eventData":',
                self.event_data_json,
                b"}",
            )
        )


def utc_timestamp() -> str:
    """Now, as RFC 3339 in UTC with microseconds: the form receivedAt is stored in."""
    now = time.time()
    second = int(now)
    return f"{_utc_second(second)}.{int((now - second) * 1_000_000):06d}Z"


# Formatting a date is slow next to the rest of a request; it changes once a second.
@functools.lru_cache(maxsize=4)
def _utc_second(second: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
