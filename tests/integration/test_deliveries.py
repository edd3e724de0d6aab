"""`make deliveries`: failed deliveries of a stack's subscriptions, read from Texter's runs."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator.config import SimulatorConfig
from simulator.scopes import ALL_SCOPES
from simulator.server import SimulatorServer
from tests.conftest import TEXTER_TOKEN
from tests.integration.simulator.capture import CaptureServer
from texter_webhooks.texter.body import BodySpec, render
from texter_webhooks.texter.client import RetryPolicy, TexterClient
from texter_webhooks.texter.ownership import Marker
from tooling import deliveries

REPO_ROOT = Path(__file__).resolve().parents[2]
MARKER = "0123456789abcdef:0123456789ab"  # a managed scenario's marker (see ownership)
SECRET_PATH = "/hooks/receiver-secret-value"


@pytest.fixture
def capture() -> Iterator[CaptureServer]:
    server = CaptureServer().start()
    yield server
    server.stop()


def _client(sim: SimulatorServer) -> TexterClient:
    return TexterClient(sim.base_url, TEXTER_TOKEN, policy=RetryPolicy(deadline=3))


def _subscribe(client: TexterClient, url: str, event: str, *, marker: str | None = MARKER) -> str:
    body = render(BodySpec(url=url, event=event), stack="t")
    made = client.import_scenario(body if marker is None else Marker.marked(body, marker))
    return str(made["_id"])


@pytest.fixture
def unreachable_url(refused_port: int) -> str:
    """A receiver URL every delivery to fails: its port refuses connections."""
    return f"http://127.0.0.1:{refused_port}{SECRET_PATH}"


def _report(sim: SimulatorServer, monkeypatch: pytest.MonkeyPatch, *argv: str) -> tuple[int, str]:
    monkeypatch.setenv("TEXTER_BASE_URL", sim.base_url)
    monkeypatch.setenv("TEXTER_TOKEN", TEXTER_TOKEN)
    out = io.StringIO()
    code = deliveries.main(list(argv), out=out)
    return code, out.getvalue()


def test_failed_deliveries_are_reported_with_a_non_zero_exit(
    texter_sim: SimulatorServer,
    capture: CaptureServer,
    monkeypatch: pytest.MonkeyPatch,
    unreachable_url: str,
) -> None:
    client = _client(texter_sim)
    capture.status = 503
    refused = _subscribe(client, capture.url + SECRET_PATH, "chatAssigned")
    unreachable = _subscribe(client, unreachable_url, "chatPending")
    texter_sim.fire("chatAssigned")
    texter_sim.fire("chatPending")

    code, out = _report(texter_sim, monkeypatch, "--since", "1h")

    assert code == 1, out
    lines = out.splitlines()
    [refused_line] = [line for line in lines if "FAILED" in line and "domain.chat.assigned" in line]
    assert "HTTP 503" in refused_line
    [unreachable_line] = [line for line in lines if "FAILED" in line and "chat.pending" in line]
    assert "request failed" in unreachable_line  # no status recorded: the error instead
    assert any(refused in line and "1 failed" in line for line in lines)
    assert any(unreachable in line and "1 failed" in line for line in lines)
    assert lines[-1].startswith("result: 2 failed deliveries since ")
    assert TEXTER_TOKEN not in out
    assert "receiver-secret-value" not in out


def test_no_failure_exits_zero_and_filtered_runs_are_not_failures(
    texter_sim: SimulatorServer, capture: CaptureServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = _client(texter_sim)
    delivered = _subscribe(client, capture.url, "chatResolved")
    filtered = _subscribe(client, capture.url, "messageFailed")
    texter_sim.fire("chatResolved")
    texter_sim.fire("messageFailed", conditions_pass=False)

    code, out = _report(texter_sim, monkeypatch, "--since", "10m")

    assert code == 0, out
    assert any(
        delivered in line and "1 runs, 0 filtered, 0 failed" in line for line in out.splitlines()
    )
    assert any(
        filtered in line and "1 runs, 1 filtered, 0 failed" in line for line in out.splitlines()
    )
    assert "FAILED" not in out
    assert out.splitlines()[-1].startswith("result: no failed deliveries since ")


def test_failures_before_since_are_not_reported(
    texter_sim: SimulatorServer, monkeypatch: pytest.MonkeyPatch, unreachable_url: str
) -> None:
    _subscribe(_client(texter_sim), unreachable_url, "chatAssigned")
    texter_sim.fire("chatAssigned")

    code, out = _report(texter_sim, monkeypatch, "--since", "2999-01-01T00:00:00Z")

    assert code == 0, out
    assert "FAILED" not in out


def test_only_managed_scenarios_are_read_without_a_stack(
    texter_sim: SimulatorServer, monkeypatch: pytest.MonkeyPatch, unreachable_url: str
) -> None:
    hand_made = _subscribe(_client(texter_sim), unreachable_url, "chatAssigned", marker=None)
    texter_sim.fire("chatAssigned")

    code, out = _report(texter_sim, monkeypatch)

    assert code == 0, out
    assert hand_made not in out
    assert "no managed subscriptions found" in out


def test_runs_without_a_recorded_output_are_read_from_the_step_error(
    capture: CaptureServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Texter documents an action's `output` only "when recorded".
    config = SimulatorConfig(
        tokens={TEXTER_TOKEN: ALL_SCOPES}, log_requests=False, record_action_output=False
    )
    with SimulatorServer(config) as sim:
        capture.status = 500
        _subscribe(_client(sim), capture.url + SECRET_PATH, "chatAssigned")
        sim.fire("chatAssigned")

        code, out = _report(sim, monkeypatch, "--since", "1h")

    assert code == 1, out
    [line] = [line for line in out.splitlines() if "FAILED" in line]
    assert "action request: webhook answered HTTP 500" in line
    assert "receiver-secret-value" not in out


def test_a_bad_since_is_a_usage_error(
    texter_sim: SimulatorServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _report(texter_sim, monkeypatch, "--since", "yesterday")

    assert code == 2
    assert out == ""
    assert "--since takes a duration" in capsys.readouterr().err


# --- against a stack: `pulumi config get` and `pulumi stack output`, as a user runs it -------

FAKE_PULUMI = """#!{python}
import json, sys
args = sys.argv[1:]
answers = json.loads({answers!r})
if args[:2] == ["config", "get"]:
    key = args[2]
    if key not in answers["config"]:
        sys.stderr.write("error: configuration key '%s' not found for stack 'dev'\\n" % key)
        sys.exit(255)
    print(answers["config"][key])
