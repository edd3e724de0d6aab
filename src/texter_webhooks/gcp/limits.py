"""Cloud Run's documented limits on CPU, memory and concurrency, checked at preview.

Cloud Run refuses a revision outside these only when it is deployed, half-way through a
`pulumi up`; checking them here fails the preview instead, naming the setting. Source:
Cloud Run's "Configure CPU limits" and "Configure memory limits" pages (services),
https://cloud.google.com/run/docs/configuring/services/cpu and .../memory-limits.
Memory units are Kubernetes quantities: `G` is 10^9 bytes, `Gi` 2^30.
"""

from __future__ import annotations

import re

# Whole CPUs Cloud Run offers, and the memory each allows (MiB, inclusive).
MEMORY_MIB_BY_CPU: dict[int, tuple[int, int]] = {
    1: (128, 4 * 1024),
    2: (128, 8 * 1024),
    4: (2 * 1024, 16 * 1024),
    6: (4 * 1024, 24 * 1024),
    8: (4 * 1024, 32 * 1024),
}
MIN_CPU = 0.08
# Below one CPU, the CPU is set in thousandths.
FRACTIONAL_CPU_STEP = 0.001
# Below one CPU: more than 512 MiB needs half a CPU, more than 1 GiB a whole one.
FRACTIONAL_MEMORY_STEPS = ((0.5, 512), (1.0, 1024))
# The second-generation environment needs at least this much memory; the first, 128 MiB.
GEN2_MIN_MEMORY_MIB = 512
FIRST_GENERATION = "EXECUTION_ENVIRONMENT_GEN1"

_CPU = re.compile(r"([0-9]+(?:\.[0-9]+)?)(m?)")
_MEMORY = re.compile(r"([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?")
_MIB_PER_UNIT = {
    None: 1 / (1024 * 1024),  # bytes
    "Ki": 1 / 1024,
    "Mi": 1.0,
    "Gi": 1024.0,
    "Ti": 1024.0 * 1024,
    "k": 1000 / (1024 * 1024),
    "M": 1000**2 / 1024**2,
    "G": 1000**3 / 1024**2,
    "T": 1000**4 / 1024**2,
}


def cpu_count(raw: str) -> float | None:
    """`1`, `2`, `0.5` or `500m` as CPUs; None when it is not a CPU quantity."""
    found = _CPU.fullmatch(raw.strip())
    if found is None:
        return None
    value = float(found.group(1))
    return value / 1000 if found.group(2) else value


def memory_mib(raw: str) -> float | None:
    """`512Mi`, `1Gi`, `2G` or bytes as MiB; None when it is not a memory quantity."""
    found = _MEMORY.fullmatch(raw.strip())
    if found is None:
        return None
    return float(found.group(1)) * _MIB_PER_UNIT[found.group(2)]


def execution_environment(cpu: str, memory: str) -> str | None:
    """FIRST_GENERATION when the sizing only runs there: less than one CPU, or less memory
    than the second generation's minimum. None leaves the choice to Cloud Run, which may
    pick either generation for a service that names none. `cpu` and `memory` are valid."""
    cpus, mib = cpu_count(cpu), memory_mib(memory)
    if cpus is None or mib is None:
        return None
    return FIRST_GENERATION if cpus < 1 or mib < GEN2_MIN_MEMORY_MIB else None


def problems(cpu: str, memory: str, concurrency: int) -> list[tuple[str, str]]:
    """What Cloud Run would refuse, as (setting, why) pairs: `cpu`, `memory`, `concurrency`."""
    cpus, mib = cpu_count(cpu), memory_mib(memory)
    if cpus is None:
        return [("cpu", f"must be a CPU limit such as 1, 2 or 500m, got {cpu!r}")]
    if mib is None:
        return [("memory", f"must be a memory limit such as 512Mi or 2Gi, got {memory!r}")]
    if cpus < MIN_CPU or cpus > max(MEMORY_MIB_BY_CPU):
        return [("cpu", f"must be between {MIN_CPU:g} and {max(MEMORY_MIB_BY_CPU)}, got {cpu}")]
    if cpus < 1:
        return _fractional(cpu, cpus, memory, mib, concurrency)
    if cpus not in MEMORY_MIB_BY_CPU:
        whole = ", ".join(str(c) for c in MEMORY_MIB_BY_CPU)
        return [("cpu", f"must be one of {whole} (or below 1), got {cpu}")]
    low, high = MEMORY_MIB_BY_CPU[int(cpus)]
    if not low <= mib <= high:
        return [
            (
                "memory",
                f"with cpu {cpu} must be between {_size(low)} and {_size(high)}, got {memory}",
            )
        ]
    return []


def _fractional(
    cpu: str, cpus: float, memory: str, mib: float, concurrency: int
) -> list[tuple[str, str]]:
    found = []
    steps = cpus / FRACTIONAL_CPU_STEP
    if abs(steps - round(steps)) > 1e-6:
        found.append(("cpu", f"below 1 goes in steps of {FRACTIONAL_CPU_STEP:g}, got {cpu}"))
    if concurrency != 1:
        found.append(
            ("concurrency", f"must be 1 when cpu is below 1 (cpu {cpu}), got {concurrency}")
        )
    if mib < min(low for low, _ in MEMORY_MIB_BY_CPU.values()):
        found.append(("memory", f"must be at least 128Mi, got {memory}"))
    for needed_cpu, above_mib in FRACTIONAL_MEMORY_STEPS:
        if mib > above_mib and cpus < needed_cpu:
            found.append(
                (
                    "memory",
                    f"above {_size(above_mib)} needs cpu {needed_cpu:g} or more "
                    f"(cpu {cpu}), got {memory}",
                )
            )
            break
    return found


def _size(mib: int) -> str:
    return f"{mib // 1024}Gi" if mib % 1024 == 0 else f"{mib}Mi"
