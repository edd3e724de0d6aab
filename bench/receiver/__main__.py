"""`python -m bench.receiver [--quick]`: the receiver against a bare ASGI app on the same server.

The servers run pinned to core 0 and wrk to core 1, on 127.0.0.1, bounded in time. Variants
run interleaved, one round after another, so drift in the machine hits them alike; the figures
are medians over the rounds.

Variants: bare (the baseline), receiver-null and receiver-file (the goals), and, by name with
--variants, receiver-null-header (receiver-null with the secret in an `Authorization: Bearer`
header on POST /hooks rather than in the path) and the exploratory ones: bare-starlette
priced the framework; receiver-null-verbose (a log line for every request,
RECEIVER_LOG_LEVEL=DEBUG), receiver-null-nodedup (no deduplication) and
receiver-null-unguarded (no connection limits) price those features.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from bench.receiver.payload import write_wrk_script
from bench.receiver.process import Server
from bench.receiver.report import Run, goals, summarise, table, write_json
from bench.receiver.variants import Variant, variants
from bench.receiver.wrk import require_wrk, run_wrk

SERVER_CORE = 0
LOAD_CORE = 1
RESULTS_DIR = Path(__file__).resolve().parent.parent / "results"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.receiver", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="runs of 2 s: a smoke run")
    parser.add_argument("--seconds", type=int, default=10, help="length of one load run")
    parser.add_argument("--warmup", type=int, default=2, help="load before each measured run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--variants", default="bare,receiver-null,receiver-file", help="comma-separated"
    )
    parser.add_argument("--output", type=Path, default=None, help="the JSON report's path")
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.warmup = 2, 1
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    require_wrk()
    if len(os.sched_getaffinity(0)) < 2 and os.cpu_count() in (None, 1):
        raise SystemExit("needs two cores: one for the server, one for wrk")
    # The orchestrator itself stays off the server's core.
    os.sched_setaffinity(0, {LOAD_CORE})
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="bench-receiver-") as tmp:
        work_dir = Path(tmp)
        known = variants(work_dir)
        chosen = [known[name] for name in args.variants.split(",")]
        scripts = {variant.name: _load_script(variant, work_dir) for variant in chosen}
        for round_number in range(1, args.rounds + 1):
            for variant in chosen:
                server = Server(variant, SERVER_CORE, work_dir / f"{variant.name}.log")
                script = scripts[variant.name]
                try:
                    url = f"http://127.0.0.1:{server.port}"
                    if args.warmup > 0:
                        run_wrk(
                            url=url,
                            script=script,
                            seconds=args.warmup,
                            connections=args.connections,
                            core=LOAD_CORE,
                        )
                    cpu_before = server.cpu_seconds()
                    load = run_wrk(
                        url=url,
                        script=script,
                        seconds=args.seconds,
                        connections=args.connections,
                        core=LOAD_CORE,
                    )
                    cpu = server.cpu_seconds() - cpu_before
                    rss = server.peak_rss_mb()
                finally:
                    server.stop()
                run = Run(
                    variant=variant.name,
                    round=round_number,
                    rps=load.rps,
                    p50_ms=load.p50_ms,
                    p99_ms=load.p99_ms,
                    cold_start_ms=server.cold_start_seconds * 1000,
                    rss_mb=rss,
                    errors=load.errors,
                    cpu_us_per_request=cpu / max(load.requests, 1) * 1e6,
                )
                runs.append(run)
                print(
                    f"round {round_number} {variant.name:<24} {run.rps:8.0f} req/s  "
                    f"cpu {run.cpu_us_per_request:5.1f} us/req  "
                    f"p50 {run.p50_ms:6.2f} ms  p99 {run.p99_ms:6.2f} ms  "
                    f"cold {run.cold_start_ms:5.0f} ms  rss {run.rss_mb:5.1f} MB  "
                    f"errors {run.errors}",
                    flush=True,
                )
    summaries = summarise(runs)
    checked = goals(summaries)
    print()
    print(table(summaries, checked))
    output = args.output or RESULTS_DIR / f"receiver-{time.strftime('%Y%m%dT%H%M%S')}.json"
    settings = {
        "seconds": args.seconds,
        "warmup": args.warmup,
        "rounds": args.rounds,
        "connections": args.connections,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    write_json(output, settings, runs, summaries, checked)
    print(f"\nwritten {output}")
    return 0


def _load_script(variant: Variant, work_dir: Path) -> Path:
    """The wrk script posting to `variant`'s hook, with its headers."""
    script = work_dir / f"load-{variant.name}.lua"
    write_wrk_script(script, variant.hook_path, variant.headers)
    return script


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
