"""A webhook delivery as it is handed to a sink, and the record the file sink stores for it."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import NamedTuple

import msgspec


# A NamedTuple: immutable like a frozen dataclass, at half its construction cost, which is
# paid on every request.
class Delivery(NamedTuple):
    # Hex sha256 of the body exactly as received: a retry of the same bytes gets the same key,
    # and two bodies that differ in any byte (say, the last digit of a 30-digit number, which
    # a parser would round away) never share one.
    key: str
    event_name: str
    # The request body byte for byte, as Texter sent it: no parser's idea of a number, key
    # order or escape is ever stored in its place. Valid UTF-8 JSON (it has been validated).
    body: bytes
    # RFC 3339, UTC, microseconds.
    received_at: str

    def attributes(self) -> dict[str, str]:
        """What travels beside the body (Pub/Sub message attributes)."""
        return {
            "eventName": self.event_name,
            "deliveryKey": self.key,
            "receivedAt": self.received_at,
        }


class _Record(msgspec.Struct):
    """One line of the file sink's file: receivedAt, deliveryKey, eventName, and body.

    body is the received body as a JSON string, a lossless form that still fits on one line
    (a body may hold newlines between its tokens): `record["body"].encode()` gives back the
    received bytes exactly.
    """

    receivedAt: str
    deliveryKey: str
    eventName: str
    body: str


_encode_lines = msgspec.json.Encoder().encode_lines


def record_lines(deliveries: Iterable[Delivery]) -> bytes:
    """The file sink's lines for `deliveries`, each ending in a newline, encoded in one call."""
    return _encode_lines(
        [
            # Strict decoding cannot fail: the body parsed as JSON, which is UTF-8 without
            # lone surrogates, so this is a round trip.
            _Record(delivery.received_at, delivery.key, delivery.event_name, delivery.body.decode())
            for delivery in deliveries
        ]
    )


_time = time.time
# Formatting a date is slow next to the rest of a request, and it changes once a second:
# the last second formatted, and its text.
_last_second = [-1, ""]


def utc_timestamp() -> str:
    """Now, as RFC 3339 in UTC with microseconds: the form receivedAt is stored in."""
    now = _time()
    second = int(now)
    cached = _last_second
    if second != cached[0]:
        cached[1] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        cached[0] = second
    return f"{cached[1]}.{int((now - second) * 1_000_000):06d}Z"
