"""infra/'s Pulumi program as an Automation API inline program.

The Python language host runs `infra/__main__.py` with infra/ first on `sys.path` (so the
program imports its siblings, `stack_config` and `local_receiver`, by their own names);
here the engine has no language host (tooling/engine.py), so this does the same in-process.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

INFRA = Path(__file__).resolve().parent.parent / "infra"


def run() -> None:
    """Run the program once: as `pulumi up` runs it, one resource graph per call."""
    if str(INFRA) not in sys.path:
        sys.path.insert(0, str(INFRA))
    runpy.run_path(str(INFRA / "__main__.py"), run_name="__pulumi_program__")
