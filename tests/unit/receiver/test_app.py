"""The receiver's HTTP behaviour, through its ASGI app."""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
from typing import Any

import httpx
import pytest

from receiver.app import MAX_DISCARD_BYTES, ReceiverApp
from receiver.asgi import Message
from receiver.auth import SecretMatcher
from receiver.dedup import Deduplicator
from receiver.request_log import RequestLog
from tests.unit.receiver.conftest import MAX_BODY_BYTES, OLD_SECRET, SECRET
from tests.unit.receiver.fakes import LogLines, RawRequest, RecordingSink, call_asgi, turns, until

pytestmark = pytest.mark.anyio

HOOK = f"/hooks/{SECRET}"
JSON = {"content-type": "application/json"}
ASSIGNED: dict[str, Any] = {
    "eventName": "chatAssigned",
    "eventData": {"chat": {"_id": "c1", "status": "open"}, "agent": {"email": "a@example.com"}},
}


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
    assert stored.body == json.dumps(ASSIGNED).encode()
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
        # "/hooks" alone is the header form: no Bearer token is a 401 (test_receiver_bearer).
        "/hooks/",
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


async def test_healthz_fails_while_the_sink_is_failing_and_recovers_with_it(
    client: httpx.AsyncClient, sink: RecordingSink, log_lines: LogLines
) -> None:
    sink.failure = "cannot append to /data/events.jsonl: [Errno 5] Input/output error"

    failing = await client.get("/healthz")

    assert failing.status_code == 503
    # Public endpoint: the reason is logged, not shown.
    assert "/data" not in failing.text
    await asyncio.sleep(0)
    assert "Input/output error" in log_lines.entries()[-1]["message"]

    sink.failure = None
    assert (await client.get("/healthz")).status_code == 200


@pytest.mark.parametrize("encoding", ["gzip", "br", "deflate", "GZIP", "identity, gzip"])
async def test_a_compressed_body_is_415_not_parsed(
    client: httpx.AsyncClient, sink: RecordingSink, encoding: str
) -> None:
    body = gzip.compress(json.dumps(ASSIGNED).encode())

    response = await client.post(HOOK, content=body, headers={**JSON, "content-encoding": encoding})

    assert response.status_code == 415
    assert response.json() == {"error": "the content encoding must be identity"}
    assert response.headers["accept-encoding"] == "identity"
    assert sink.attempts == 0


async def test_an_identity_content_encoding_is_accepted(client: httpx.AsyncClient) -> None:
    response = await client.post(
        HOOK, content=json.dumps(ASSIGNED), headers={**JSON, "content-encoding": "identity"}
    )

    assert response.status_code == 200


@pytest.mark.parametrize(
    "content_types",
    [
        [b"application/json", b"text/plain"],
        [b"text/plain", b"application/json"],
        [b"application/json", b"application/json"],
    ],
)
async def test_two_content_types_are_400_whichever_comes_first(
    app: ReceiverApp, sink: RecordingSink, content_types: list[bytes]
) -> None:
    request = RawRequest(
        path=HOOK,
        headers=[(b"content-type", value) for value in content_types],
        chunks=[json.dumps(ASSIGNED).encode()],
    )

    response, _ = await call_asgi(app, request)

    assert response is not None
    assert response.status == 400
    assert json.loads(response.body) == {"error": "more than one Content-Type header"}
    assert sink.attempts == 0


async def test_a_transfer_coding_other_than_chunked_is_501(
    app: ReceiverApp, sink: RecordingSink
) -> None:
    request = RawRequest(
        path=HOOK,
        headers=[(b"content-type", b"application/json"), (b"transfer-encoding", b"gzip, chunked")],
        chunks=[b"x"],
    )

    response, _ = await call_asgi(app, request)

    assert response is not None
    assert response.status == 501
    assert sink.attempts == 0


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


async def test_a_declared_length_over_the_limit_is_413_after_the_body_is_drained(
    app: ReceiverApp, sink: RecordingSink
) -> None:
    # Answering before the body is read, and closing, makes the kernel reset the connection
    # under a sender still writing: it never reads the 413.
    chunk = b" " * 1024
    request = RawRequest(
        path=HOOK,
        headers=[
            (b"content-type", b"application/json"),
            (b"content-length", str(len(chunk) * 100).encode()),
        ],
        chunks=[chunk] * 100,
    )

    response, chunks_read = await call_asgi(app, request)

    assert response is not None
    assert response.status == 413
    assert chunks_read == 100
    # All of it read: the connection can carry the next request.
    assert b"connection" not in response.headers
    assert sink.attempts == 0


