"""`make bench`: every benchmark, one after the other (each has its own command too)."""

from __future__ import annotations

import sys

from bench.lifecycle.__main__ import main as lifecycle
from bench.receiver.__main__ import main as receiver


def main() -> int:
    print("== bench.lifecycle ==", flush=True)
    lifecycle([])
    print("\n== bench.receiver ==", flush=True)
    return receiver([]) or 0


if __name__ == "__main__":
    sys.exit(main())
