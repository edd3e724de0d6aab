"""The plain Pulumi CLI finds one virtualenv from the project root and from the program folder.

The language host resolves Pulumi.yaml's `virtualenv` against the project root; the engine
starts the dynamic-provider plugin (`pulumi-resource-pulumi-python`) in the program folder
that `main` names, and the plugin resolves the same option against *that* folder
(pulumi/pulumi#7061). Every other test runs inline programs with PULUMI_PYTHON_CMD set,
which bypasses both readings: these start the real plugin script as the engine does.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.waiting import wait_until

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
PROJECT = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
OPTIONS = PROJECT["runtime"]["options"]
PROGRAM_DIR = ROOT / PROJECT.get("main", ".")


def plugin_env() -> dict[str, str]:
    """What the engine gives the plugin: the runtime options as PULUMI_RUNTIME_*, and no
    PULUMI_PYTHON_CMD (a user's shell has none)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PULUMI_PYTHON_CMD", "VIRTUAL_ENV")}
    env["PULUMI_RUNTIME_VIRTUALENV"] = OPTIONS["virtualenv"]
    env["PULUMI_RUNTIME_TOOLCHAIN"] = OPTIONS["toolchain"]
    return env


def test_the_dynamic_provider_plugin_starts_from_the_program_folder(
    engine_bin: Path, tmp_path: Path
) -> None:
    stderr = tmp_path / "plugin.stderr"
    with stderr.open("wb") as errors:
        # A session of its own: the script starts the interpreter as a child, which must
        # go with it (killing the script alone left it serving, adopted by init).
        plugin = subprocess.Popen(
            [str(engine_bin / "pulumi-resource-pulumi-python")],
            cwd=PROGRAM_DIR,
            env=plugin_env(),
            stdout=subprocess.PIPE,
            stderr=errors,
            start_new_session=True,
        )
        try:
            assert plugin.stdout is not None
            port = plugin.stdout.readline().decode().strip()  # the plugin's handshake
        finally:
            os.killpg(plugin.pid, signal.SIGKILL)
            plugin.wait(timeout=10)
            wait_until(lambda: not in_session(plugin.pid), 10, "the plugin's processes gone")
    assert port.isdigit(), f"the plugin did not start: {stderr.read_text()[-2000:]}"


def in_session(session: int) -> list[int]:
    """The live (not zombie) processes of a session, from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # gone meanwhile
        state, sid = fields[0], int(fields[3])
        if sid == session and state != "Z":
            found.append(int(stat.parent.name))
    return found


def test_the_language_host_and_the_plugin_name_the_same_interpreter() -> None:
    # The language host: root-relative. The plugin: relative to the program folder.
    host = ROOT / OPTIONS["virtualenv"] / "bin" / "python"
    plugin = PROGRAM_DIR / OPTIONS["virtualenv"] / "bin" / "python"
    assert host.is_file(), f"no venv at {host.parent.parent}: run `make venv`"
    assert plugin.resolve() == host.resolve()


def test_the_link_is_relative_so_any_clone_resolves_it() -> None:
    link = PROGRAM_DIR / OPTIONS["virtualenv"]
    assert link.is_symlink()
    assert not Path(os.readlink(link)).is_absolute()


def test_pulumi_install_resolves_the_program_s_requirements_from_the_program_folder(
    tmp_path: Path,
) -> None:
    # toolchain pip runs `pip install -r requirements.txt` in the program folder; a dry run
    # resolves the same and installs nothing.
    assert OPTIONS["toolchain"] == "pip"
    report = tmp_path / "report.json"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--dry-run",
            "--ignore-installed",
            "--quiet",
            "--report",
            str(report),
            "-r",
            "requirements.txt",
        ],
        cwd=PROGRAM_DIR,
        check=True,
        timeout=300,
    )
    installed = {
        item["metadata"]["name"]: item for item in json.loads(report.read_text())["install"]
    }
    library = installed["texter-webhooks"]
    assert library["download_info"]["url"] == ROOT.as_uri()
    assert library["download_info"]["dir_info"].get("editable") is True
    pins = dict(
        line.split("==")
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    )
    for name, version in pins.items():
        assert installed[name]["metadata"]["version"] == version
