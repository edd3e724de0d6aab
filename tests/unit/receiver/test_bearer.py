"""The secret as `Authorization: Bearer` on `POST /hooks`, beside the secret in the path."""

from __future__ import annotations

import asyncio
import base64
import hmac
import json
import logging
from collections.abc import Callable
from typing import Any

import pytest

from receiver.app import ReceiverApp
from receiver.auth import SecretMatcher
from receiver.dedup import Deduplicator
from receiver.request_log import RequestLog
from tests.unit.receiver.fakes import LogLines, RawRequest, RecordingSink, Response, call_asgi

pytestmark = pytest.mark.anyio

SECRET = b"bearer-test-secret-0123456789"
OLD_SECRET = b"bearer-rotated-out-abcdefghij"
WRONG = b"bearer-wrong-secret-012345678"
BODY = json.dumps({"eventName": "chatAssigned", "eventData": {"chat": {"_id": "c1"}}}).encode()
JSON = (b"content-type", b"application/json")
UNAUTHORIZED = {"error": "missing or invalid bearer token"}


def bearer(token: bytes, scheme: bytes = b"Bearer") -> tuple[bytes, bytes]:
    return (b"authorization", scheme + b" " + token)


def make_app(
    sink: RecordingSink, log_lines: LogLines, clock: Callable[[], str] | None = None
) -> ReceiverApp:
    extra: dict[str, Any] = {} if clock is None else {"clock": clock}
    return ReceiverApp(
        matcher=SecretMatcher([SECRET, OLD_SECRET]),
        sink=sink,
        dedup=Deduplicator(600),
        max_body_bytes=4096,
        request_log=RequestLog(logging.DEBUG, write=log_lines),
        **extra,
    )


@pytest.fixture
def app(sink: RecordingSink, log_lines: LogLines) -> ReceiverApp:
    return make_app(sink, log_lines)


async def post(
    app: ReceiverApp,
    headers: list[tuple[bytes, bytes]],
    path: str = "/hooks",
    body: bytes = BODY,
    method: str = "POST",
) -> tuple[Response, int]:
    """The response, and how many body messages the app read. With a Content-Length, as
    Texter sends it, unless `headers` has one: the plain path, not the careful one."""
    if all(name != b"content-length" for name, _ in headers):
        headers = [(b"content-length", b"%d" % len(body)), *headers]
    response, received = await call_asgi(
        app, RawRequest(method=method, path=path, headers=[JSON, *headers], chunks=[body])
    )
    assert response is not None
    return response, received


def assert_unauthorized(response: Response) -> None:
    assert response.status == 401
    assert response.headers[b"www-authenticate"] == b"Bearer"
    assert json.loads(response.body) == UNAUTHORIZED


@pytest.mark.parametrize("secret", [SECRET, OLD_SECRET], ids=["current", "rotated-out"])
async def test_each_rotating_secret_is_accepted_as_a_bearer_token(
    app: ReceiverApp, sink: RecordingSink, secret: bytes
) -> None:
    response, _ = await post(app, [bearer(secret)])

    assert response.status == 200
    assert json.loads(response.body)["status"] == "accepted"
    [stored] = sink.stored
    assert stored.body == BODY


@pytest.mark.parametrize("scheme", [b"bearer", b"BEARER", b"bEaReR"])
async def test_the_scheme_is_case_insensitive(
    app: ReceiverApp, sink: RecordingSink, scheme: bytes
) -> None:
    response, _ = await post(app, [bearer(SECRET, scheme)])

    assert response.status == 200
    assert len(sink.stored) == 1


REFUSED: dict[str, list[tuple[bytes, bytes]]] = {
    "no header": [],
    "empty header": [(b"authorization", b"")],
    "Bearer without a token": [(b"authorization", b"Bearer")],
    "Bearer and a space, no token": [(b"authorization", b"Bearer ")],
    "the token without a scheme": [(b"authorization", SECRET)],
    "Basic": [(b"authorization", b"Basic " + base64.b64encode(b"texter:" + SECRET))],
    "Basic with the bare secret": [bearer(SECRET, b"Basic")],
    "two spaces": [(b"authorization", b"Bearer  " + SECRET)],
    "a tab": [(b"authorization", b"Bearer\t" + SECRET)],
    "a trailing space": [(b"authorization", b"Bearer " + SECRET + b" ")],
    "more after the token": [(b"authorization", b"Bearer " + SECRET + b" x")],
    "a wrong secret": [bearer(WRONG)],
    "the secret cut short": [bearer(SECRET[:-1])],
    "the secret and more": [bearer(SECRET + b"x")],
    "the secret in upper case": [bearer(SECRET.upper())],
    "two headers, both right": [bearer(SECRET), bearer(SECRET)],
    "two headers, the first right": [bearer(SECRET), bearer(WRONG)],
    "two headers, the second right": [bearer(WRONG), bearer(OLD_SECRET)],
    "two tokens in one header": [(b"authorization", b"Bearer " + SECRET + b", Bearer " + SECRET)],
}