async def test_a_declared_length_past_the_discard_bound_is_413_at_once_and_closes(
    app: ReceiverApp, sink: RecordingSink
) -> None:
    request = RawRequest(
        path=HOOK,
        headers=[
            (b"content-type", b"application/json"),
            (b"content-length", str(MAX_DISCARD_BYTES + 1).encode()),
        ],
        chunks=[b"{"],
    )

    response, chunks_read = await call_asgi(app, request)

    assert response is not None
    assert response.status == 413
    assert response.headers[b"connection"] == b"close"
    assert chunks_read == 0
    assert sink.attempts == 0


async def test_a_sender_waiting_for_100_continue_gets_413_without_sending_the_body(
    app: ReceiverApp,
) -> None:
    request = RawRequest(
        path=HOOK,
        headers=[
            (b"content-type", b"application/json"),
            (b"content-length", str(MAX_BODY_BYTES + 1).encode()),
            (b"expect", b"100-continue"),
        ],
        chunks=[b"{"],
    )

    response, chunks_read = await call_asgi(app, request)

    assert response is not None
    assert (response.status, response.headers[b"connection"]) == (413, b"close")
    assert chunks_read == 0


async def test_a_streamed_body_over_the_limit_is_drained_then_413(
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
    assert chunks_read == 100
    assert sink.attempts == 0


async def test_draining_stops_at_the_discard_bound_and_closes(
    app: ReceiverApp, sink: RecordingSink
) -> None:
    chunk = b" " * (1024 * 1024)
    chunks = MAX_DISCARD_BYTES // len(chunk) + 10
    request = RawRequest(
        path=HOOK, headers=[(b"content-type", b"application/json")], chunks=[chunk] * chunks
    )

    response, chunks_read = await call_asgi(app, request)

    assert response is not None
    assert (response.status, response.headers[b"connection"]) == (413, b"close")
    assert chunks_read <= MAX_DISCARD_BYTES // len(chunk) + 2
    assert sink.attempts == 0


async def test_draining_stops_at_the_body_timeout_and_closes(app: ReceiverApp) -> None:
    sent_head = asyncio.Event()
    received = 0

    async def receive() -> Message:
        nonlocal received
        received += 1
        if received == 1:
            sent_head.set()
            return {"type": "http.request", "body": b" " * (MAX_BODY_BYTES + 1), "more_body": True}
        # The rest of the body never comes.
        await asyncio.Event().wait()
        raise AssertionError

    started: list[Message] = []

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            started.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": HOOK,
        "headers": [(b"host", b"receiver"), (b"content-type", b"application/json")],
    }
    # The app's own bound (2 s in these tests), not the server's, ends the wait.
    await asyncio.wait_for(app(scope, receive, send), timeout=10)

    [start] = started
    assert start["status"] == 413
    assert (b"connection", b"close") in start["headers"]


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
    client: httpx.AsyncClient, sink: RecordingSink, log_lines: LogLines
) -> None:
    response = await post(client, {"eventName": "chatTeleported", "eventData": {}})
    await asyncio.sleep(0)

    assert response.status_code == 200
    assert [d.event_name for d in sink.stored] == ["chatTeleported"]
    [entry] = log_lines.entries()
    assert entry["severity"] == "WARNING"
    assert "unknown event" in entry["message"]
    assert entry["knownEvent"] is False


async def test_a_redelivery_is_acknowledged_as_duplicate_without_a_second_hand_off(
    client: httpx.AsyncClient, sink: RecordingSink
) -> None:
    body = json.dumps(ASSIGNED, indent=2)
    first = await client.post(HOOK, content=body, headers=JSON)
    second = await client.post(HOOK, content=body, headers=JSON)

    assert first.json()["status"] == "accepted"
    assert second.status_code == 200
    assert second.json() == {"status": "duplicate", "deliveryKey": first.json()["deliveryKey"]}
    assert len(sink.stored) == 1
    assert sink.attempts == 1


