"""The baseline: an ASGI app that reads the body and answers 200, on the receiver's server setup.

Run as `python -m bench.receiver.bare` with PORT (and HOST) set.
"""

from __future__ import annotations

import os
import sys

from receiver.asgi import Receive, Scope, Send
from receiver.server import serve

_BODY = b'{"status":"ok"}'
_HEADERS = [(b"content-type", b"application/json"), (b"content-length", b"15")]


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    more_body = True
    while more_body:
        message = await receive()
        more_body = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
    await send({"type": "http.response.body", "body": _BODY})


if __name__ == "__main__":
    sys.exit(
        serve(
            app,
            host=os.environ.get("HOST", "127.0.0.1"),
            port=int(os.environ["PORT"]),
            shutdown_timeout_seconds=5,
        )
    )