@pytest.mark.parametrize("headers", REFUSED.values(), ids=REFUSED.keys())
async def test_a_missing_or_bad_credential_is_one_401_and_the_body_is_not_read(
    app: ReceiverApp, sink: RecordingSink, headers: list[tuple[bytes, bytes]]
) -> None:
    response, received = await post(app, headers)

    assert_unauthorized(response)
    assert received == 0
    assert sink.attempts == 0


UNUSUAL: dict[str, list[tuple[bytes, bytes]]] = {
    "gzip": [(b"content-encoding", b"gzip")],
    "two content types": [JSON],
    "a transfer coding": [(b"transfer-encoding", b"gzip, chunked")],
    "too large": [(b"content-length", b"999999")],
    "expect": [(b"expect", b"100-continue")],
}


@pytest.mark.parametrize("unusual", UNUSUAL.values(), ids=UNUSUAL.keys())
@pytest.mark.parametrize("credential", [[], [bearer(WRONG)]], ids=["none", "wrong"])
async def test_the_401_comes_before_any_check_on_the_body(
    app: ReceiverApp,
    unusual: list[tuple[bytes, bytes]],
    credential: list[tuple[bytes, bytes]],
) -> None:
    # Otherwise a sender without the secret could tell a 415 or 413 from a 401.
    response, received = await post(app, [*unusual, *credential])

    assert_unauthorized(response)
    assert received == 0


async def test_an_unusual_request_with_a_good_token_gets_past_the_401(app: ReceiverApp) -> None:
    response, _ = await post(app, [(b"content-encoding", b"gzip"), bearer(SECRET)])

    assert response.status == 415


@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"])
@pytest.mark.parametrize("credential", [[], [bearer(SECRET)]], ids=["none", "right"])
async def test_other_methods_on_the_bare_hook_are_405(
    app: ReceiverApp,
    sink: RecordingSink,
    method: str,
    credential: list[tuple[bytes, bytes]],
) -> None:
    response, _ = await post(app, credential, method=method)

    assert response.status == 405
    assert response.headers[b"allow"] == b"POST"
    assert sink.attempts == 0


@pytest.mark.parametrize("path", ["/hooks/", "/hooks//", "/hooks/x", "/HOOKS", "//hooks"])
async def test_only_the_exact_bare_hook_takes_a_bearer_token(
    app: ReceiverApp, sink: RecordingSink, path: str
) -> None:
    # "/hooks/" is the path form with an empty secret, not the bare hook.
    response, _ = await post(app, [bearer(SECRET)], path=path)

    assert response.status == 404
    assert sink.attempts == 0


@pytest.mark.parametrize("secret", [SECRET, OLD_SECRET], ids=["current", "rotated-out"])
async def test_the_path_form_without_a_header_is_unchanged(
    app: ReceiverApp, sink: RecordingSink, secret: bytes
) -> None:
    accepted, _ = await post(app, [], path=f"/hooks/{secret.decode()}")
    wrong, _ = await post(app, [], path=f"/hooks/{WRONG.decode()}")

    assert accepted.status == 200
    assert (wrong.status, json.loads(wrong.body)) == (404, {"error": "not found"})
    assert b"www-authenticate" not in wrong.headers
    assert len(sink.stored) == 1


@pytest.mark.parametrize(
    ("path_secret", "headers", "status"),
    [
        # The path must match, whatever the header says: a wrong path is any unknown path.
        (WRONG, [bearer(SECRET)], 404),
        (WRONG, [bearer(WRONG)], 404),
        # A matching path with a header: the header must match too, any configured secret.
        (SECRET, [bearer(SECRET)], 200),
        (SECRET, [bearer(OLD_SECRET)], 200),
        (OLD_SECRET, [bearer(SECRET, b"bearer")], 200),
        (SECRET, [bearer(WRONG)], 401),
        (SECRET, [(b"authorization", b"Basic " + base64.b64encode(b"u:p"))], 401),
        (SECRET, [(b"authorization", b"Bearer")], 401),
        (SECRET, [bearer(SECRET), bearer(SECRET)], 401),
    ],
)
async def test_a_path_secret_with_a_header_needs_both_to_match(
    app: ReceiverApp,
    sink: RecordingSink,
    path_secret: bytes,
    headers: list[tuple[bytes, bytes]],
    status: int,
) -> None:
    response, _ = await post(app, headers, path=f"/hooks/{path_secret.decode()}")

    assert response.status == status
    if status == 401:
        assert_unauthorized(response)
    assert len(sink.stored) == (1 if status == 200 else 0)


