"""A webhook delivery as it is handed to a sink, and the record the sinks store for it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True, slots=True)
class Delivery:
    # Hex sha256 of the canonical JSON body: the same delivery retried gets the same key.
    key: str
    event_name: str
    # eventData as canonical JSON text, kept serialised because every sink stores it that way.
    event_data_json: str
    # RFC 3339, UTC, microseconds.
    received_at: str

    def record_json(self) -> str:
        """One JSON object: receivedAt, deliveryKey, eventName, eventData (no newline)."""
        # Assembled by hand so eventData, already canonical text, is not serialised twice.
        return (
            f'{{"receivedAt":"{self.received_at}","deliveryKey":"{self.key}",'
            f'"eventName":{json.dumps(self.event_name)},"eventData":{self.event_data_json}}}'
        )


def utc_timestamp() -> str:
    """Now, as RFC 3339 in UTC with microseconds: the form receivedAt is stored in."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
