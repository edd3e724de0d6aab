"""A corpus of hostile and broken requests: each gets a 4xx (or a 2xx), never a 5xx or a crash."""

from __future__ import annotations

import json

import pytest

from receiver.app import ReceiverApp
from tests.unit.receiver.conftest import MAX_BODY_BYTES, SECRET
from tests.unit.receiver.fakes import RawRequest, RecordingSink, call_asgi

pytestmark = pytest.mark.anyio

HOOK = f"/hooks/{SECRET}"
JSON_HEADERS = [(b"content-type", b"application/json")]
VALID = json.dumps({"eventName": "chatAssigned", "eventData": {"chat": {"_id": "c1"}}}).encode()

BODIES: dict[str, bytes] = {
    "empty": b"",
    "whitespace": b" \r\n\t ",
    "truncated": VALID[: len(VALID) // 2],
    "truncated in a string": b'{"eventName": "chatAss',
    "truncated escape": b'{"eventName": "\\u00',
    "deeply nested arrays": b'{"eventName":"x","eventData":{"a":'
    + b"[" * 1500
    + b"]" * 1500
    + b"}}",
    "nested 400 deep": (
        b'{"eventName":"x","eventData":' + b'{"a":' * 400 + b"1" + b"}" * 400 + b"}"
    ),
    "unclosed nesting": b"[" * 100_000,
    "invalid utf-8": b'{"eventName":"chat\xff","eventData":{}}',
    "overlong utf-8": b'{"eventName":"\xc0\xaf","eventData":{}}',
    "utf-8 surrogate": b'{"eventName":"\xed\xa0\x80","eventData":{}}',
    "lone surrogate escape": b'{"eventName":"\\ud800","eventData":{}}',
    "utf-16": json.dumps({"eventName": "x", "eventData": {}}).encode("utf-16"),
    "utf-8 bom": b"\xef\xbb\xbf" + VALID,
    "nul bytes": b"\x00" * 64,
    "NaN": b'{"eventName":"x","eventData":{"a":NaN}}',
    "Infinity": b'{"eventName":"x","eventData":{"a":-Infinity}}',
    "huge exponent": b'{"eventName":"x","eventData":{"a":1e999}}',
    "many digits": b'{"eventName":"x","eventData":{"a":' + b"9" * 2000 + b"}}",
    "trailing garbage": VALID + b"garbage",
    "two documents": VALID + VALID,
    "single quotes": b"{'eventName':'x','eventData':{}}",
    "comments": b'{"eventName":"x", /* c */ "eventData":{}}',
    "trailing comma": b'{"eventName":"x","eventData":{},}',
    "array": b"[]",
    "string": b'"chatAssigned"',
    "number": b"42",
    "null": b"null",
    "true": b"true",
    "event name as number": b'{"eventName":1,"eventData":{}}',
    "event name as object": b'{"eventName":{"a":1},"eventData":{}}',
    "event name as list": b'{"eventName":["chatAssigned"],"eventData":{}}',
    "event name too long": json.dumps({"eventName": "x" * 129, "eventData": {}}).encode(),
    "event data as null": b'{"eventName":"x","eventData":null}',
    "event data as string": b'{"eventName":"x","eventData":"{}"}',
    "event data as number": b'{"eventName":"x","eventData":0}',
    "event data as bool": b'{"eventName":"x","eventData":false}',
    "event data as array": b'{"eventName":"x","eventData":[{}]}',
    "missing event data": b'{"eventName":"x"}',
    "missing event name": b'{"eventData":{}}',
    "duplicate keys": b'{"eventName":"a","eventName":"b","eventData":{}}',
    "duplicate nested keys": b'{"eventName":"x","eventData":{"a":1,"a":2}}',
    "just over the limit": b'{"eventName":"x","eventData":{"a":"' + b"y" * MAX_BODY_BYTES + b'"}}',
    "control characters": b'{"eventName":"x\x01\x02","eventData":{}}',
    "escaped control characters": b'{"eventName":"x\\u0000\\n","eventData":{}}',
    # Issue 22: a number past a double's range sent these to a looser second parser, which
    # stored NaN, Infinity and lone surrogates with a 200 and answered the rest with a 500.
    "huge exponent then NaN": b'{"eventName":"x","eventData":{"a":1e999,"b":NaN}}',
    "huge exponent then Infinity": b'{"eventName":"x","eventData":{"a":1e999,"b":Infinity}}',
    "huge exponent then a lone surrogate": (
        b'{"eventName":"x","eventData":{"a":1e999,"b":"\\ud800"}}'
    ),
    "huge exponent then a lone surrogate name": (
        b'{"eventName":"\\ud800","eventData":{"a":1e999}}'
    ),
    "huge exponent then truncated": b'{"eventName":"x","eventData":{"a":1e999',
    "huge exponent then trailing data": b'{"eventName":"x","eventData":{"a":1e999}} x',
    "huge exponent then deep nesting": (
        b'{"eventName":"x","eventData":{"a":1e999,"b":' + b"[" * 2000 + b"]" * 2000 + b"}}"
    ),
    "5000 digits then NaN": b'{"eventName":"x","eventData":{"a":' + b"9" * 5000 + b',"b":NaN}}',
    "5000-digit event name": b'{"eventName":' + b"9" * 5000 + b',"eventData":{}}',
    "5000 digits": b'{"eventName":"x","eventData":{"a":' + b"9" * 5000 + b"}}",
    "big integer": b'{"eventName":"x","eventData":{"a":123456789012345678901234567890}}',
    "long fraction": b'{"eventName":"x","eventData":{"a":0.10000000000000000001}}',
}


@pytest.mark.parametrize("body", BODIES.values(), ids=BODIES.keys())
async def test_a_bad_body_never_gets_a_5xx(app: ReceiverApp, body: bytes) -> None:
    response, _ = await call_asgi(app, RawRequest(path=HOOK, headers=JSON_HEADERS, chunks=[body]))

    assert response is not None
    assert response.status < 500
    assert response.status in (200, 400, 413, 422)
    assert "error" in json.loads(response.body) or response.status == 200


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("empty", 400),
        ("truncated", 400),
        ("deeply nested arrays", 400),
        ("invalid utf-8", 400),
        ("lone surrogate escape", 400),
        ("utf-16", 400),
        ("utf-8 bom", 400),
        ("NaN", 400),
        ("trailing garbage", 400),
        ("huge exponent then NaN", 400),
        ("huge exponent then Infinity", 400),
        ("huge exponent then a lone surrogate", 400),
        ("huge exponent then a lone surrogate name", 400),
        ("huge exponent then truncated", 400),
        ("huge exponent then trailing data", 400),
        ("huge exponent then deep nesting", 400),
        ("array", 422),
        ("event name as number", 422),
        ("event data as array", 422),
        ("just over the limit", 413),
    ],
)
async def test_bad_bodies_get_the_status_for_what_is_wrong(
    app: ReceiverApp, sink: RecordingSink, name: str, status: int
) -> None:
    request = RawRequest(path=HOOK, headers=JSON_HEADERS, chunks=[BODIES[name]])

    response, _ = await call_asgi(app, request)

    assert response is not None
    assert response.status == status
    assert sink.attempts == 0


