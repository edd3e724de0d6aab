"""A request body made a Delivery: strict JSON, the {eventName, eventData} envelope, its key.

The body is checked, never rebuilt: what the sink gets, and what the key is the hash of, is
the body as received. Parsing and re-serialising would store a parser's reading of it:
123456789012345678901234567890 as 1.2345678901234568e+29, 0.10000000000000000001 as 0.1, and
two deliveries differing only past a double's precision would share one key.

The check is msgspec decoding the body against the envelope's shape, with eventData decoded
into a struct with no fields: every byte is checked as JSON (syntax, escapes, surrogate
pairs, no NaN/Infinity, no BOM, no trailing data) but no Python object is built for what
eventData holds. Building them (orjson.loads) was the largest single cost of an accepted
request: ~9 us of CPU in the server, for objects that were thrown away (bench/receiver).
UTF-8 is checked by decoding the bytes, as msgspec does not look inside the strings it skips.

What the check does not judge is a number's size: a number is valid JSON at any length or
exponent (RFC 8259 leaves its range to the reader), and the receiver keeps it byte for byte
like any other.

Only a body the fast check refuses is decoded whole: to say what is wrong with it, or, should
the two ever disagree, to accept it after all.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated

import msgspec

from receiver.delivery import Delivery

MAX_EVENT_NAME_CHARS = 128

_sha256 = hashlib.sha256


class MalformedBody(ValueError):
    """Not a JSON text we accept (answered with 400)."""


class InvalidEnvelope(ValueError):
    """JSON, but not the envelope Texter sends (answered with 422)."""


class _AnyObject(msgspec.Struct):
    """A JSON object, whatever it holds: its members are checked as JSON and not kept."""


class _Envelope(msgspec.Struct):
    eventName: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_EVENT_NAME_CHARS)]
    eventData: _AnyObject


_decode_envelope = msgspec.json.Decoder(_Envelope).decode
_decode_any = msgspec.json.Decoder().decode
_NOT_CHECKED = (msgspec.DecodeError, UnicodeDecodeError, RecursionError)


def parse_delivery(body: bytes, received_at: str) -> Delivery:
    """Raises MalformedBody or InvalidEnvelope; their messages never quote the body."""
    try:
        body.decode()
        event_name = _decode_envelope(body).eventName
    except _NOT_CHECKED:
        # The whole decode is the authority; the fast check only spares it the common case.
        event_name = _checked_event_name(body)
    return Delivery(_sha256(body).hexdigest(), event_name, body, received_at)


def _checked_event_name(body: bytes) -> str:
    """The event name of a body the fast check refused, or the error that says why not."""
    try:
        body.decode()
    except UnicodeDecodeError as error:
        raise MalformedBody(
            f"the body is not valid JSON: it is not UTF-8 (byte {error.start})"
        ) from None
    try:
        document = _decode_any(body)
    except RecursionError:
        raise MalformedBody("the body is not valid JSON: nesting exceeds the depth limit") from None
    except msgspec.ValidationError:
        # Valid JSON holding a number out of a double's range, which msgspec will not make
        # a float of; the json module reads it as infinity.
        document = json.loads(body)
    except msgspec.DecodeError as error:
        raise MalformedBody(f"the body is not valid JSON: {error}") from None
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
    return event_name


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
