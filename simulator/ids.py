"""Identifiers and timestamps shaped like Texter's (MongoDB ObjectIds, epoch milliseconds)."""

from __future__ import annotations

import itertools
import os
import re
import threading
import time

_OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")
# An ObjectId is 4 bytes of seconds, 5 random bytes fixed per process, 3 bytes of counter:
# ids sort by creation time, like Texter's, which keeps list order stable and realistic.
_PROCESS_RANDOM = os.urandom(5)
_counter = itertools.count(int.from_bytes(os.urandom(3), "big"))
_counter_lock = threading.Lock()


def new_object_id() -> str:
    with _counter_lock:
        count = next(_counter) & 0xFFFFFF
    seconds = int(time.time()) & 0xFFFFFFFF
    return (seconds.to_bytes(4, "big") + _PROCESS_RANDOM + count.to_bytes(3, "big")).hex()


def is_object_id(value: object) -> bool:
    return isinstance(value, str) and _OBJECT_ID.fullmatch(value) is not None


def now_ms() -> int:
    return time.time_ns() // 1_000_000
