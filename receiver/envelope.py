"""A request body made a Delivery: strict JSON, the {eventName, eventData} envelope, its key."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from receiver.delivery import Delivery

MAX_EVENT_NAME_CHARS = 128
# The canonical form every key is computed over: the same JSON value gives the same text
# whatever the sender's key order and whitespace. ASCII-only, so that any string JSON can
# carry (lone surrogates included) encodes, and every sink gets plain ASCII.
_canonical = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
).encode
_encode_string = json.JSONEncoder(ensure_ascii=True).encode


class MalformedBody(ValueError):
    """Not a JSON text we accept (answered with 400)."""


class InvalidEnvelope(ValueError):
    """JSON, but not the envelope Texter sends (answered with 422)."""


def parse_delivery(body: bytes, received_at: str) -> Delivery:
    document = _parse_json(body)
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
        event_data_json = _canonical(event_data)
        canonical_body = _canonical_envelope(document, event_data_json)
    except ValueError:
        # allow_nan=False: a number too large for a float (1e999) parses to inf.
        raise MalformedBody("a number is out of range") from None
    except RecursionError:
        raise MalformedBody("the JSON is nested too deeply") from None
    return Delivery(
        key=hashlib.sha256(canonical_body.encode("ascii")).hexdigest(),
        event_name=event_name,
        event_data_json=event_data_json,
        received_at=received_at,
    )


def _parse_json(body: bytes) -> Any:
    try:
        # Decoded here, not by json.loads, which would also guess UTF-16 and UTF-32.
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedBody("the body is not valid UTF-8") from None
    try:
        return json.loads(
            text, object_pairs_hook=_reject_duplicate_keys, parse_constant=_reject_constant
        )
    except RecursionError:
        raise MalformedBody("the JSON is nested too deeply") from None
    except MalformedBody:
        raise
    except ValueError as error:
        # JSONDecodeError, and the int parser's limit on digits: never the body's text.
        reason = error.msg if isinstance(error, json.JSONDecodeError) else "invalid number"
        raise MalformedBody(f"the body is not valid JSON: {reason}") from None


def _canonical_envelope(document: dict[str, Any], event_data_json: str) -> str:
    # What _canonical(document) returns, without serialising eventData a second time.
    members = (
        f"{_encode_string(name)}:"
        f"{event_data_json if name == 'eventData' else _canonical(document[name])}"
        for name in sorted(document)
    )
    return "{" + ",".join(members) + "}"


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) != len(pairs):
        # Parsers disagree on which duplicate wins; an ambiguous delivery is refused.
        raise MalformedBody("the body has an object with a duplicate key")
    return document


def _reject_constant(name: str) -> Any:
    raise MalformedBody(f"{name} is not valid JSON")


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
