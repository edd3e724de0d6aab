"""Where an accepted delivery is handed off before it is acknowledged."""

from receiver.sinks.base import Sink, SinkUnavailable

__all__ = ["Sink", "SinkUnavailable"]
