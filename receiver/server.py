"""Serves an ASGI app with uvicorn, configured the way the receiver and its benchmark share."""

from __future__ import annotations

import uvicorn

from receiver.asgi import ASGIApp

# uvicorn's own exit status when the app's lifespan start-up failed.
STARTUP_FAILED = 3


def serve(app: ASGIApp, *, host: str, port: int, shutdown_timeout_seconds: int) -> int:
    """Runs until SIGTERM/SIGINT, then drains in-flight requests; returns the exit status."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        # Logging is configured by the caller; uvicorn's access log would print the secret.
        log_config=None,
        access_log=False,
        lifespan="on",
        # No WebSocket route exists: upgrades are answered as plain HTTP requests.
        ws="none",
        # On SIGTERM: stop accepting, let requests in flight finish for this long, then cancel.
        timeout_graceful_shutdown=shutdown_timeout_seconds,
        server_header=False,
    )
    server = uvicorn.Server(config)
    server.run()
    return 0 if server.started else STARTUP_FAILED
