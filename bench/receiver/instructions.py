"""Instructions per request, counted rather than timed: steady on a shared machine.

    python -m bench.receiver.instructions [--app receiver|unguarded|bare] [--form path|header]
        [--code DIR] [--seeds 3]

Runs an in-process driver under `valgrind --tool=callgrind` twice, feeding the protocol's
`data_received` 3,300 and then 300 sequential keep-alive requests (this benchmark's
chatAssigned payload, each unique, null sink, a transport that drops what is written), and
prints (Ir(3,300) - Ir(300)) / 3,000: what a request costs, start-up taken out. Each seed
(PYTHONHASHSEED) is one pair of runs; the median is printed last. Slow under callgrind (how slow:
bench/README.md).

- `--app receiver`: the receiver on receiver.protocol; `unguarded`: the receiver on plain
  uvicorn's protocol; `bare`: the bare app on plain uvicorn's protocol (the baseline).
- `--form path`: the secret in the URL, `POST /hooks/<secret>`; `header`: `POST /hooks` with
  `Authorization: Bearer <secret>` (a code from before the header form answers it 404).
- `--code DIR`: import `receiver` from DIR, e.g. an older revision extracted with
  `git archive <rev> receiver | tar -x -C DIR`, to compare with the working tree.

`--drive N` runs the driver alone (what valgrind runs); under cProfile it shows the calls.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent.parent
SECRET = "bench-secret-0123456789"
MANY, FEW = 3300, 300


class _Transport(asyncio.Transport):
    """Drops what is written; never pauses, never closes on its own."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0
        self.closing = False

    def write(self, data: Any) -> None:
        self.writes += 1

    def is_closing(self) -> bool:
        return self.closing

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8080), "peername": ("127.0.0.1", 50000)}.get(
            name, default
        )

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def close(self) -> None:
        self.closing = True

    def abort(self) -> None:
        self.closing = True

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass

    def get_write_buffer_size(self) -> int:
        return 0


def _requests(count: int, form: str) -> list[bytes]:
    from bench.receiver.payload import chat_assigned

    prefix, suffix = json.dumps(chat_assigned("@@N@@"), ensure_ascii=False).split("@@N@@")
    if form == "header":
        target, credential = b"/hooks", b"Authorization: Bearer %s\r\n" % SECRET.encode()
    else:
        target, credential = b"/hooks/%s" % SECRET.encode(), b""
    requests = []
    for n in range(count):
        body = (prefix + str(n) + suffix).encode()
        requests.append(
            b"POST %s HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n%s"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
            % (target, credential, len(body), body)
        )
    return requests


def drive(app_name: str, count: int, form: str = "path") -> None:
    """Serves `count` requests on one connection, one after the other."""
    import uvicorn
    import uvloop
    from uvicorn.server import ServerState

    from receiver.protocol import ConnectionLimits, protocol_class

    os.environ.update(
        {"RECEIVER_SECRET": SECRET, "RECEIVER_SINK": "null", "RECEIVER_LOG_LEVEL": "INFO"}
    )
    app: Any
    if app_name == "bare":
        from bench.receiver.bare import app
    else:
        from receiver.app import create_app
        from receiver.logs import configure_logging
        from receiver.settings import load_settings

        settings = load_settings(os.environ)
        configure_logging(settings.log_level)
        app = create_app(settings)
    requests = _requests(count, form)

    async def serve() -> None:
        config = uvicorn.Config(
            app,
            http=protocol_class(ConnectionLimits()) if app_name == "receiver" else "httptools",
            log_config=None,
            access_log=False,
            lifespan="off",
            ws="none",
            server_header=False,
            proxy_headers=False,
        )
        config.load()
        if app_name != "bare":
            await app.startup()
        transport = _Transport()
        protocol_type: Any = config.http_protocol_class
        protocol = protocol_type(
            config=config,
            server_state=ServerState(),
            app_state={},
            _loop=asyncio.get_running_loop(),
        )
        protocol.connection_made(transport)
        for request in requests:
            protocol.data_received(request)
            cycle = protocol.cycle
            while not cycle.response_complete:
                await asyncio.sleep(0)
        if transport.writes < count:
            raise SystemExit(f"only {transport.writes} writes for {count} requests")

    uvloop.run(serve())


def _instructions(args: argparse.Namespace, count: int, seed: int) -> int:
    with tempfile.TemporaryDirectory(prefix="callgrind-") as tmp:
        out = Path(tmp) / "callgrind.out"
        subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={out}",
                sys.executable,
                "-m",
                "bench.receiver.instructions",
                "--app",
                args.app,
                "--drive",
                str(count),
                "--form",
                args.form,
                *(["--code", str(args.code)] if args.code else []),
            ],
            check=True,
            cwd=REPO,
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        found = re.search(r"^(?:summary|totals): (\d+)", out.read_text(), re.MULTILINE)
        if found is None:
            raise SystemExit("no total in callgrind's output")
        return int(found.group(1))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.receiver.instructions")
    parser.add_argument("--app", choices=("receiver", "unguarded", "bare"), default="receiver")
    parser.add_argument("--form", choices=("path", "header"), default="path")
    parser.add_argument("--code", type=Path, default=None, help="import receiver from here")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--drive", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.code is not None:
        sys.path.insert(0, str(args.code.resolve()))
    if args.drive is not None:
        drive(args.app, args.drive, args.form)
        return 0
    counts = []
    for seed in range(1, args.seeds + 1):
        per_request = (_instructions(args, MANY, seed) - _instructions(args, FEW, seed)) // (
            MANY - FEW
        )
        counts.append(per_request)
        print(f"seed {seed}: {per_request:,} instructions per request", flush=True)
    print(f"median: {statistics.median(counts):,.0f} instructions per request")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
