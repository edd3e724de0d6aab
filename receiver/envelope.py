"""A request body made a Delivery: strict JSON, the {eventName, eventData} envelope, its key.

The body is parsed only to be checked; what the sink gets, and what the key is the hash of,
is the body as received. Parsing and re-serialising would store a parser's reading of it:
123456789012345678901234567890 as 1.2345678901234568e+29, 0.10000000000000000001 as 0.1,
and two deliveries differing only past a double's precision would share one key.

orjson checks: fast, and strict where the receiver wants strictness: UTF-8 only (no BOM, no
lone surrogates), no NaN or Infinity, no number outside a double's range (1e999: no JavaScript
sender can produce one), nesting at most 1024 deep.
"""

from __future__ import annotations

import hashlib

import orjson

from receiver.delivery import Delivery

MAX_EVENT_NAME_CHARS = 128

_sha256 = hashlib.sha256
_loads = orjson.loads


class MalformedBody(ValueError):
    """Not a JSON text we accept (answered with 400)."""


class InvalidEnvelope(ValueError):
    """JSON, but not the envelope Texter sends (answered with 422)."""


def parse_delivery(body: bytes, received_at: str) -> Delivery:
    """Raises MalformedBody or InvalidEnvelope; their messages never quote the body."""
    try:
        document = _loads(body)
    except orjson.JSONDecodeError as error:
        raise MalformedBody(f"the body is not valid JSON: {error.msg}") from None
    if type(document) is not dict:
        raise InvalidEnvelope(f"the body must be a JSON object, not {_kind(document)}")
    event_name = document.get("eventName")
    if type(event_name) is not str:
        raise InvalidEnvelope(f"eventName must be a string, not {_kind(event_name)}")
    if not event_name or len(event_name) > MAX_EVENT_NAME_CHARS:
        raise InvalidEnvelope(f"eventName must be 1 to {MAX_EVENT_NAME_CHARS} characters")
    event_data = document.get("eventData")
    if type(event_data) is not dict:
        raise InvalidEnvelope(f"eventData must be an object, not {_kind(event_data)}")
    return Delivery(_sha256(body).hexdigest(), event_name, body, received_at)


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
