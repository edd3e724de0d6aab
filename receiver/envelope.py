"""A request body made a Delivery: strict JSON, the {eventName, eventData} envelope, its key.

The body is checked, never rebuilt: what the sink gets, and what the key is the hash of, is
the body as received. Parsing and re-serialising would store a parser's reading of it:
123456789012345678901234567890 as 1.2345678901234568e+29, 0.10000000000000000001 as 0.1, and
two deliveries differing only past a double's precision would share one key.

One judge: msgspec decoding the body against the envelope's shape, with eventData decoded
into a struct with no fields. Every byte is checked as RFC 8259 JSON (syntax, escapes and
surrogate pairs, no NaN/Infinity, no BOM, no trailing data, nesting bounded) but no Python
object is built for what eventData holds; building them (orjson.loads) was the largest single
cost of an accepted request (the figure: bench/README.md). UTF-8 is checked by decoding the
bytes, as msgspec does not look inside the strings it skips. What it skips is checked as JSON
and never converted, so a number is valid at any length or exponent (RFC 8259 leaves its
range to the reader) and is kept byte for byte like any other.

A body this check refuses is refused: it is never handed to a second, looser parser. It is
only looked at again to say what is wrong with it (400 for JSON that is not valid, 422 for
valid JSON that is not the envelope), by msgspec again, and that look can only refuse.
"""

from __future__ import annotations

import hashlib
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


class _Members(msgspec.Struct):
    """The envelope's members as their JSON text (checked as JSON, never converted)."""

    # An empty text for a member that is missing.
    eventName: msgspec.Raw = msgspec.Raw(b"")
    eventData: msgspec.Raw = msgspec.Raw(b"")


_decode_envelope = msgspec.json.Decoder(_Envelope).decode
_decode_members = msgspec.json.Decoder(_Members).decode
_decode_str = msgspec.json.Decoder(str).decode
_decode_raw = msgspec.json.Decoder(msgspec.Raw).decode
_REFUSED = (msgspec.DecodeError, UnicodeDecodeError, RecursionError)


def parse_delivery(body: bytes, received_at: str) -> Delivery:
    """Raises MalformedBody or InvalidEnvelope; their messages never quote the body."""
    try:
        body.decode()
        event_name = _decode_envelope(body).eventName
    except _REFUSED:
        raise _why_refused(body) from None
    return Delivery(_sha256(body).hexdigest(), event_name, body, received_at)


def _why_refused(body: bytes) -> MalformedBody | InvalidEnvelope:
    """What is wrong with a body the check refused. Never says nothing is: it refused."""
    try:
        body.decode()
    except UnicodeDecodeError as error:
        return MalformedBody(f"the body is not valid JSON: it is not UTF-8 (byte {error.start})")
    try:
        members = _decode_members(body)
    except RecursionError:
        return MalformedBody("the body is not valid JSON: nesting exceeds the depth limit")
    except msgspec.ValidationError:
        # The text is not an object: what it is, once it is known to be JSON at all.
        return _malformed_or(
            body, InvalidEnvelope(f"the body must be a JSON object, not {_kind(body)}")
        )
    except msgspec.DecodeError as error:
        return MalformedBody(f"the body is not valid JSON: {error}")
    problem = _member_problem(members)
    if problem is None:
        # msgspec refused the envelope but can say nothing more: refuse it all the same.
        problem = "eventName or eventData is not what the envelope holds"
    return InvalidEnvelope(problem)


def _malformed_or(body: bytes, otherwise: InvalidEnvelope) -> MalformedBody | InvalidEnvelope:
    """MalformedBody if the text is not valid JSON as a whole, else `otherwise`.

    A shape error stops msgspec where it is found, before the rest of the text is read.
    """
    try:
        _decode_raw(body)
    except RecursionError:
        return MalformedBody("the body is not valid JSON: nesting exceeds the depth limit")
    except msgspec.DecodeError as error:
        return MalformedBody(f"the body is not valid JSON: {error}")
    return otherwise


def _member_problem(members: _Members) -> str | None:
    name = bytes(members.eventName)
    kind = _kind(name)
    if kind != "a string":
        return f"eventName must be a string, not {kind}"
    try:
        text = _decode_str(name)
    except msgspec.DecodeError:
        return None
    if not text or len(text) > MAX_EVENT_NAME_CHARS:
        return f"eventName must be 1 to {MAX_EVENT_NAME_CHARS} characters"
    kind = _kind(bytes(members.eventData))
    if kind != "an object":
        return f"eventData must be an object, not {kind}"
    return None


def _kind(text: bytes) -> str:
    """What a JSON value is, from its first byte (the text has been checked as JSON; an
    empty one is a member that is missing)."""
    first = text.lstrip(b" \t\r\n")[:1]
    if first == b"{":
        return "an object"
    if first == b"[":
        return "an array"
    if first == b'"':
        return "a string"
    if first in (b"t", b"f"):
        return "a boolean"
    if first in (b"n", b""):
        return "null"
    return "a number"
