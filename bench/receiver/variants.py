"""The servers under test: how each is started, pinned to the server core."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

SECRET = "bench-secret-0123456789"
HOOK_PATH = f"/hooks/{SECRET}"


@dataclass(frozen=True)
class Variant:
    name: str
    argv: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    # Needs a fresh file per run (the file sink); None otherwise.
    sink_file: str | None = None


def variants(work_dir: Path) -> dict[str, Variant]:
    python = sys.executable
    receiver_env = {"RECEIVER_SECRET": SECRET, "RECEIVER_LOG_LEVEL": "INFO"}
    events = str(work_dir / "events.jsonl")
    return {
        "bare": Variant("bare", (python, "-m", "bench.receiver.bare")),
        "receiver-null": Variant(
            "receiver-null",
            (python, "-m", "receiver"),
            {**receiver_env, "RECEIVER_SINK": "null"},
        ),
        "receiver-file": Variant(
            "receiver-file",
            (python, "-m", "receiver"),
            {**receiver_env, "RECEIVER_SINK": f"file:{events}"},
            sink_file=events,
        ),
    }
