"""The receiver's small HTTP helpers: content types and a body read that stops at its limit."""

from __future__ import annotations

import pytest

from receiver.asgi import (
    BodyHeaders,
    BodyTooLarge,
    ClientDisconnected,
    Message,
    discard_body,
    is_json_content_type,
    read_body,
)

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        (b"application/json", True),
        (b"application/json; charset=utf-8", True),
        (b'APPLICATION/JSON ; Charset="UTF-8"', True),
        (b"application/json;charset=utf8", True),
        (b"application/json; boundary=x", True),
        (None, False),
        (b"", False),
        (b"text/json", False),
        (b"application/json-patch+json", False),
        (b"application/jsonx", False),
        (b"application/json; charset=iso-8859-1", False),
        (b"application/json; charset=utf-16", False),
        (b"\xff\xfe", False),
    ],
)
def test_only_json_in_utf8_is_accepted(value: bytes | None, accepted: bool) -> None:
    assert is_json_content_type(value) is accepted


def messages(*chunks: bytes, disconnect: bool = False) -> tuple[list[Message], object]:
    queue: list[Message] = [{"type": "http.request", "body": c, "more_body": True} for c in chunks]
    if disconnect:
        queue.append({"type": "http.disconnect"})
    else:
        queue[-1]["more_body"] = False
    taken: list[Message] = []

    async def receive() -> Message:
        taken.append(queue.pop(0))
        return taken[-1]

    return taken, receive


async def test_the_body_is_joined_from_its_chunks() -> None:
    _, receive = messages(b"ab", b"", b"cd")

    assert await read_body(receive, 4) == b"abcd"  # type: ignore[arg-type]


async def test_a_body_in_one_chunk_is_returned_as_is() -> None:
    _, receive = messages(b"abcd")

    assert await read_body(receive, 4) == b"abcd"  # type: ignore[arg-type]


async def test_reading_stops_at_the_first_chunk_past_the_limit() -> None:
    taken, receive = messages(b"ab", b"cd", b"e", b"never read")

    with pytest.raises(BodyTooLarge) as raised:
        await read_body(receive, 4)  # type: ignore[arg-type]

    assert len(taken) == 3
    assert (raised.value.read, raised.value.complete) == (5, False)


async def test_a_body_past_the_limit_in_its_last_chunk_is_complete() -> None:
    _, receive = messages(b"ab", b"cde")

    with pytest.raises(BodyTooLarge) as raised:
        await read_body(receive, 4)  # type: ignore[arg-type]

    assert raised.value.complete


async def test_discarding_reads_to_the_end_within_the_bound() -> None:
    taken, receive = messages(b"ab", b"cd", b"e")

    assert await discard_body(receive, 5, seconds=5)  # type: ignore[arg-type]
    assert len(taken) == 3


async def test_discarding_gives_up_past_the_bound() -> None:
    taken, receive = messages(b"ab", b"cd", b"e", b"never read")

    assert not await discard_body(receive, 3, seconds=5)  # type: ignore[arg-type]
    assert len(taken) == 2


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ([], (None, 0, None, None, None, False)),
        (
            [(b"content-type", b"a"), (b"content-type", b"b"), (b"content-length", b"12")],
            (b"b", 2, 12, None, None, False),
        ),
        ([(b"content-encoding", b"identity")], (None, 0, None, None, None, False)),
        ([(b"content-encoding", b" Identity , GZip")], (None, 0, None, b"gzip", None, False)),
        ([(b"transfer-encoding", b"chunked")], (None, 0, None, None, None, False)),
        ([(b"transfer-encoding", b"gzip, chunked")], (None, 0, None, None, b"gzip", False)),
        ([(b"expect", b"100-Continue")], (None, 0, None, None, None, True)),
    ],
)
def test_body_headers_are_found_in_one_pass(
    headers: list[tuple[bytes, bytes]], expected: tuple[object, ...]
) -> None:
    found = BodyHeaders(headers)

    assert (
        found.content_type,
        found.content_types,
        found.content_length,
        found.content_encoding,
        found.transfer_coding,
        found.expect_continue,
    ) == expected


async def test_a_client_gone_mid_body_is_reported() -> None:
    _, receive = messages(b"ab", disconnect=True)

    with pytest.raises(ClientDisconnected):
        await read_body(receive, 4)  # type: ignore[arg-type]