# Each pair differs past what a double (or a 64-bit integer) holds: a parser reads both the
# same, so a receiver that stores or hashes what it parsed loses the second delivery.
BEYOND_PRECISION = [
    ("123456789012345678901234567890", "123456789012345678901234567891"),
    ("0.10000000000000000001", "0.1"),
    ("18446744073709551616", "18446744073709551617"),
    ("-9223372036854775809", "-9223372036854775808"),
    ("1.0", "1"),
    ("1e2", "100"),
]


@pytest.mark.parametrize(("number", "other"), BEYOND_PRECISION)
async def test_the_sink_gets_numbers_exactly_as_sent(
    client: httpx.AsyncClient, sink: RecordingSink, number: str, other: str
) -> None:
    body = f'{{"eventName":"chatAssigned","eventData":{{"chat":{{"n":{number}}}}}}}'.encode()

    response = await client.post(HOOK, content=body, headers=JSON)

    assert response.status_code == 200
    [stored] = sink.stored
    assert stored.body == body
    assert number.encode() in stored.body


@pytest.mark.parametrize(("number", "other"), BEYOND_PRECISION)
async def test_deliveries_differing_past_a_doubles_precision_are_both_stored(
    client: httpx.AsyncClient, sink: RecordingSink, number: str, other: str
) -> None:
    bodies = [
        f'{{"eventName":"chatAssigned","eventData":{{"n":{n}}}}}'.encode() for n in (number, other)
    ]

    responses = [await client.post(HOOK, content=body, headers=JSON) for body in bodies]

    assert [r.json()["status"] for r in responses] == ["accepted", "accepted"]
    assert responses[0].json()["deliveryKey"] != responses[1].json()["deliveryKey"]
    assert [d.body for d in sink.stored] == bodies


async def test_the_same_value_in_other_bytes_is_another_delivery(
    client: httpx.AsyncClient, sink: RecordingSink
) -> None:
    # Keys are the hash of the bytes as received: never two different bodies merged, at the
    # price of storing a re-serialised copy (which Texter does not send) twice.
    reordered = {"eventData": dict(reversed(ASSIGNED["eventData"].items())), **ASSIGNED}

    first = await post(client, ASSIGNED)
    second = await client.post(HOOK, content=json.dumps(reordered, indent=2), headers=JSON)

    assert (first.json()["status"], second.json()["status"]) == ("accepted", "accepted")
    assert len(sink.stored) == 2


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
    await until(lambda: sink.attempts == 1)  # the first is held in the sink
    await turns()  # the copies run until they wait
    assert not first.done()
    assert not any(copy.done() for copy in copies)

    sink.gate.set()
    responses = [await first] + [await copy for copy in copies]

    assert [r.json()["status"] for r in responses] == ["accepted"] + ["duplicate"] * 3
    assert len(sink.stored) == 1


async def test_every_request_logs_one_line_without_the_secret_or_the_payload(
    client: httpx.AsyncClient, log_lines: LogLines
) -> None:
    payload = {"eventName": "chatAssigned", "eventData": {"note": "private-content-1234"}}
    await post(client, payload)
    await post(client, payload, path="/hooks/wrong-secret-0123456789abc")
    await client.get(f"/typo/{SECRET}")
    await client.get("/healthz")
    await asyncio.sleep(0)

    entries = log_lines.entries()
    assert len(entries) == 4
    for entry in entries:
        line = json.dumps(entry)
        assert SECRET not in line
        assert "private-content-1234" not in line
        assert entry["logger"] == "receiver.requests"
        assert set(entry["timestamp"]) == {"seconds", "nanos"}
    accepted = entries[0]
    assert accepted["severity"] == "DEBUG"
    assert accepted["message"] == "accepted"
    assert accepted["httpRequest"]["requestUrl"] == "/hooks/<redacted>"
    assert accepted["httpRequest"]["requestMethod"] == "POST"
    assert accepted["httpRequest"]["status"] == 200
    assert accepted["httpRequest"]["latency"].endswith("s")
    assert accepted["eventName"] == "chatAssigned"
    assert accepted["knownEvent"] is True
    assert len(accepted["deliveryKey"]) == 64
    assert entries[2]["httpRequest"]["requestUrl"] == "/typo/<redacted>"


