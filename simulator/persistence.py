"""The ``--state`` JSON file: atomic writes and one owning process.

A write goes to a temporary file in the same directory, is fsynced, then renamed over the
state file (and the directory fsynced), so a crash or SIGKILL leaves either the old or the new
state, never a torn file. An exclusive ``flock`` on ``<state>.lock`` stops a second simulator
from sharing the file, which would otherwise silently overwrite the first one's writes.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Any, TextIO

FORMAT = 1


class StateFileError(Exception):
    """The state file cannot be used (locked by another process, unreadable, wrong format)."""


class StateFile:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._lock_file: TextIO | None = None
        path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = path.with_name(path.name + ".lock")
        lock_file = lock_path.open("a")
        try:
            fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            lock_file.close()
            raise StateFileError(f"{path} is in use by another simulator") from None
        self._lock_file = lock_file

    def load(self) -> dict[str, Any] | None:
        """The saved state, or None when there is no file yet.

        A corrupt file is an error rather than an empty state: silently starting empty would
        make a local stack "lose" subscriptions that still exist in Pulumi's state.
        """
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            state = json.loads(text)
        except ValueError as exc:
            raise StateFileError(f"{self.path} is not valid JSON: {exc}") from None
        if not isinstance(state, dict) or state.get("format") != FORMAT:
            raise StateFileError(f"{self.path} is not a simulator state file (format {FORMAT})")
        return state

    def save(self, state: dict[str, Any]) -> None:
        payload = json.dumps({**state, "format": FORMAT}, indent=1, sort_keys=False)
        with self._lock:
            fd, tmp_name = tempfile.mkstemp(
                prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent
            )
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as tmp:
                    tmp.write(payload)
                    tmp.flush()
                    os.fsync(tmp.fileno())
                os.replace(tmp_name, self.path)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp_name)
                raise
            _fsync_directory(self.path.parent)

    def close(self) -> None:
        if self._lock_file is not None:
            fcntl.flock(self._lock_file.fileno(), fcntl.LOCK_UN)
            self._lock_file.close()
            self._lock_file = None


def _fsync_directory(directory: Path) -> None:
    # Makes the rename itself durable; without it a power loss can resurrect the old file.
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