class CountingCompare:
    """hmac.compare_digest, counting its calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[bytes, bytes]] = []
        self._compare = hmac.compare_digest

    def __call__(self, a: bytes, b: bytes) -> bool:
        self.calls.append((a, b))
        return self._compare(a, b)


@pytest.fixture
def compare(monkeypatch: pytest.MonkeyPatch) -> CountingCompare:
    counting = CountingCompare()
    monkeypatch.setattr(hmac, "compare_digest", counting)
    return counting


@pytest.mark.parametrize(
    ("token", "status"),
    [(SECRET, 200), (OLD_SECRET, 200), (WRONG, 401), (b"short", 401)],
    ids=["first", "second", "wrong", "short"],
)
async def test_a_bearer_token_is_compared_in_constant_time_with_every_secret(
    app: ReceiverApp, compare: CountingCompare, token: bytes, status: int
) -> None:
    response, _ = await post(app, [bearer(token)])

    assert response.status == status
    # Every secret, even once the first has matched: the time does not tell which one did.
    assert sorted(secret for _, secret in compare.calls) == sorted([SECRET, OLD_SECRET])
    assert {candidate for candidate, _ in compare.calls} == {token}


async def test_the_path_form_with_a_header_compares_both_with_every_secret(
    app: ReceiverApp, compare: CountingCompare
) -> None:
    response, _ = await post(app, [bearer(OLD_SECRET)], path=f"/hooks/{SECRET.decode()}")

    assert response.status == 200
    assert sorted(compare.calls) == sorted(
        (candidate, secret) for candidate in (SECRET, OLD_SECRET) for secret in (SECRET, OLD_SECRET)
    )


def failing_clock() -> str:
    raise RuntimeError("the clock broke")


async def test_no_credential_reaches_a_log_line(
    sink: RecordingSink, log_lines: LogLines, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(sink, log_lines)
    # A bug past the check: its traceback goes through the lifecycle logger.
    broken = make_app(sink, log_lines, clock=failing_clock)
    sent: list[bytes] = []
    with caplog.at_level(logging.DEBUG):
        for headers in [*REFUSED.values(), [bearer(SECRET)], [bearer(OLD_SECRET, b"bearer")]]:
            sent += [value for _, value in headers]
            await post(app, headers)
            await post(app, headers, path=f"/hooks/{SECRET.decode()}")
            await post(app, headers, path=f"/hooks/{WRONG.decode()}")
            await post(app, headers, method="GET")
        failed, _ = await post(broken, [bearer(SECRET)])
        await asyncio.sleep(0)

    assert failed.status == 500
    assert "Traceback" in caplog.text
    logged = b"".join(log_lines.written) + caplog.text.encode()
    entries = log_lines.entries()
    assert {entry["httpRequest"]["status"] for entry in entries} == {200, 401, 404, 405, 500}
    for secret in (SECRET, OLD_SECRET, base64.b64encode(b"texter:" + SECRET)):
        assert secret not in logged
    for value in sent:
        assert len(value) < 8 or value not in logged


async def test_the_log_says_why_a_credential_was_refused_without_quoting_it(
    app: ReceiverApp, log_lines: LogLines
) -> None:
    cases = [
        ([], "no Authorization header"),
        ([bearer(SECRET), bearer(SECRET)], "more than one Authorization header"),
        ([bearer(SECRET, b"Basic")], "not a well-formed Bearer credential"),
        ([(b"authorization", b"Bearer  " + SECRET)], "not a well-formed Bearer credential"),
        ([bearer(WRONG)], "the bearer token matches no secret"),
    ]
    for headers, _ in cases:
        await post(app, headers)
    await asyncio.sleep(0)

    entries = log_lines.entries()
    assert [entry["message"] for entry in entries] == [
        f"unauthorized: {reason}" for _, reason in cases
    ]
    assert {entry["httpRequest"]["requestUrl"] for entry in entries} == {"/hooks"}
    assert {entry["severity"] for entry in entries} == {"INFO"}
