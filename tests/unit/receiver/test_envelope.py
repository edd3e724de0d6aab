"""Parsing a body into a Delivery, and the key that recognises the same delivery again."""

from __future__ import annotations

import contextlib
import hashlib
import json
from typing import Any

import pytest

from receiver.delivery import Delivery, record_lines, utc_timestamp
from receiver.envelope import InvalidEnvelope, MalformedBody, parse_delivery
from tests.unit.receiver.test_bad_inputs import BODIES

ENVELOPE: dict[str, Any] = {
    "eventName": "newMessage",
    "eventData": {
        "message": {"text": "¿Dónde está mi pedido? 📦", "id": 1},
        "chat": {"b": 1, "a": [2, 1]},
    },
}


def parse(document: object, **dumps: object) -> Delivery:
    return parse_delivery(json.dumps(document, **dumps).encode(), "2026-01-02T03:04:05.000006Z")  # type: ignore[arg-type]


def test_the_key_is_the_sha256_of_the_body_as_received() -> None:
    body = json.dumps(ENVELOPE, indent=3, ensure_ascii=False).encode()

    delivery = parse_delivery(body, "2026-01-02T03:04:05.000006Z")

    assert delivery.key == hashlib.sha256(body).hexdigest()
    assert delivery.body is body


@pytest.mark.parametrize(
    "changed",
    [
        {**ENVELOPE, "eventName": "newIncomingMessage"},
        {**ENVELOPE, "eventData": {**ENVELOPE["eventData"], "extra": None}},
        {**ENVELOPE, "eventData": {"chat": {"b": 1, "a": [1, 2]}}},
        {**ENVELOPE, "deliveredAt": "2026-01-01"},
    ],
)
def test_any_change_of_value_changes_the_key(changed: dict[str, object]) -> None:
    assert parse(changed).key != parse(ENVELOPE).key


@pytest.mark.parametrize(
    ("number", "other"),
    [
        ("123456789012345678901234567890", "123456789012345678901234567891"),
        ("0.10000000000000000001", "0.1"),
        ("9007199254740993", "9007199254740992"),
        # Past a double's range: valid JSON all the same, and kept as written.
        ("1E400", "1e400"),
        ("-1e999", "-1e998"),
    ],
)
def test_numbers_a_parser_rounds_alike_get_different_keys(number: str, other: str) -> None:
    bodies = [b'{"eventName":"x","eventData":{"n":%s}}' % n.encode() for n in (number, other)]

    first, second = (parse_delivery(body, "t") for body in bodies)

    assert first.key != second.key
    assert (first.body, second.body) == tuple(bodies)


def test_whitespace_and_key_order_are_part_of_the_bytes_hashed() -> None:
    reordered = dict(reversed(ENVELOPE.items()))

    assert parse(ENVELOPE).key != parse(reordered).key
    assert parse(ENVELOPE).key != parse(ENVELOPE, indent=2).key
    assert parse(ENVELOPE).key == parse(ENVELOPE).key


def test_the_record_holds_the_body_losslessly_on_one_line() -> None:
    body = (
        b'{\n  "eventName": "newMessage",\n  "eventData": {"n": 123456789012345678901234567890,'
        b' "f": 0.10000000000000000001,'
        b' "t": "\xc2\xbfD\xc3\xb3nde? \\u00e9 \\" \xf0\x9f\x93\xa6"}\n}'
    )
    delivery = parse_delivery(body, "2026-01-02T03:04:05.000006Z")

    (line,) = record_lines([delivery]).splitlines()
    record = json.loads(line)

    assert b"\n" not in line
    assert record == {
        "receivedAt": "2026-01-02T03:04:05.000006Z",
        "deliveryKey": delivery.key,
        "eventName": "newMessage",
        "body": body.decode(),
    }
    assert record["body"].encode() == body


def test_the_attributes_name_the_delivery() -> None:
    delivery = parse(ENVELOPE)

    assert delivery.attributes() == {
        "eventName": "newMessage",
        "deliveryKey": delivery.key,
        "receivedAt": "2026-01-02T03:04:05.000006Z",
    }


