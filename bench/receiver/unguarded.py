"""Exploratory: the receiver on plain uvicorn, without receiver.protocol's connection limits,
to price them. Run as `python -m bench.receiver.unguarded` with the receiver's settings."""

from __future__ import annotations

import os
import sys

from receiver.app import create_app
from receiver.logs import configure_logging
from receiver.server import serve
from receiver.settings import load_settings

if __name__ == "__main__":
    settings = load_settings(os.environ)
    configure_logging(settings.log_level)
    sys.exit(
        serve(
            create_app(settings),
            host=settings.host,
            port=settings.port,
            shutdown_timeout_seconds=settings.shutdown_timeout_seconds,
            limits=None,
        )
    )
