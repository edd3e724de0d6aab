"""Serves an ASGI app with uvicorn, configured the way the receiver and its benchmark share."""

from __future__ import annotations

import signal
from types import FrameType

import uvicorn

from receiver.asgi import ASGIApp
from receiver.protocol import ConnectionLimits, protocol_class

# uvicorn's own exit status when the app's lifespan start-up failed.
STARTUP_FAILED = 3


def serve(
    app: ASGIApp,
    *,
    host: str,
    port: int,
    shutdown_timeout_seconds: int,
    limits: ConnectionLimits | None = None,
) -> int:
    """Runs until SIGTERM/SIGINT, then drains in-flight requests; returns the exit status.

    With `limits`, connections are held to them (receiver.protocol); without, this is plain
    uvicorn with httptools (the benchmark's baseline).
    """
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        http="httptools" if limits is None else protocol_class(limits),
        # Logging is configured by the caller; uvicorn's access log would print the secret.
        log_config=None,
        access_log=False,
        lifespan="on",
        # No WebSocket route exists: upgrades are answered as plain HTTP requests.
        ws="none",
        # On SIGTERM: stop accepting, let requests in flight finish for this long, then cancel.
        timeout_graceful_shutdown=shutdown_timeout_seconds,
        server_header=False,
        # Nothing reads the client's address; uvicorn's middleware for X-Forwarded-For would
        # cost every request a pass over its headers.
        proxy_headers=False,
    )
    server = uvicorn.Server(config)
    # uvicorn re-raises the signal that stopped it once it has drained, to the handlers that were
    # in place before it ran. A drained shutdown is a clean exit: status 0, not death by signal.
    # (Before uvicorn takes the signals over, nothing is in flight, so exiting at once is right.)
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, _exit_cleanly)
    server.run()
    return 0 if server.started else STARTUP_FAILED


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)
