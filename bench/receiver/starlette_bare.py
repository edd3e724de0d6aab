"""Exploratory baseline: the bare app written with Starlette, to price the framework itself.

Run as `python -m bench.receiver.starlette_bare` with PORT (and HOST) set.
"""

from __future__ import annotations

import os
import sys

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from receiver.server import serve


async def hook(request: Request) -> Response:
    await request.body()
    return Response(b'{"status":"ok"}', media_type="application/json")


app = Starlette(routes=[Route("/hooks/{secret}", hook, methods=["POST"])])

if __name__ == "__main__":
    sys.exit(
        serve(
            app,
            host=os.environ.get("HOST", "127.0.0.1"),
            port=int(os.environ["PORT"]),
            shutdown_timeout_seconds=5,
        )
    )