async def test_at_info_only_requests_that_were_not_acknowledged_are_logged(
    sink: RecordingSink, log_lines: LogLines
) -> None:
    app = ReceiverApp(
        matcher=SecretMatcher([SECRET.encode()]),
        sink=sink,
        dedup=Deduplicator(600),
        max_body_bytes=MAX_BODY_BYTES,
        request_log=RequestLog(logging.INFO, write=log_lines),
    )
    json_headers = [(b"content-type", b"application/json")]
    body = json.dumps(ASSIGNED).encode()

    await call_asgi(app, RawRequest(path=HOOK, headers=json_headers, chunks=[body]))
    await call_asgi(app, RawRequest(method="GET", path="/healthz"))
    await call_asgi(app, RawRequest(path="/hooks/wrong-secret-0123456789abc", chunks=[body]))
    await call_asgi(app, RawRequest(path=HOOK, headers=json_headers, chunks=[b"{"]))
    sink.fail_next = 1
    await call_asgi(app, RawRequest(path=HOOK, headers=json_headers, chunks=[body + b" "]))
    await asyncio.sleep(0)

    assert [(e["httpRequest"]["status"], e["severity"]) for e in log_lines.entries()] == [
        (404, "INFO"),
        (400, "WARNING"),
        (503, "ERROR"),
    ]


async def test_no_stdlib_logging_on_the_hot_path(
    client: httpx.AsyncClient, log_lines: LogLines, monkeypatch: pytest.MonkeyPatch
) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("a LogRecord was made for a request")

    monkeypatch.setattr(logging.Logger, "makeRecord", forbidden)

    response = await post(client, ASSIGNED)
    await asyncio.sleep(0)

    assert response.status_code == 200
    assert [entry["httpRequest"]["status"] for entry in log_lines.entries()] == [200]


async def test_the_lines_of_one_loop_turn_go_out_in_one_write(
    client: httpx.AsyncClient, log_lines: LogLines
) -> None:
    payloads = [{"eventName": "chatAssigned", "eventData": {"n": n}} for n in range(20)]

    await asyncio.gather(*(post(client, payload) for payload in payloads))
    await asyncio.sleep(0)

    assert len(log_lines.entries()) == 20
    assert len(log_lines.written) < 20


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


async def test_each_acknowledgement_declares_its_own_length(app: ReceiverApp) -> None:
    request = RawRequest(path=HOOK, headers=[(b"content-type", b"application/json")], chunks=[b"{"])
    body = json.dumps(ASSIGNED).encode()

    responses = []
    for _ in range(2):
        request.chunks = [body]
        response, _ = await call_asgi(app, request)
        assert response is not None
        responses.append(response)

    assert [json.loads(r.body)["status"] for r in responses] == ["accepted", "duplicate"]
    for response in responses:
        assert int(response.headers[b"content-length"]) == len(response.body)


_ASSIGNED_BODY = json.dumps(ASSIGNED).encode()


@pytest.mark.parametrize(
    ("host", "headers", "problem"),
    [
        (None, [], "no Host header"),
        (b"receiver", [(b"host", b"other")], "more than one Host header"),
    ],
)
@pytest.mark.parametrize("path", ["hook", "/healthz"])
async def test_a_request_without_one_host_is_400(
    app: ReceiverApp,
    sink: RecordingSink,
    host: bytes | None,
    headers: list[tuple[bytes, bytes]],
    problem: str,
    path: str,
) -> None:
    # Issue 22: answered 200; RFC 9112 3.2 says 400.
    request = RawRequest(
        method="POST" if path == "hook" else "GET",
        path=f"/hooks/{SECRET}" if path == "hook" else path,
        headers=[
            (b"content-type", b"application/json"),
            (b"content-length", b"%d" % len(_ASSIGNED_BODY)),
            *headers,
        ],
        chunks=[_ASSIGNED_BODY],
        host=host,
    )

    response, _ = await call_asgi(app, request)

    assert response is not None
    assert (response.status, json.loads(response.body)) == (400, {"error": problem})
    assert sink.attempts == 0


async def test_an_http_1_0_request_may_leave_host_out(app: ReceiverApp) -> None:
    request = RawRequest(method="GET", path="/healthz", host=None)

    response, _ = await call_asgi(app, request, http_version="1.0")

    assert response is not None
    assert response.status == 200
