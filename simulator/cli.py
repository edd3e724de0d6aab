"""``python -m simulator``: run the simulator until SIGTERM or SIGINT.

Stdout carries only what a launcher parses: the generated token (only when no ``--token`` was
given) and then exactly one ``simulator listening on <base URL>`` line. Everything else
(one line per request, errors) goes to stderr, and never contains a token.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from simulator.config import SimulatorConfig, tokens_from_specs
from simulator.persistence import StateFileError
from simulator.server import SimulatorServer


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m simulator", description="Texter scenario API simulator"
    )
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port; 0 picks a free one (default)")
    parser.add_argument("--state", type=Path, help="JSON state file (default: in memory)")
    parser.add_argument(
        "--token",
        action="append",
        default=[],
        metavar="VALUE[:scope,scope]",
        help="accepted token, with every scope or only those listed (short or UI names); "
        "repeatable. Without any, one is generated and printed.",
    )
    parser.add_argument("--latency-ms", type=int, default=0, help="added to every API request")
    parser.add_argument(
        "--idempotent-toggles",
        action="store_true",
        help="activate when active / inactivate when inactive answer 200 instead of 409",
    )
    parser.add_argument(
        "--lenient-import",
        action="store_true",
        help="ignore unknown fields in request bodies instead of answering 400",
    )
    parser.add_argument(
        "--lenient-query",
        action="store_true",
        help="ignore unknown query parameters instead of answering 400",
    )
    parser.add_argument(
        "--malformed-id-404",
        action="store_true",
        help="answer 404 instead of 400 for a scenario id that is not a 24-hex ObjectId",
    )
    parser.add_argument(
        "--plain-ok-replies",
        action="store_true",
        help="activate, inactivate, delete and delete_revision answer 200 with the "
        "text/plain body OK",
    )
    parser.add_argument(
        "--route",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="serve route NAME at PATH (relative to /server/api/v2, {id} for the scenario "
        "id, {version} for delete_revision's version), e.g. "
        "inactivate=/scenarios/manage/{id}/pause; repeatable",
    )
    parser.add_argument(
        "--fire-timeout", type=float, default=10.0, help="seconds per webhook POST (default 10)"
    )
    parser.add_argument(
        "--no-action-output",
        action="store_true",
        help="runs leave out the action steps' output (Texter records it only sometimes)",
    )
    parser.add_argument("--quiet", action="store_true", help="no per-request lines on stderr")
    return parser


def config_from_args(args: argparse.Namespace) -> SimulatorConfig:
    return SimulatorConfig(
        tokens=tokens_from_specs(args.token),
        latency_ms=args.latency_ms,
        idempotent_toggles=args.idempotent_toggles,
        lenient_import=args.lenient_import,
        lenient_query=args.lenient_query,
        malformed_id_status=404 if args.malformed_id_404 else 400,
        state_path=args.state,
        fire_timeout_s=args.fire_timeout,
        record_action_output=not args.no_action_output,
        log_requests=not args.quiet,
        plain_ok_replies=args.plain_ok_replies,
        route_paths=route_paths_from_specs(args.route) or None,
    )


def route_paths_from_specs(specs: list[str]) -> dict[str, str]:
    """``NAME=PATH`` options as a mapping; the names and paths are checked by the config."""
    paths: dict[str, str] = {}
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep or not name:
            raise ValueError(f"--route takes NAME=PATH, got {spec!r}")
        if name in paths:
            raise ValueError(f"--route {name} was given twice")
        paths[name] = path
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = config_from_args(args)
    except ValueError as exc:
        parser.error(str(exc))
    server = SimulatorServer(config, host=args.host, port=args.port)
    try:
        server.start()
    except (StateFileError, OSError) as exc:
        print(f"simulator: cannot start: {exc}", file=sys.stderr)
        return 1

    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    if server.generated_token is not None:
        print(f"simulator token: {server.generated_token}", flush=True)
    print(f"simulator listening on {server.base_url}", flush=True)
    # A timed wait keeps the main thread returning to the interpreter, where signals run.
    while not stop.wait(0.5):
        pass
    server.stop()
    print("simulator stopped", file=sys.stderr, flush=True)
    return 0
