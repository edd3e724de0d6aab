"""Drive the Pulumi engine that scripts/bootstrap-pulumi provided, offline.

The CLI is the real one built from the Go module proxy. The Python language host is not
served by that proxy, so programs run as Automation API inline programs: the CLI is
started with `--client`, and the pulumi SDK in this process serves the language runtime.
Everything else (diff, preview output, state, dynamic providers, secrets) is the engine's
own. Commands that run no program (`stack init`, `config`, `stack export`, ...) go straight
to the CLI, exactly as a user would type them.

Used by the local stack runner, the end-to-end tests and the benchmarks.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pulumi import automation as auto

REPO_ROOT = Path(__file__).resolve().parent.parent
BIN_RECORD = REPO_ROOT / ".tools" / "pulumi-bin"

# Nothing the engine does may reach for the internet: no update check, no plugin download.
OFFLINE_ENV = {
    "PULUMI_SKIP_UPDATE_CHECK": "true",
    "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
    "PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK": "true",
    "PULUMI_DIY_BACKEND_NO_LEGACY_WARNING": "true",
}


class EngineMissingError(RuntimeError):
    """The engine has not been bootstrapped."""


class PulumiCommandError(RuntimeError):
    """A CLI command failed; the message carries its exit code and the tail of its output."""

    def __init__(self, args: tuple[str, ...], result: subprocess.CompletedProcess[str]) -> None:
        tail = (result.stderr.strip() or result.stdout.strip())[-4000:]
        super().__init__(f"`pulumi {' '.join(args)}` exited {result.returncode}:\n{tail}")
        self.result = result


def write_project_file(work_dir: Path, *, config_schema: bool = True) -> None:
    """Pulumi.yaml of this project, for a work directory outside the repository: `main`
    made absolute (the CLI checks that it exists even for an inline program). Without
    `config_schema` for programs other than infra/'s (the tests' own), which read none of
    its keys and must not need its required ones."""
    project = yaml.safe_load((REPO_ROOT / "Pulumi.yaml").read_text())
    if not config_schema:
        project.pop("config", None)
    project["main"] = str(REPO_ROOT / project.get("main", "."))
    project["runtime"]["options"]["virtualenv"] = str(REPO_ROOT / ".venv")
    work_dir.mkdir(parents=True, exist_ok=True)
    (work_dir / "Pulumi.yaml").write_text(yaml.safe_dump(project, sort_keys=False))


def engine_bin_dir() -> Path:
    """The directory holding the `pulumi` CLI and the scripts shipped beside it."""
    try:
        recorded = Path(BIN_RECORD.read_text().strip())
    except FileNotFoundError:
        raise EngineMissingError(
            ".tools/pulumi-bin is missing: run `make tools` to provide the Pulumi engine"
        ) from None
    if not (recorded / "pulumi").is_file():
        raise EngineMissingError(f"no pulumi binary in {recorded}: run `make tools` again")
    return recorded


@dataclass
class Engine:
    """One backend, one PULUMI_HOME and one project directory, as a user's shell would have."""

    work_dir: Path
    backend_url: str
    home: Path
    passphrase_file: Path | None = None
    extra_env: Mapping[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        """The variables every engine process gets (CLI, dynamic providers)."""
        bin_dir = engine_bin_dir()
        python_bin = Path(sys.executable).parent
        env = {
            **OFFLINE_ENV,
            "PULUMI_HOME": str(self.home),
            "PULUMI_BACKEND_URL": self.backend_url,
            # Dynamic providers start as `pulumi-resource-pulumi-python`, which runs this
            # interpreter: the one with the project installed.
            "PULUMI_PYTHON_CMD": sys.executable,
            "PATH": os.pathsep.join([str(bin_dir), str(python_bin), os.environ.get("PATH", "")]),
            **self.extra_env,
        }
        if self.passphrase_file is not None:
            env["PULUMI_CONFIG_PASSPHRASE_FILE"] = str(self.passphrase_file)
        return env

    def cli(
        self, *args: str, check: bool = True, timeout: float = 600
    ) -> subprocess.CompletedProcess[str]:
        """Run one CLI command that needs no program."""
        result = subprocess.run(  # noqa: S603 - the bootstrapped engine, fixed arguments
            [str(engine_bin_dir() / "pulumi"), *args, "--non-interactive"],
            cwd=self.work_dir,
            env={**os.environ, **self.env()},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            raise PulumiCommandError(args, result)
        return result

    def cli_json(self, *args: str) -> Any:
        return json.loads(self.cli(*args, "--json").stdout)

    def stack(self, name: str, program: Callable[[], None]) -> auto.Stack:
        """Select (or create) a stack of the project in work_dir, run by `program` inline."""
        project = yaml.safe_load((self.work_dir / "Pulumi.yaml").read_text())["name"]
        opts = auto.LocalWorkspaceOptions(
            work_dir=str(self.work_dir),
            pulumi_home=str(self.home),
            env_vars=self.env(),
            pulumi_command=auto.PulumiCommand(
                root=str(engine_bin_dir().parent), skip_version_check=True
            ),
        )
        return auto.create_or_select_stack(
            name, project_name=project, program=in_a_fresh_pickler(program), opts=opts
        )


# The CLI runs each program in a process of its own; inline programs all run in this one.
# pulumi.dynamic's serialize_provider wraps pickle._Pickler's `_batch_setitems` and
# `save_dict` in one more sorting wrapper on every call and never restores them, so in one
# long process the chain deepens with every dynamic resource ever serialized, until one
# fails with RecursionError (a test session, a benchmark). Each inline program starts with
# the pickler of a fresh process.
_PRISTINE_PICKLER = {name: vars(pickle._Pickler)[name] for name in ("_batch_setitems", "save_dict")}


def fresh_pickler() -> None:
    for name, method in _PRISTINE_PICKLER.items():
        setattr(pickle._Pickler, name, method)


def in_a_fresh_pickler(program: Callable[[], None]) -> Callable[[], None]:
    def run() -> None:
        fresh_pickler()
        program()

    return run
