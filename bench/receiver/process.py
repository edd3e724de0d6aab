"""Starts a server pinned to one core, times its cold start, reads its memory, stops it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from bench.receiver.payload import sample_body
from bench.receiver.variants import Variant

START_TIMEOUT_SECONDS = 20.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    def __init__(self, variant: Variant, core: int, log_path: Path) -> None:
        self.variant = variant
        self.port = free_port()
        if variant.sink_file is not None:
            Path(variant.sink_file).unlink(missing_ok=True)
        env = {
            **os.environ,
            **variant.env,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "GRANIAN_HOST": "127.0.0.1",
            "GRANIAN_PORT": str(self.port),
        }
        self._log = log_path.open("wb")
        self._started = time.perf_counter()
        self.process = subprocess.Popen(
            ["taskset", "-c", str(core), *variant.argv],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.cold_start_seconds = self._wait_for_first_200()

    def _wait_for_first_200(self) -> float:
        headers = "".join(f"{name}: {value}\r\n" for name, value in self.variant.headers)
        request = (
            f"POST {self.variant.hook_path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}"
            f"Content-Type: application/json\r\n"
            f"Content-Length: {len(sample_body())}\r\nConnection: close\r\n\r\n"
        ).encode() + sample_body()
        deadline = self._started + START_TIMEOUT_SECONDS
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.variant.name} exited with {self.process.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    sock.sendall(request)
                    status_line = sock.recv(64)
                if status_line.startswith(b"HTTP/1.1 200"):
                    return time.perf_counter() - self._started
            except OSError:
                pass
            time.sleep(0.002)
        raise RuntimeError(f"{self.variant.name} did not answer 200 in {START_TIMEOUT_SECONDS}s")

    def cpu_seconds(self) -> float:
        """User + system CPU time the server's processes have used so far."""
        ticks = 0
        for pid in _process_tree(self.process.pid):
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            # utime and stime are the 14th and 15th fields; the split starts at the 3rd.
            ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    def peak_rss_mb(self) -> float:
        """Peak resident memory, summed over the server's processes (and any it forks)."""
        total_kb = 0
        for pid in _process_tree(self.process.pid):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total_kb += int(line.split()[1])
        return total_kb / 1024

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()
        finally:
            self._log.close()


def _process_tree(pid: int) -> list[int]:
    pids = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        for child in children:
            pids.extend(_process_tree(int(child)))
    return pids
