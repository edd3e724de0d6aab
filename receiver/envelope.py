"""A request body made a Delivery: strict JSON, the {eventName, eventData} envelope, its key.

orjson rather than the json module: parsing and canonical serialisation are most of the
receiver's own time per request, and orjson does both several times faster. It is also strict
where the receiver wants strictness: UTF-8 only (no BOM, no lone surrogates), no NaN or
Infinity, no number that overflows a double.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from receiver.delivery import Delivery

MAX_EVENT_NAME_CHARS = 128
# The canonical form a key is computed over: the same JSON value gives the same bytes whatever
# the sender's key order and whitespace (keys sorted at every level, no whitespace, UTF-8).
_SORTED = orjson.OPT_SORT_KEYS


class MalformedBody(ValueError):
    """Not a JSON text we accept (answered with 400)."""


class InvalidEnvelope(ValueError):
    """JSON, but not the envelope Texter sends (answered with 422)."""


def parse_delivery(body: bytes, received_at: str) -> Delivery:
    """Raises MalformedBody or InvalidEnvelope; their messages never quote the body."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise MalformedBody(f"the body is not valid JSON: {error.msg}") from None
    if not isinstance(document, dict):
        raise InvalidEnvelope(f"the body must be a JSON object, not {_kind(document)}")
    event_name = document.get("eventName")
    if not isinstance(event_name, str):
        raise InvalidEnvelope(f"eventName must be a string, not {_kind(event_name)}")
    if not event_name or len(event_name) > MAX_EVENT_NAME_CHARS:
        raise InvalidEnvelope(f"eventName must be 1 to {MAX_EVENT_NAME_CHARS} characters")
    event_data = document.get("eventData")
    if not isinstance(event_data, dict):
        raise InvalidEnvelope(f"eventData must be an object, not {_kind(event_data)}")
    try:
        event_data_json = orjson.dumps(event_data, option=_SORTED)
        canonical_body = _canonical_envelope(document, event_data_json)
    except orjson.JSONEncodeError:
        # orjson serialises less deeply than it parses.
        raise MalformedBody("the JSON is nested too deeply") from None
    return Delivery(
        key=hashlib.sha256(canonical_body).hexdigest(),
        event_name=event_name,
        event_data_json=event_data_json,
        received_at=received_at,
    )


def _canonical_envelope(document: dict[str, Any], event_data_json: bytes) -> bytes:
    # The bytes orjson.dumps(document, option=_SORTED) gives, without serialising eventData
    # again. Python's sort on str is orjson's (code point order is UTF-8 byte order).
    members = [
        orjson.dumps(name)
        + b":"
        + (event_data_json if name == "eventData" else orjson.dumps(document[name], option=_SORTED))
        for name in sorted(document)
    ]
    return b"{" + b",".join(members) + b"}"


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"
