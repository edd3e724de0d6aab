"""``python -m simulator`` as a process: startup line, tokens, state file, logging, signals."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.integration.simulator.templates import filled_template

REPO_ROOT = Path(__file__).resolve().parents[3]
LISTENING = re.compile(r"^simulator listening on (http://127\.0\.0\.1:(\d+)/server/api/v2)$")


class Cli:
    def __init__(self, *args: str) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "simulator", "--host", "127.0.0.1", "--port", "0", *args],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.stdout_lines: list[str] = []
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.stdout_lines.append(line.rstrip("\n"))
            match = LISTENING.match(self.stdout_lines[-1])
            if match:
                self.base_url = match.group(1)
                self.root_url = self.base_url.removesuffix("/server/api/v2")
                return
        raise AssertionError(f"no listening line; stderr: {self.proc.stderr.read()}")  # type: ignore[union-attr]

    def stop(self, sig: int = signal.SIGTERM) -> tuple[int, str, str]:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        stdout, stderr = self.proc.communicate(timeout=15)
        return self.proc.returncode, stdout, stderr


@pytest.fixture
def run_cli() -> Iterator:
    started: list[Cli] = []

    def start(*args: str) -> Cli:
        cli = Cli(*args)
        started.append(cli)
        return cli

    yield start
    for cli in started:
        if cli.proc.poll() is None:
            cli.proc.kill()
            cli.proc.communicate(timeout=15)


def _list(cli: Cli, token: str) -> requests.Response:
    return requests.get(
        f"{cli.base_url}/scenarios/manage", headers={"Authorization": f"Bearer {token}"}, timeout=5
    )


def test_without_tokens_one_is_generated_printed_and_accepted(run_cli):
    cli = run_cli()

    token_line, listening_line = cli.stdout_lines
    token = token_line.removeprefix("simulator token: ")

    assert token_line.startswith("simulator token: ")
    listening = LISTENING.match(listening_line)
    assert listening is not None
    assert int(listening.group(2)) > 0
    assert _list(cli, token).status_code == 200
    assert _list(cli, token + "x").status_code == 401


def test_given_tokens_are_not_printed_and_carry_their_scopes(run_cli):
    cli = run_cli(
        "--token", "admin-tok", "--token", "viewer-tok:view,Manage scenarios on behalf of user"
    )

    body = filled_template("chatPending", "https://h.example/x")
    imported = requests.post(
        f"{cli.base_url}/scenarios/manage/import",
        json=body,
        headers={"Authorization": "Bearer viewer-tok"},
        timeout=5,
    )

    assert len(cli.stdout_lines) == 1
    assert _list(cli, "admin-tok").status_code == 200
    assert _list(cli, "viewer-tok").status_code == 200
    assert imported.status_code == 403
    assert "Create scenarios" in imported.json()["error"]["message"]


def test_sigterm_stops_cleanly_and_requests_are_logged_without_the_token(run_cli):
    cli = run_cli("--token", "very-secret-token")
    _list(cli, "very-secret-token")
    _list(cli, "wrong-token")

    code, stdout, stderr = cli.stop(signal.SIGTERM)

    assert code == 0
    assert stdout == ""
    assert "GET /server/api/v2/scenarios/manage 200" in stderr
    assert "GET /server/api/v2/scenarios/manage 401" in stderr
    assert "very-secret-token" not in stderr
    assert "wrong-token" not in stderr
    assert "simulator stopped" in stderr


def test_sigint_stops_cleanly(run_cli):
    cli = run_cli("--token", "t")

    code, _, stderr = cli.stop(signal.SIGINT)

    assert code == 0
    assert "Traceback" not in stderr


def test_strictness_flags_reach_the_server(run_cli):
    cli = run_cli(
        "--token",
        "t",
        "--idempotent-toggles",
        "--lenient-query",
        "--lenient-import",
        "--malformed-id-404",
        "--latency-ms",
        "1",
        "--quiet",
    )
    headers = {"Authorization": "Bearer t"}
    created = requests.post(
        f"{cli.base_url}/scenarios/manage/import",
        json=filled_template("chatPending", "https://h.example/x", extra="ignored"),
        headers=headers,
        timeout=5,
    )

    again = requests.post(
        f"{cli.base_url}/scenarios/manage/{created.json()['_id']}/activate",
        headers=headers,
        timeout=5,
    )
    listed = requests.get(
        f"{cli.base_url}/scenarios/manage", params={"page": "2"}, headers=headers, timeout=5
    )
    malformed = requests.delete(
        f"{cli.base_url}/scenarios/manage/not-an-id", headers=headers, timeout=5
    )
    latency = requests.get(f"{cli.root_url}/_sim/latency", timeout=5)
    _, _, stderr = cli.stop()

    assert created.status_code == 201  # --lenient-import
    assert again.status_code == 200  # --idempotent-toggles
    assert listed.status_code == 200  # --lenient-query
    assert malformed.status_code == 404  # --malformed-id-404
    assert latency.json() == {"ms": 1}  # --latency-ms
    assert "GET /server" not in stderr  # --quiet


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--token", "t:no_such_scope"], "unknown scope 'no_such_scope'"),
        (["--route", "inactivate"], "--route takes NAME=PATH"),
    ],
    ids=["config", "route-spec"],
)
def test_bad_arguments_exit_2_naming_the_problem(args, message):
    result = subprocess.run(
        [sys.executable, "-m", "simulator", "--port", "0", *args],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert result.returncode == 2
    assert result.stdout == ""
    assert message in result.stderr


def test_a_locked_state_file_fails_startup(run_cli, tmp_path):
    state = tmp_path / "state.json"
    run_cli("--token", "t", "--state", str(state))

    result = subprocess.run(
        [sys.executable, "-m", "simulator", "--port", "0", "--token", "t", "--state", str(state)],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert result.returncode == 1
    assert "in use by another simulator" in result.stderr


def test_plain_ok_and_route_flags_reach_the_server(run_cli):
    cli = run_cli(
        "--token", "t", "--plain-ok-replies", "--route", "inactivate=/scenarios/manage/{id}/pause"
    )
    headers = {"Authorization": "Bearer t"}
    created = requests.post(
        f"{cli.base_url}/scenarios/manage/import",
        json=filled_template("chatPending", "https://h.example/x"),
        headers=headers,
        timeout=5,
    ).json()
    manage = f"{cli.base_url}/scenarios/manage/{created['_id']}"

    old = requests.post(f"{manage}/inactivate", headers=headers, timeout=5)
    paused = requests.post(f"{manage}/pause", headers=headers, timeout=5)

    assert old.status_code == 404
    assert (paused.status_code, paused.text) == (200, "OK")
    assert paused.headers["Content-Type"].startswith("text/plain")
