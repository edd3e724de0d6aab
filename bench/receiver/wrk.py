"""Runs wrk on the load core and reads back what its Lua `done` hook printed."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Load:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


def require_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is not installed: apt-get update && apt-get install -y wrk")
    return wrk


def run_wrk(*, url: str, script: Path, seconds: int, connections: int, core: int) -> Load:
    completed = subprocess.run(
        [
            "taskset",
            "-c",
            str(core),
            require_wrk(),
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "5s",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 30,
    )
    for line in completed.stdout.splitlines():
        if line.startswith("WRKJSON "):
            stats = json.loads(line.removeprefix("WRKJSON "))
            return Load(
                requests=stats["requests"],
                seconds=stats["duration_us"] / 1e6,
                p50_ms=stats["p50_us"] / 1000,
                p99_ms=stats["p99_us"] / 1000,
                errors=sum(stats[k] for k in ("connect", "read", "write", "status", "timeout")),
            )
    raise RuntimeError(f"wrk printed no summary:\n{completed.stdout}\n{completed.stderr}")
