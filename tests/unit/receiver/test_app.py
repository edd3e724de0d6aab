"""The receiver's HTTP behaviour, through its ASGI app."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import httpx
import orjson
import pytest

from receiver.app import ReceiverApp
from receiver.asgi import Message
from receiver.logs import FIELDS
from tests.unit.receiver.conftest import MAX_BODY_BYTES, OLD_SECRET, SECRET
from tests.unit.receiver.fakes import RawRequest, RecordingSink, call_asgi

pytestmark = pytest.mark.anyio

HOOK = f"/hooks/{SECRET}"
JSON = {"content-type": "application/json"}
ASSIGNED: dict[str, Any] = {
    "eventName": "chatAssigned",
    "eventData": {"chat": {"_id": "c1", "status": "open"}, "agent": {"email": "a@example.com"}},
}


def fields(record: logging.LogRecord) -> dict[str, Any]:
    return getattr(record, FIELDS)


async def post(client: httpx.AsyncClient, payload: object, path: str = HOOK) -> httpx.Response:
    return await client.post(path, content=json.dumps(payload), headers=JSON)


async def test_a_delivery_is_stored_then_acknowledged(
    client: httpx.AsyncClient, sink: RecordingSink
) -> None:
    response = await post(client, ASSIGNED)

    assert response.status_code == 200
    assert response.json()["status"] == "accepted"
    [stored] = sink.stored
    assert stored.event_name == "chatAssigned"
    assert orjson.loads(stored.event_data_json) == ASSIGNED["eventData"]
    assert response.json()["deliveryKey"] == stored.key


async def test_the_second_secret_is_accepted_too(
    client: httpx.AsyncClient, sink: RecordingSink
) -> None:
    response = await post(client, ASSIGNED, path=f"/hooks/{OLD_SECRET}")

    assert response.status_code == 200
    assert len(sink.stored) == 1


@pytest.mark.parametrize(
    "path",
    [
        "/hooks/",
        "/hooks",
        f"/hooks/{SECRET}x",
        f"/hooks/{SECRET[:-1]}",
        f"/hooks/{SECRET.upper()}",
        "/hooks/wrong-secret-0123456789abc",
    ],
)
async def test_a_wrong_or_missing_secret_is_404_without_a_hint(
    client: httpx.AsyncClient, sink: RecordingSink, path: str
) -> None:
    response = await post(client, ASSIGNED, path=path)

    assert response.status_code == 404
    assert response.json() == {"error": "not found"}
    assert sink.attempts == 0


async def test_a_wrong_secret_looks_like_any_unknown_path(client: httpx.AsyncClient) -> None:
    wrong = await post(client, ASSIGNED, path="/hooks/wrong-secret-0123456789abc")
    unknown = await post(client, ASSIGNED, path="/elsewhere")

    assert (wrong.status_code, wrong.content) == (unknown.status_code, unknown.content)


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
async def test_other_methods_on_the_hook_are_405(
    client: httpx.AsyncClient, sink: RecordingSink, method: str
) -> None:
    response = await client.request(method, HOOK)

    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert sink.attempts == 0


async def test_healthz_answers_get_only(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.post("/healthz")).status_code == 405


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin-1"],
)
async def test_a_body_that_is_not_declared_json_is_415(
    client: httpx.AsyncClient, sink: RecordingSink, content_type: str | None
) -> None:
    headers = {} if content_type is None else {"content-type": content_type}

    response = await client.post(HOOK, content=json.dumps(ASSIGNED), headers=headers)

    assert response.status_code == 415
    assert sink.attempts == 0


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=utf-8", "Application/JSON;charset=UTF-8"]
)
async def test_json_with_a_utf8_charset_is_accepted(
    client: httpx.AsyncClient, content_type: str
) -> None:
    response = await client.post(
        HOOK, content=json.dumps(ASSIGNED), headers={"content-type": content_type}
    )

    assert response.status_code == 200


async def test_a_declared_length_over_the_limit_is_413_before_reading(
    app: ReceiverApp, sink: RecordingSink
) -> None:
    request = RawRequest(
        path=HOOK,
        headers=[
            (b"content-type", b"application/json"),
            (b"content-length", str(MAX_BODY_BYTES + 1).encode()),
        ],
        chunks=[b"{"],
    )

    response, chunks_read = await call_asgi(app, request)

    assert response is not None
    assert response.status == 413
    assert response.headers[b"connection"] == b"close"
    assert chunks_read == 0
    assert sink.attempts == 0


async def test_a_streamed_body_over_the_limit_is_413_without_reading_the_rest(
    app: ReceiverApp, sink: RecordingSink
) -> None:
    chunk = b" " * 1024
    # No Content-Length (chunked): only counting the bytes can stop it.
    request = RawRequest(
        path=HOOK, headers=[(b"content-type", b"application/json")], chunks=[chunk] * 100
    )

    response, chunks_read = await call_asgi(app, request)

    assert response is not None
    assert response.status == 413
    assert chunks_read == MAX_BODY_BYTES // len(chunk) + 1
    assert sink.attempts == 0


async def test_a_body_at_the_limit_is_read_whole(app: ReceiverApp, sink: RecordingSink) -> None:
    body = json.dumps(ASSIGNED).encode()
    padded = body + b" " * (MAX_BODY_BYTES - len(body))
    request = RawRequest(
        path=HOOK,
        headers=[(b"content-type", b"application/json")],
        chunks=[padded[:1000], padded[1000:]],
    )

    response, _ = await call_asgi(app, request)

    assert response is not None
    assert response.status == 200
    assert len(sink.stored) == 1


async def test_a_client_gone_mid_body_gets_nothing_stored(
    app: ReceiverApp, sink: RecordingSink
) -> None:
    request = RawRequest(
        path=HOOK,
        headers=[(b"content-type", b"application/json")],
        chunks=[b'{"eventName":'],
        disconnect=True,
    )

    response, _ = await call_asgi(app, request)

    assert response is None
    assert sink.attempts == 0


@pytest.mark.parametrize(
    "body", [b"", b"{", b'{"eventName": "x", }', b"\xff\xfe{}", b'{"a": NaN}', b"[1] [2]"]
)
async def test_a_body_that_is_not_json_is_400(
    client: httpx.AsyncClient, sink: RecordingSink, body: bytes
) -> None:
    response = await client.post(HOOK, content=body, headers=JSON)

    assert response.status_code == 400
    assert response.json()["error"].startswith("malformed body")
    assert sink.attempts == 0


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        ([ASSIGNED], "the body must be a JSON object, not an array"),
        ({"eventData": {}}, "eventName must be a string, not null"),
        ({"eventName": 7, "eventData": {}}, "eventName must be a string, not a number"),
        ({"eventName": "", "eventData": {}}, "eventName must be 1 to 128 characters"),
        ({"eventName": "chatAssigned"}, "eventData must be an object, not null"),
        (
            {"eventName": "chatAssigned", "eventData": "x"},
            "eventData must be an object, not a string",
        ),
        (
            {"eventName": "chatAssigned", "eventData": []},
            "eventData must be an object, not an array",
        ),
    ],
)
async def test_a_wrong_envelope_is_422_saying_what_is_wrong(
    client: httpx.AsyncClient, sink: RecordingSink, payload: object, problem: str
) -> None:
    response = await post(client, payload)

    assert response.status_code == 422
    assert response.json() == {"error": f"invalid envelope: {problem}"}
    assert sink.attempts == 0


async def test_an_unknown_event_is_accepted_and_logged_as_unknown(
    client: httpx.AsyncClient, sink: RecordingSink, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="receiver.requests"):
        response = await post(client, {"eventName": "chatTeleported", "eventData": {}})

    assert response.status_code == 200
    assert [d.event_name for d in sink.stored] == ["chatTeleported"]
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert "unknown event" in record.getMessage()
    assert fields(record)["knownEvent"] is False


async def test_a_redelivery_is_acknowledged_as_duplicate_without_a_second_hand_off(
    client: httpx.AsyncClient, sink: RecordingSink
) -> None:
    first = await post(client, ASSIGNED)
    # Same JSON value, different key order and spacing: the same delivery.
    reordered = {"eventData": dict(reversed(ASSIGNED["eventData"].items())), **ASSIGNED}
    second = await client.post(HOOK, content=json.dumps(reordered, indent=2), headers=JSON)

    assert first.json()["status"] == "accepted"
    assert second.status_code == 200
    assert second.json() == {"status": "duplicate", "deliveryKey": first.json()["deliveryKey"]}
    assert len(sink.stored) == 1
    assert sink.attempts == 1


async def test_a_different_delivery_of_the_same_event_is_not_a_duplicate(
    client: httpx.AsyncClient, sink: RecordingSink
) -> None:
    await post(client, ASSIGNED)
    other = {"eventName": "chatAssigned", "eventData": {"chat": {"_id": "c2"}}}

    response = await post(client, other)

    assert response.json()["status"] == "accepted"
    assert len(sink.stored) == 2


async def test_a_failed_hand_off_is_503_and_its_retry_is_stored(
    client: httpx.AsyncClient, sink: RecordingSink
) -> None:
    sink.fail_next = 1

    failed = await post(client, ASSIGNED)
    assert failed.status_code == 503
    assert failed.headers["retry-after"] == "1"
    assert sink.stored == []

    retried = await post(client, ASSIGNED)

    assert retried.status_code == 200
    assert retried.json()["status"] == "accepted"
    assert len(sink.stored) == 1


async def test_copies_arriving_during_a_hand_off_wait_for_it_and_are_not_stored_again(
    client: httpx.AsyncClient, sink: RecordingSink
) -> None:
    sink.gate.clear()
    first = asyncio.create_task(post(client, ASSIGNED))
    copies = [asyncio.create_task(post(client, ASSIGNED)) for _ in range(3)]
    await asyncio.sleep(0.05)
    assert not first.done()
    assert not any(copy.done() for copy in copies)

    sink.gate.set()
    responses = [await first] + [await copy for copy in copies]

    assert [r.json()["status"] for r in responses] == ["accepted"] + ["duplicate"] * 3
    assert len(sink.stored) == 1


async def test_every_request_logs_one_line_without_the_secret_or_the_payload(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    payload = {"eventName": "chatAssigned", "eventData": {"note": "private-content-1234"}}
    with caplog.at_level(logging.DEBUG, logger="receiver.requests"):
        await post(client, payload)
        await post(client, payload, path="/hooks/wrong-secret-0123456789abc")
        await client.get(f"/typo/{SECRET}")
        await client.get("/healthz")

    assert len(caplog.records) == 4
    for record in caplog.records:
        line = json.dumps(fields(record)) + record.getMessage()
        assert SECRET not in line
        assert "private-content-1234" not in line
    accepted = fields(caplog.records[0])
    assert accepted["httpRequest"]["requestUrl"] == "/hooks/<redacted>"
    assert accepted["httpRequest"]["requestMethod"] == "POST"
    assert accepted["httpRequest"]["status"] == 200
    assert accepted["httpRequest"]["latency"].endswith("s")
    assert accepted["eventName"] == "chatAssigned"
    assert len(accepted["deliveryKey"]) == 64
    assert fields(caplog.records[2])["httpRequest"]["requestUrl"] == "/typo/<redacted>"


async def test_the_lifespan_starts_and_closes_the_sink(
    app: ReceiverApp, sink: RecordingSink
) -> None:
    messages: list[Message] = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[str] = []

    async def receive() -> Message:
        return messages.pop(0)

    async def send(message: Message) -> None:
        sent.append(message["type"])

    await app({"type": "lifespan"}, receive, send)

    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert sink.started
    assert sink.closed
