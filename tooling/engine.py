"""Run the Pulumi CLI that scripts/bootstrap-pulumi provided, with an offline environment.

Used by the local stack runner, the end-to-end tests and the benchmarks, so that each runs
the engine exactly as a user would from a shell.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
BIN_RECORD = REPO_ROOT / ".tools" / "pulumi-bin"

# Nothing the engine does may reach for the internet: no update check, no plugin download.
OFFLINE_ENV = {
    "PULUMI_SKIP_UPDATE_CHECK": "true",
    "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
    "PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK": "true",
    "PULUMI_SUPPRESS_COPILOT_LINK": "true",
    "PULUMI_DIY_BACKEND_NO_LEGACY_WARNING": "true",
    "PULUMI_DEBUG_PROMISE_LEAKS": "false",
}


class EngineMissingError(RuntimeError):
    """The engine has not been bootstrapped."""


def engine_bin_dir() -> Path:
    """The directory holding `pulumi` and its Python language host."""
    try:
        recorded = Path(BIN_RECORD.read_text().strip())
    except FileNotFoundError:
        raise EngineMissingError(
            f"{BIN_RECORD.relative_to(REPO_ROOT)} is missing: run `make tools` first"
        ) from None
    if not (recorded / "pulumi").is_file():
        raise EngineMissingError(f"no pulumi binary in {recorded}: run `make tools` again")
    return recorded


class PulumiCommandError(RuntimeError):
    def __init__(self, args: Sequence[str], result: subprocess.CompletedProcess[str]) -> None:
        tail = (result.stderr or result.stdout or "").strip()[-4000:]
        super().__init__(f"`pulumi {' '.join(args)}` exited {result.returncode}:\n{tail}")
        self.result = result


@dataclass
class PulumiCLI:
    """A Pulumi CLI bound to one backend, one PULUMI_HOME and one project directory."""

    cwd: Path
    backend_url: str
    home: Path
    env: Mapping[str, str] = field(default_factory=dict)

    def environ(self) -> dict[str, str]:
        bin_dir = engine_bin_dir()
        venv_bin = REPO_ROOT / ".venv" / "bin"
        environ = {
            **os.environ,
            **OFFLINE_ENV,
            "PATH": os.pathsep.join([str(bin_dir), str(venv_bin), os.environ.get("PATH", "")]),
            "PULUMI_HOME": str(self.home),
            "PULUMI_BACKEND_URL": self.backend_url,
            **self.env,
        }
        return environ

    def run(
        self, *args: str, check: bool = True, timeout: float = 600, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(  # noqa: S603 - the binary is the bootstrapped engine
            [str(engine_bin_dir() / "pulumi"), *args, "--non-interactive"],
            cwd=self.cwd,
            env=self.environ(),
            capture_output=True,
            text=True,
            timeout=timeout,
            input=stdin,
            check=False,
        )
        if check and result.returncode != 0:
            raise PulumiCommandError(args, result)
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "--json").stdout)

    def outputs(self, stack: str, *, show_secrets: bool = False) -> dict[str, Any]:
        extra = ["--show-secrets"] if show_secrets else []
        result: dict[str, Any] = self.json("stack", "output", "--stack", stack, *extra)
        return result
