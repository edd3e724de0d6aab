"""The container image, checked from its Dockerfile (no Docker engine here): it runs the same
entry point these tests start, as a non-root user, on $PORT, with every dependency pinned."""

from __future__ import annotations

import ast
import importlib.metadata
import json
import re
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.integration.receiver.conftest import RECEIVER_ARGV, REPO_ROOT

RECEIVER_DIR = REPO_ROOT / "receiver"
DEV_TOOLS = {"pytest", "pytest-timeout", "httpx", "ruff", "mypy", "types-requests", "starlette"}


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    logical: list[str] = []
    pending = ""
    for line in dockerfile.read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        logical.append(pending + stripped)
        pending = ""
    parsed = []
    for entry in logical:
        keyword, _, arguments = entry.partition(" ")
        parsed.append((keyword.upper(), arguments.strip()))
    return parsed


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    return instructions(RECEIVER_DIR / "Dockerfile")


def values(dockerfile: list[tuple[str, str]], keyword: str) -> list[str]:
    return [arguments for name, arguments in dockerfile if name == keyword]


def test_the_base_is_slim_python_3_11(dockerfile: list[tuple[str, str]]) -> None:
    [base] = values(dockerfile, "FROM")

    assert re.fullmatch(r"python:3\.11(\.\d+)?-slim(-\w+)?(@sha256:[0-9a-f]{64})?", base)


def test_it_runs_the_entry_point_the_tests_start(dockerfile: list[tuple[str, str]]) -> None:
    assert values(dockerfile, "ENTRYPOINT") == []
    [cmd] = values(dockerfile, "CMD")

    command = json.loads(cmd)  # exec form: signals reach Python directly, not a shell

    assert command == ["python", *RECEIVER_ARGV]


def test_it_runs_as_a_non_root_user(dockerfile: list[tuple[str, str]]) -> None:
    users = values(dockerfile, "USER")

    assert users
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    # The last USER is in force at run time; nothing after it may switch back.
    last_user = max(i for i, (name, _) in enumerate(dockerfile) if name == "USER")
    cmd = max(i for i, (name, _) in enumerate(dockerfile) if name == "CMD")
    assert last_user < cmd


def test_it_exposes_the_port_it_defaults_to(dockerfile: list[tuple[str, str]]) -> None:
    env = " ".join(values(dockerfile, "ENV"))
    [port] = re.findall(r"\bPORT=(\d+)", env)

    assert values(dockerfile, "EXPOSE") == [port]
    # The receiver reads PORT itself, so Cloud Run's value wins over this default.
    assert "PORT" not in " ".join(values(dockerfile, "CMD"))


def requirements() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (RECEIVER_DIR / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, separator, version = line.partition("==")
            assert separator, f"not pinned exactly: {line}"
            pins[canonicalize_name(name)] = version.strip()
    return pins


def test_every_requirement_is_pinned_to_the_version_tested_here() -> None:
    for name, version in requirements().items():
        assert importlib.metadata.version(name) == version, name


def test_no_dev_dependency_is_installed_in_the_image() -> None:
    assert not DEV_TOOLS & set(requirements())


def test_the_pins_are_complete_since_the_image_installs_without_dependencies() -> None:
    pins = set(requirements())
    for name in pins:
        for line in importlib.metadata.requires(name) or []:
            requirement = Requirement(line)
            # Extras are not installed, and the image's Python is this one's.
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                assert canonicalize_name(requirement.name) in pins, f"{name} needs {line}"


def test_every_package_the_receiver_imports_is_in_the_image() -> None:
    distributions = importlib.metadata.packages_distributions()
    pins = set(requirements())
    for source in RECEIVER_DIR.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top in sys.stdlib_module_names or top == "receiver":
                    continue
                provided_by = {d.lower() for d in distributions.get(top, [])}
                assert provided_by & pins, f"{source.name} imports {module}, not in the image"


def test_the_image_installs_every_pin_from_the_hashed_lock_file() -> None:
    dockerfile = (RECEIVER_DIR / "Dockerfile").read_text()
    assert "--require-hashes" in dockerfile
    assert "-r /app/requirements.lock" in dockerfile
    locked: dict[str, str] = {}
    text = (RECEIVER_DIR / "requirements.lock").read_text().replace("\\\n", " ")
    for line in text.splitlines():
        line = line.split("#")[0].strip()
        if line:
            pin, *hashes = line.split()
            name, _, version = pin.partition("==")
            assert hashes, pin
            assert all(re.fullmatch(r"--hash=sha256:[0-9a-f]{64}", h) for h in hashes), pin
            locked[canonicalize_name(name)] = version
    assert locked == requirements()
