"""`python -m receiver`: the entry point the container and the local stack run."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping

from receiver.app import create_app
from receiver.logs import configure_logging
from receiver.protocol import ConnectionLimits
from receiver.server import serve
from receiver.settings import NullSinkSpec, SettingsError, load_settings

# The status for a configuration that cannot work: restarting will not help.
CONFIG_ERROR = 2

logger = logging.getLogger("receiver")


def main(environ: Mapping[str, str]) -> int:
    try:
        settings = load_settings(environ)
    except SettingsError as error:
        print(f"receiver: configuration error: {error}", file=sys.stderr)
        return CONFIG_ERROR
    configure_logging(settings.log_level)
    try:
        app = create_app(settings)
    except Exception as error:
        # Reasons from the OS or google-auth: paths and topics, never a secret.
        print(f"receiver: configuration error: RECEIVER_SINK: {error}", file=sys.stderr)
        return CONFIG_ERROR
    if isinstance(settings.sink, NullSinkSpec):
        logger.warning("RECEIVER_SINK=null: deliveries are acknowledged and dropped")
    return serve(
        app,
        host=settings.host,
        port=settings.port,
        shutdown_timeout_seconds=settings.shutdown_timeout_seconds,
        limits=ConnectionLimits(
            header_timeout=settings.header_timeout_seconds,
            body_timeout=settings.body_timeout_seconds,
            max_header_bytes=settings.max_header_bytes,
            max_connections=settings.max_connections,
        ),
    )


if __name__ == "__main__":
    sys.exit(main(os.environ))
