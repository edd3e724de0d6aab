"""The servers under test: how each is started, pinned to the server core."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

SECRET = "bench-secret-0123456789"
HOOK_PATH = f"/hooks/{SECRET}"
# The header form: the secret as a Bearer token, the URL without it.
BEARER_HOOK_PATH = "/hooks"
BEARER_HEADERS = (("Authorization", f"Bearer {SECRET}"),)


@dataclass(frozen=True)
class Variant:
    name: str
    argv: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    # Needs a fresh file per run (the file sink); None otherwise.
    sink_file: str | None = None
    # Where the load posts, and the headers it sends besides Content-Type.
    hook_path: str = HOOK_PATH
    headers: tuple[tuple[str, str], ...] = ()


def variants(work_dir: Path) -> dict[str, Variant]:
    python = sys.executable
    receiver_env = {"RECEIVER_SECRET": SECRET, "RECEIVER_LOG_LEVEL": "INFO"}
    events = str(work_dir / "events.jsonl")
    return {
        "bare": Variant("bare", (python, "-m", "bench.receiver.bare")),
        # Exploratory, for choosing the framework: not among the goals.
        "bare-starlette": Variant(
            "bare-starlette", (python, "-m", "bench.receiver.starlette_bare")
        ),
        "receiver-null": Variant(
            "receiver-null",
            (python, "-m", "receiver"),
            {**receiver_env, "RECEIVER_SINK": "null"},
        ),
        # The secret in an Authorization header rather than the path.
        "receiver-null-header": Variant(
            "receiver-null-header",
            (python, "-m", "receiver"),
            {**receiver_env, "RECEIVER_SINK": "null"},
            hook_path=BEARER_HOOK_PATH,
            headers=BEARER_HEADERS,
        ),
        # Exploratory: what a log line for every request would cost (by default only the
        # non-2xx ones are logged; DEBUG adds the 2xx ones).
        "receiver-null-verbose": Variant(
            "receiver-null-verbose",
            (python, "-m", "receiver"),
            {**receiver_env, "RECEIVER_SINK": "null", "RECEIVER_LOG_LEVEL": "DEBUG"},
        ),
        # Exploratory: what remembering deliveries for deduplication costs.
        "receiver-null-nodedup": Variant(
            "receiver-null-nodedup",
            (python, "-m", "receiver"),
            {**receiver_env, "RECEIVER_SINK": "null", "RECEIVER_DEDUP_WINDOW_SECONDS": "0"},
        ),
        # Exploratory: what the connection limits (receiver.protocol) cost.
        "receiver-null-unguarded": Variant(
            "receiver-null-unguarded",
            (python, "-m", "bench.receiver.unguarded"),
            {**receiver_env, "RECEIVER_SINK": "null"},
        ),
        "receiver-file": Variant(
            "receiver-file",
            (python, "-m", "receiver"),
            {**receiver_env, "RECEIVER_SINK": f"file:{events}"},
            sink_file=events,
        ),
        # Exploratory: the file sink without its fsync, to price durability on this disk.
        "receiver-file-unsynced": Variant(
            "receiver-file-unsynced",
            (python, "-m", "bench.receiver.unsynced"),
            {**receiver_env, "RECEIVER_SINK": f"file:{events}"},
            sink_file=events,
        ),
    }
