"""The few pieces of HTTP over ASGI the receiver needs, without a framework in the request path."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

Headers = Iterable[tuple[bytes, bytes]]
_JSON_HEADER = (b"content-type", b"application/json")
# Tells the server to drop the connection instead of reading a body nobody will read.
CLOSE_CONNECTION = ((b"connection", b"close"),)


class BodyTooLarge(Exception):
    def __init__(self, read: int, *, complete: bool) -> None:
        super().__init__(f"past the limit after {read} bytes")
        # What was read (and dropped) before giving up, and whether that was all of it.
        self.read = read
        self.complete = complete


class ClientDisconnected(Exception):
    pass


class BodyHeaders:
    """The request headers that say how to read the body, found in one pass."""

    __slots__ = (
        "content_encoding",
        "content_length",
        "content_type",
        "content_types",
        "expect_continue",
        "hosts",
        "transfer_coding",
    )

    def __init__(self, headers: Iterable[tuple[bytes, bytes]]) -> None:
        self.content_type: bytes | None = None
        # More than one is ambiguous: proxies and parsers disagree on which one counts.
        self.content_types = 0
        self.content_length: int | None = None
        # A content coding other than identity (gzip, br, ...), or None.
        self.content_encoding: bytes | None = None
        # A transfer coding other than chunked, or None.
        self.transfer_coding: bytes | None = None
        self.expect_continue = False
        # RFC 9112: one Host header in an HTTP/1.1 request, at most one in any.
        self.hosts = 0
        for name, value in headers:
            if name == b"host":
                self.hosts += 1
            elif name == b"content-type":
                self.content_type = value
                self.content_types += 1
            elif name == b"content-length":
                self.content_length = _length(value)
            elif name == b"content-encoding":
                self.content_encoding = self.content_encoding or _coding(value, b"identity")
            elif name == b"transfer-encoding":
                self.transfer_coding = self.transfer_coding or _coding(value, b"chunked")
            elif name == b"expect":
                self.expect_continue = value.lower() == b"100-continue"


def _length(value: bytes) -> int | None:
    try:
        return int(value)
    except ValueError:
        # The server has already refused a request with a malformed length; this is a guard.
        return None


def _coding(value: bytes, allowed: bytes) -> bytes | None:
    """The first coding in a comma-separated list other than `allowed` (and identity)."""
    for token in value.split(b","):
        coding = token.strip().lower()
        if coding and coding not in (allowed, b"identity"):
            return coding
    return None


def host_problem(scope: Scope, hosts: int) -> str | None:
    """Why a request with `hosts` Host headers must get a 400 (RFC 9112 3.2), or None."""
    if hosts > 1:
        return "more than one Host header"
    if hosts == 0 and scope.get("http_version", "1.1") == "1.1":
        return "no Host header"
    return None


def is_json_content_type(value: bytes | None) -> bool:
    """application/json, with an optional charset that can only be UTF-8 (RFC 8259)."""
    if value is None:
        return False
    if value == b"application/json":
        return True
    media_type, *parameters = value.decode("latin-1").split(";")
    if media_type.strip().lower() != "application/json":
        return False
    for parameter in parameters:
        name, _, argument = parameter.partition("=")
        if name.strip().lower() == "charset" and argument.strip().strip('"').lower() not in (
            "utf-8",
            "utf8",
        ):
            return False
    return True


async def read_body(receive: Receive, limit: int) -> bytes:
    """The whole body, streamed: stops with BodyTooLarge as soon as it passes `limit` bytes."""
    return await read_rest_of_body(receive, await receive(), limit)


async def read_rest_of_body(receive: Receive, first: Message, limit: int) -> bytes:
    """The whole body, `first` being the message already received."""
    message = first
    if message["type"] == "http.disconnect":
        raise ClientDisconnected
    chunk: bytes = message.get("body", b"")
    # The common case, a body in one message, without a list.
    if not message.get("more_body", False) and len(chunk) <= limit:
        return chunk
    chunks = [chunk]
    size = len(chunk)
    while size <= limit and message.get("more_body", False):
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        chunks.append(chunk)
    if size > limit:
        raise BodyTooLarge(size, complete=not message.get("more_body", False))
    return b"".join(chunks)


async def discard_body(receive: Receive, limit: int, seconds: float) -> bool:
    """Reads and drops the rest of a body; True once it has all been read.

    False if it goes past `limit` more bytes, takes longer than `seconds`, or the client goes
    away: the connection must then be closed with the body unread.
    """
    size = 0
    try:
        async with asyncio.timeout(seconds):
            while size <= limit:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return False
                size += len(message.get("body", b""))
                if not message.get("more_body", False):
                    return size <= limit
    except TimeoutError:
        return False
    return False


async def send_json(send: Send, status: int, payload: object, headers: Headers = ()) -> None:
    await send_raw_json(send, status, json.dumps(payload).encode(), headers)


async def send_raw_json(send: Send, status: int, body: bytes, headers: Headers = ()) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [_JSON_HEADER, (b"content-length", b"%d" % len(body)), *headers],
        }
    )
    await send({"type": "http.response.body", "body": body})
