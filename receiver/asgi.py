"""The few pieces of HTTP over ASGI the receiver needs, without a framework in the request path."""

from __future__ import annotations

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
# Tells the server to drop the connection instead of draining a body nobody will read.
CLOSE_CONNECTION = ((b"connection", b"close"),)


class BodyTooLarge(Exception):
    pass


class ClientDisconnected(Exception):
    pass


def header(scope: Scope, name: bytes) -> bytes | None:
    """The first value of header `name` (lower case), as the server passed it."""
    for key, value in scope["headers"]:
        if key == name:
            return value  # type: ignore[no-any-return]
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


def declared_length(scope: Scope) -> int | None:
    value = header(scope, b"content-length")
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        # The server has already refused a request with a malformed length; this is a guard.
        return None


async def read_body(receive: Receive, limit: int) -> bytes:
    """The whole body, streamed: stops with BodyTooLarge as soon as it passes `limit` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnected
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def send_json(send: Send, status: int, payload: object, headers: Headers = ()) -> None:
    await send_raw_json(send, status, json.dumps(payload).encode(), headers)


async def send_raw_json(send: Send, status: int, body: bytes, headers: Headers = ()) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [_JSON_HEADER, (b"content-length", str(len(body)).encode()), *headers],
        }
    )
    await send({"type": "http.response.body", "body": body})