def test_an_event_name_needing_escapes_stays_valid_json_in_the_record() -> None:
    delivery = parse({"eventName": 'quote" and \\ and \n', "eventData": {}})

    assert json.loads(record_lines([delivery]))["eventName"] == 'quote" and \\ and \n'


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{", "the body is not valid JSON"),
        (b'{"eventName":"\xff","eventData":{}}', "the body is not valid JSON"),
        (b'{"eventName":"x","eventData":' + b"[" * 2000 + b"]" * 2000 + b"}", "depth"),
        (b'{"eventName":"x","eventData":{"a":tru}}', "not valid JSON: JSON is malformed"),
        (b'{"eventName":"x","eventData":{"a":"\\ud800"}}', "not valid JSON"),
        (b'{"eventName":"x","eventData":{"a":"\xed\xa0\x80"}}', "not UTF-8 \\(byte 35\\)"),
        (b'{"eventName":"x","eventData":{"a":NaN}}', "not valid JSON"),
    ],
)
def test_malformed_bodies_are_told_apart_from_wrong_envelopes(body: bytes, message: str) -> None:
    with pytest.raises(MalformedBody, match=message):
        parse_delivery(body, "t")


def test_error_messages_never_quote_the_body() -> None:
    body = b'{"eventName": "x", "eventData": {"secretValue": tru}}'

    with pytest.raises(MalformedBody) as raised:
        parse_delivery(body, "t")

    assert "secretValue" not in str(raised.value)


def test_a_wrong_envelope_says_which_member_is_wrong() -> None:
    with pytest.raises(InvalidEnvelope, match="eventData must be an object, not a boolean"):
        parse({"eventName": "x", "eventData": True})


def test_timestamps_are_rfc3339_utc_with_microseconds() -> None:
    stamp = utc_timestamp()

    assert len(stamp) == len("2026-01-02T03:04:05.000006Z")
    assert stamp[10] == "T"
    assert stamp.endswith("Z")


@pytest.mark.parametrize(
    ("name", "refusal"),
    [
        # Past the 4,300 digits Python's int() takes: judged all the same (the unit app's
        # body limit is below these, so they are checked here rather than through it).
        ("5000 digits then NaN", MalformedBody),
        ("5000-digit event name", InvalidEnvelope),
        ("huge exponent then NaN", MalformedBody),
        ("huge exponent then a lone surrogate name", MalformedBody),
    ],
)
def test_bodies_past_a_number_s_range_are_judged_whole(name: str, refusal: type[Exception]) -> None:
    with pytest.raises(refusal):
        parse_delivery(BODIES[name], "t")


def test_a_number_of_any_size_is_kept_byte_for_byte() -> None:
    body = BODIES["5000 digits"]

    assert parse_delivery(body, "t").body is body


def _strict_rfc_8259(body: bytes) -> bool:
    """A second judge, slow and independent: the json module with every leniency off."""

    def refuse_constant(name: str) -> object:
        raise ValueError(name)

    def check_strings(value: object) -> None:
        if isinstance(value, str):
            value.encode()  # a lone surrogate cannot be
        elif isinstance(value, dict):
            for key, member in value.items():
                check_strings(key)
                check_strings(member)
        elif isinstance(value, list):
            for item in value:
                check_strings(item)

    try:
        text = body.decode()
        if text[:1] == "\ufeff":
            return False
        document = json.loads(text, parse_constant=refuse_constant, parse_int=str, parse_float=str)
        check_strings(document)
    except (ValueError, RecursionError):
        return False
    return True


@pytest.mark.parametrize("name", sorted(BODIES))
def test_every_body_accepted_is_strict_json(name: str) -> None:
    body = BODIES[name]
    try:
        parse_delivery(body, "t")
    except (MalformedBody, InvalidEnvelope):
        return

    assert _strict_rfc_8259(body)


@pytest.mark.parametrize("name", sorted(BODIES))
def test_a_body_is_only_ever_refused_with_the_receiver_s_errors(name: str) -> None:
    # Whatever the body, the outcome is a Delivery or one of the two refusals: no other
    # exception escapes (the app would answer it 500).
    with contextlib.suppress(MalformedBody, InvalidEnvelope):
        parse_delivery(BODIES[name], "t")