@pytest.mark.parametrize(
    "name",
    [
        "big integer",
        "long fraction",
        "huge exponent",
        "many digits",
        "nested 400 deep",
        "duplicate keys",
    ],
)
async def test_accepted_bodies_are_stored_byte_for_byte(
    app: ReceiverApp, sink: RecordingSink, name: str
) -> None:
    request = RawRequest(path=HOOK, headers=JSON_HEADERS, chunks=[BODIES[name]])

    response, _ = await call_asgi(app, request)

    assert response is not None
    assert response.status == 200
    assert [d.body for d in sink.stored] == [BODIES[name]]


async def test_a_number_past_a_double_s_range_is_still_judged_by_where_it_stands(
    app: ReceiverApp, sink: RecordingSink
) -> None:
    # Valid JSON, so the envelope check runs: in eventName's place it is a wrong envelope.
    request = RawRequest(
        path=HOOK, headers=JSON_HEADERS, chunks=[b'{"eventName":1e999,"eventData":{}}']
    )

    response, _ = await call_asgi(app, request)

    assert response is not None
    assert (response.status, json.loads(response.body)) == (
        422,
        {"error": "invalid envelope: eventName must be a string, not a number"},
    )
    assert sink.attempts == 0


async def test_duplicate_keys_are_read_last_one_wins(app: ReceiverApp, sink: RecordingSink) -> None:
    request = RawRequest(path=HOOK, headers=JSON_HEADERS, chunks=[BODIES["duplicate keys"]])

    await call_asgi(app, request)

    # The name a sink is told (a Pub/Sub attribute, the file's eventName) is the one the
    # envelope check read; the body is kept whole, both members in it.
    assert [d.event_name for d in sink.stored] == ["b"]


PATHS = [
    "/hooks/../healthz",
    f"/hooks/../hooks/{SECRET}",
    f"/hooks/{SECRET}/extra",
    f"/hooks/{SECRET}/",
    f"/hooks//{SECRET}",
    f"//hooks/{SECRET}",
    f"/hooks/{SECRET}?",
    f"/Hooks/{SECRET}",
    f"/hooks/{SECRET}%00",
    f"/hooks/{SECRET}\x00",
    "/hooks/%2e%2e/healthz",
    "/hooks/\udcff\udcfe",
    "/hooks/\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9",
    "/hooks/\ud800",
    "/hooks/" + "a" * 100_000,
    "/" + "x" * 10_000,
    "",
    "*",
]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("method", ["POST", "GET", "OPTIONS", "BREW"])
async def test_path_tricks_reach_no_hook(
    app: ReceiverApp, sink: RecordingSink, path: str, method: str
) -> None:
    request = RawRequest(method=method, path=path, headers=JSON_HEADERS, chunks=[VALID])

    response, _ = await call_asgi(app, request)

    assert response is not None
    assert response.status in (404, 405)
    assert sink.attempts == 0


@pytest.mark.parametrize(
    "headers",
    [
        [(b"content-type", b"application/json"), (b"content-length", b"not-a-number")],
        [(b"content-type", b"application/json"), (b"content-length", b"-1")],
        [(b"content-type", b"application/json;;;charset")],
        [(b"content-type", b"\xff\xfe")],
        [(b"content-type", b"")],
        [(b"content-type", b"application/json"), (b"content-type", b"text/plain")],
        [(b"content-type", b"application/json"), (b"content-encoding", b"\xff")],
        [(b"content-type", b"application/json"), (b"content-encoding", b"")],
        [(b"content-type", b"application/json"), (b"transfer-encoding", b",,")],
        [(b"content-type", b"application/json"), (b"expect", b"\xff")],
    ],
)
async def test_odd_headers_never_get_a_5xx(
    app: ReceiverApp, headers: list[tuple[bytes, bytes]]
) -> None:
    response, _ = await call_asgi(app, RawRequest(path=HOOK, headers=headers, chunks=[VALID]))

    assert response is not None
    assert response.status in (200, 400, 415)
