"""Entry point for `pulumi up` (Pulumi.yaml: `main: infra/`).

The language host puts this folder on `sys.path`, not the repository root, and the
program's modules are the `infra` package (tests and tooling import them by that name),
so the root goes first on the path.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from infra.program import main

main()
