"""Medians per variant, ratios to the bare baseline, the goals, as a table and as JSON."""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class Run:
    variant: str
    round: int
    rps: float
    p50_ms: float
    p99_ms: float
    cold_start_ms: float
    rss_mb: float
    errors: int
    cpu_us_per_request: float


@dataclass(frozen=True)
class Summary:
    variant: str
    rps: float
    p50_ms: float
    p99_ms: float
    cold_start_ms: float
    rss_mb: float
    errors: int
    cpu_us_per_request: float


# (variant, metric, limit, higher is better) relative to bare, measured in the same run.
GOALS = (
    ("receiver-null", "rps", 0.6, True),
    ("receiver-null", "p99_ms", 2.0, False),
    ("receiver-file", "rps", 0.45, True),
    ("receiver-null", "cold_start_ms", 1.3, False),
    ("receiver-file", "cold_start_ms", 1.3, False),
)
# Absolute: the server's CPU time per request (user + system), in microseconds.
CPU_LIMITS_US = {"receiver-null": 45.0}
RSS_LIMIT_MB = 80.0


def summarise(runs: list[Run]) -> dict[str, Summary]:
    summaries: dict[str, Summary] = {}
    for name in dict.fromkeys(run.variant for run in runs):
        mine = [run for run in runs if run.variant == name]
        summaries[name] = Summary(
            variant=name,
            rps=statistics.median(run.rps for run in mine),
            p50_ms=statistics.median(run.p50_ms for run in mine),
            p99_ms=statistics.median(run.p99_ms for run in mine),
            cold_start_ms=statistics.median(run.cold_start_ms for run in mine),
            rss_mb=max(run.rss_mb for run in mine),
            errors=sum(run.errors for run in mine),
            cpu_us_per_request=statistics.median(run.cpu_us_per_request for run in mine),
        )
    return summaries


def goals(summaries: dict[str, Summary]) -> list[dict[str, object]]:
    results: list[dict[str, object]] = []
    bare = summaries.get("bare")
    if bare is not None:
        for name, metric, limit, higher in GOALS:
            if name not in summaries:
                continue
            ratio = getattr(summaries[name], metric) / getattr(bare, metric)
            met = ratio >= limit if higher else ratio <= limit
            bound = ">=" if higher else "<="
            results.append(
                {"goal": f"{name} {metric} {bound} {limit}x bare", "ratio": ratio, "met": met}
            )
    for name, limit_us in CPU_LIMITS_US.items():
        if name in summaries:
            cpu = summaries[name].cpu_us_per_request
            results.append(
                {
                    "goal": f"{name} cpu_us_per_request <= {limit_us:g}",
                    "ratio": cpu,
                    "met": cpu <= limit_us,
                }
            )
    for summary in summaries.values():
        if summary.variant != "bare":
            results.append(
                {
                    "goal": f"{summary.variant} rss_mb <= {RSS_LIMIT_MB}",
                    "ratio": summary.rss_mb,
                    "met": summary.rss_mb <= RSS_LIMIT_MB,
                }
            )
    return results


def table(summaries: dict[str, Summary], checked: list[dict[str, object]]) -> str:
    bare = summaries.get("bare")
    width = max([16, *(len(name) + 2 for name in summaries)])
    lines = [
        f"{'variant':<{width}}{'req/s':>10}{'x bare':>8}{'CPU us/req':>11}{'p50 ms':>9}"
        f"{'p99 ms':>9}{'x bare':>8}{'cold ms':>9}{'x bare':>8}{'RSS MB':>8}{'errors':>8}"
    ]
    for s in summaries.values():

        def ratio(metric: str, s: Summary = s) -> str:
            return f"{getattr(s, metric) / getattr(bare, metric):.2f}" if bare else "-"

        lines.append(
            f"{s.variant:<{width}}{s.rps:>10.0f}{ratio('rps'):>8}{s.cpu_us_per_request:>11.1f}"
            f"{s.p50_ms:>9.2f}{s.p99_ms:>9.2f}{ratio('p99_ms'):>8}{s.cold_start_ms:>9.0f}"
            f"{ratio('cold_start_ms'):>8}{s.rss_mb:>8.1f}{s.errors:>8}"
        )
    lines.append("")
    for goal in checked:
        mark = "met" if goal["met"] else "MISSED"
        lines.append(f"  {mark:<7}{goal['goal']} (got {goal['ratio']:.2f})")
    return "\n".join(lines)


def write_json(
    path: Path,
    settings: dict[str, object],
    runs: list[Run],
    summaries: dict[str, Summary],
    checked: list[dict[str, object]],
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {
                "settings": settings,
                "medians": {name: asdict(s) for name, s in summaries.items()},
                "goals": checked,
                "runs": [asdict(run) for run in runs],
            },
            indent=2,
        )
        + "\n"
    )
