"""Exploratory: the receiver with the file sink, its fsync left out, to price durability on this
machine's disk. Not a way to run the receiver: an acknowledged delivery could be lost. Run as
`python -m bench.receiver.unsynced` with the receiver's settings and RECEIVER_SINK=file:PATH."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from receiver.__main__ import main
from receiver.sinks import factory
from receiver.sinks.file import FileSink


class UnsyncedFileSink(FileSink):
    def __init__(self, path: Path, **options: Any) -> None:
        super().__init__(path, sync=lambda fd: None, **options)


if __name__ == "__main__":
    # The sink factory builds this in place of the file sink; everything else is as shipped.
    setattr(factory, "FileSink", UnsyncedFileSink)  # noqa: B010
    sys.exit(main(os.environ))
