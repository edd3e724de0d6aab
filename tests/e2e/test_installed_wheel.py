"""The built wheel, installed into a fresh virtualenv outside the repository, is all a user
of the library needs: the README's own-program example runs from it against the simulator.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import venv
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from simulator.server import SimulatorServer
from tests.conftest import TEXTER_TOKEN
from texter_webhooks.texter.scenario import scenario_status

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "own-program" / "__main__.py"
DRIVER = Path(__file__).parent / "own_program" / "driver.py"
REPO_ONLY = ("infra", "receiver", "simulator", "tooling", "tests", "bench")
WEBHOOK_URL = "https://hooks.example.com/texter"
WEBHOOK_TOKEN = "s3cr3t-token-" + "0123456789"


@dataclass
class Installed:
    wheel: Path
    python: Path
    outside: Path  # a folder outside the repository, the user's project


def run(
    argv: list[str], cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        argv, cwd=cwd, capture_output=True, text=True, timeout=600, check=False, env=env
    )
    assert result.returncode == 0, f"{argv[:4]} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    base = tmp_path_factory.mktemp("user")
    dist = base / "dist"
    run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(ROOT)], base)
    (wheel,) = dist.glob("texter_webhooks-*.whl")
    env_dir = base / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    # The repository's own pins, so the SDK matches the bootstrapped engine.
    run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            "-c",
            str(ROOT / "constraints.txt"),
            str(wheel),
        ],
        base,
    )
    outside = base / "project"
    outside.mkdir()
    yield Installed(wheel, python, outside)
    shutil.rmtree(base, ignore_errors=True)


def test_the_wheel_holds_the_library_only_with_ranges_not_pins(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as wheel:
        names = wheel.namelist()
        (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        requires = [
            line.removeprefix("Requires-Dist: ")
            for line in wheel.read(metadata).decode().splitlines()
            if line.startswith("Requires-Dist: ")
        ]
    top_level = {name.split("/")[0] for name in names}
    assert {t for t in top_level if not t.endswith(".dist-info")} == {"texter_webhooks"}
    assert "texter_webhooks/texter/events/chatAssigned.json" in names
    assert "texter_webhooks/py.typed" in names
    by_name = {re.split(r"[<>=!~; ]", r, maxsplit=1)[0].lower(): r for r in requires}
    assert {"pulumi", "pulumi-gcp"} <= set(by_name)
    assert "dill" not in by_name
    for requirement in by_name.values():
        assert "==" not in requirement, requirement
    assert re.search(r"<4\b", by_name["pulumi"])


def test_from_another_folder_the_two_imports_work_and_nothing_repo_only_is_there(
    installed: Installed,
) -> None:
    probe = (
        "import importlib.util, json\n"
        "from texter_webhooks import TexterSubscription, TexterSubscriptionArgs\n"
        "from texter_webhooks.gcp import ReceiverService, ReceiverServiceArgs\n"
        "import texter_webhooks\n"
        f"print(json.dumps({{'at': texter_webhooks.__file__, 'repo_only': "
        f"[n for n in {REPO_ONLY!r} if importlib.util.find_spec(n)]}}))\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    result = run([str(installed.python), "-c", probe], installed.outside, env=env)
    found = json.loads(result.stdout)
    assert found["repo_only"] == []
    assert Path(found["at"]).is_relative_to(installed.python.parent.parent)


def test_the_readme_s_own_program_runs_from_the_installed_wheel(
    installed: Installed, texter_sim: SimulatorServer, engine_bin: Path
) -> None:
    program = installed.outside / "__main__.py"
    shutil.copy(EXAMPLE, program)
    driver = installed.outside / "driver.py"
    shutil.copy(DRIVER, driver)
    work_dir = installed.outside / "stack"
    work_dir.mkdir()
    (work_dir / "Pulumi.yaml").write_text("name: my-program\nruntime: python\n")
    backend = installed.outside / "backend"
    backend.mkdir()
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")},
        "PULUMI_BACKEND_URL": backend.as_uri(),
        "PULUMI_HOME": str(installed.outside / "pulumi-home"),
        "PULUMI_CONFIG_PASSPHRASE": "own-program-test",
        "TEXTER_BASE_URL": texter_sim.base_url,
        "TEXTER_TOKEN": TEXTER_TOKEN,
        "WEBHOOK_URL": WEBHOOK_URL,
        "WEBHOOK_TOKEN": WEBHOOK_TOKEN,
    }

    def operate(operation: str) -> dict[str, str]:
        argv = [str(installed.python), str(driver), operation, str(program), str(work_dir)]
        result = run([*argv, str(engine_bin)], installed.outside, env=env)
        return json.loads(result.stdout.strip().splitlines()[-1])

    outputs = operate("up")
    live = {s["_id"]: scenario_status(s) for s in texter_sim.scenarios()}
    assert live == {outputs["assignedId"]: "active", outputs["resolvedId"]: "active"}
    state = "".join(p.read_text() for p in backend.rglob("*.json"))
    assert WEBHOOK_TOKEN not in state
    # The token travels as the request actions' bearer header, the URL plain.
    [action] = next(iter(texter_sim.scenarios()))["activeRevision"]["actions"]
    assert action["params"]["url"] == WEBHOOK_URL
    assert action["params"]["headers"] == {"Authorization": f"Bearer {WEBHOOK_TOKEN}"}

    operate("destroy")
    live = {s["_id"]: scenario_status(s) for s in texter_sim.scenarios()}
    assert live == {outputs["assignedId"]: "inactive"}  # resolved: on_destroy="delete"
