"""Parsing a body into a Delivery, and the key that recognises the same delivery again."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import orjson
import pytest

from receiver.delivery import Delivery, utc_timestamp
from receiver.envelope import InvalidEnvelope, MalformedBody, parse_delivery

ENVELOPE: dict[str, Any] = {
    "eventName": "newMessage",
    "eventData": {
        "message": {"text": "¿Dónde está mi pedido? 📦", "id": 1},
        "chat": {"b": 1, "a": [2, 1]},
    },
}


def parse(document: object, **dumps: object) -> Delivery:
    return parse_delivery(json.dumps(document, **dumps).encode(), "2026-01-02T03:04:05.000006Z")  # type: ignore[arg-type]


def test_the_key_ignores_key_order_and_whitespace() -> None:
    reordered = {
        "eventData": {
            "chat": {"a": [2, 1], "b": 1},
            "message": {"id": 1, "text": "¿Dónde está mi pedido? 📦"},
        },
        "eventName": "newMessage",
    }

    compact = parse(ENVELOPE, separators=(",", ":"))
    spaced = parse(reordered, indent=4, ensure_ascii=False)

    assert compact.key == spaced.key


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


def test_the_key_is_the_sha256_of_the_sorted_compact_body() -> None:
    document = {**ENVELOPE, "zExtra": {"y": 1, "x": 2}, "aExtra": 1}

    delivery = parse(document)

    canonical = orjson.dumps(document, option=orjson.OPT_SORT_KEYS)
    assert delivery.key == hashlib.sha256(canonical).hexdigest()


def test_the_record_holds_what_the_sinks_store() -> None:
    delivery = parse(ENVELOPE)

    record = json.loads(delivery.record_json())

    assert record == {
        "receivedAt": "2026-01-02T03:04:05.000006Z",
        "deliveryKey": delivery.key,
        "eventName": "newMessage",
        "eventData": ENVELOPE["eventData"],
    }


def test_an_event_name_needing_escapes_stays_valid_json_in_the_record() -> None:
    delivery = parse({"eventName": 'quote" and \\ and \n', "eventData": {}})

    assert json.loads(delivery.record_json())["eventName"] == 'quote" and \\ and \n'


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{", "the body is not valid JSON"),
        (b'{"eventName":"\xff","eventData":{}}', "the body is not valid JSON"),
        (b'{"eventName":"x","eventData":' + b'{"a":' * 300 + b"1" + b"}" * 301, "nested"),
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