elif args[:3] == ["stack", "output", "subscriptionIds"]:
    print(json.dumps(answers["outputs"]))
else:
    sys.stderr.write("unexpected: %r\\n" % args)
    sys.exit(3)
"""


def _run_with_stack(
    tmp_path: Path, config: dict[str, str], outputs: dict[str, str], *argv: str
) -> subprocess.CompletedProcess[str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    answers = json.dumps({"config": config, "outputs": outputs})
    fake = bin_dir / "pulumi"
    fake.write_text(FAKE_PULUMI.format(python=sys.executable, answers=answers))
    fake.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k not in ("TEXTER_BASE_URL", "TEXTER_TOKEN")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run(
        [sys.executable, "-m", "tooling.deliveries", "--stack", "dev", *argv],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_stack_is_read_from_its_config_and_outputs(
    texter_sim: SimulatorServer, tmp_path: Path, unreachable_url: str
) -> None:
    client = _client(texter_sim)
    of_the_stack = _subscribe(client, unreachable_url, "chatAssigned")
    of_another_stack = _subscribe(client, unreachable_url, "chatAssigned")
    texter_sim.fire("chatAssigned")
    config = {"texter:baseUrl": texter_sim.base_url, "texter:token": TEXTER_TOKEN}
    outputs = {"chatAssigned": of_the_stack, "chatPending": "0" * 24}

    done = _run_with_stack(tmp_path, config, outputs, "--since", "1h")

    assert done.returncode == 1, done.stdout + done.stderr
    assert f"chatAssigned  {of_the_stack}  1 runs, 0 filtered, 1 failed" in done.stdout
    assert f"chatPending  {'0' * 24}  ! missing in Texter" in done.stdout
    assert of_another_stack not in done.stdout
    assert "(stack dev)" in done.stdout
    assert TEXTER_TOKEN not in done.stdout + done.stderr
    assert "receiver-secret-value" not in done.stdout + done.stderr


def test_a_stack_without_the_token_in_its_config_is_a_configuration_error(
    texter_sim: SimulatorServer, tmp_path: Path
) -> None:
    done = _run_with_stack(tmp_path, {"texter:baseUrl": texter_sim.base_url}, {})

    assert done.returncode == 2
    assert "texter:token" in done.stderr
    assert done.stdout == ""
