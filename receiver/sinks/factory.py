"""Builds the sink a RECEIVER_SINK setting names."""

from __future__ import annotations

from typing import assert_never

from receiver.settings import (
    DEFAULT_HOLD_SECONDS,
    FileSinkSpec,
    NullSinkSpec,
    PubSubSinkSpec,
    SinkSpec,
)
from receiver.sinks.base import Sink
from receiver.sinks.file import FileSink
from receiver.sinks.null import NullSink


def build_sink(spec: SinkSpec, *, hold_seconds: float = DEFAULT_HOLD_SECONDS) -> Sink:
    """Raises OSError (file) or google.auth's errors (Pub/Sub) when the sink cannot be set up."""
    match spec:
        case FileSinkSpec(path=path):
            return FileSink(path, hold_seconds=hold_seconds)
        case PubSubSinkSpec(topic=topic):
            from receiver.sinks.pubsub import create_pubsub_sink

            return create_pubsub_sink(topic, hold_seconds=hold_seconds)
        case NullSinkSpec():
            return NullSink()
        case _:
            assert_never(spec)
