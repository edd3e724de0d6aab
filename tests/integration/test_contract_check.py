"""`python -m tooling.contract_check` against simulators serving the different readings."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from simulator.config import SimulatorConfig
from simulator.scopes import ALL_SCOPES
from simulator.server import SimulatorServer
from tests.conftest import TEXTER_TOKEN
from tooling import contract_check

ROOT = Path(__file__).resolve().parents[2]
ROUTES = ("list", "import", "activate", "inactivate", "runs", "delete")
UNDOCUMENTED = ("activate", "inactivate", "delete", "runs")

Run = Callable[..., tuple[int, str]]


@pytest.fixture
def reading() -> Iterator[Callable[..., SimulatorServer]]:
    """Like `texter_sim`, in another reading: `reading(plain_ok_replies=True)` and so on."""
    started: list[SimulatorServer] = []

    def start(**config: Any) -> SimulatorServer:
        config = {"tokens": {TEXTER_TOKEN: ALL_SCOPES}, "log_requests": False, **config}
        started.append(SimulatorServer(SimulatorConfig(**config)).start())
        return started[-1]

    yield start
    for sim in started:
        sim.stop()


@pytest.fixture
def run_check(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    """Runs the check against a simulator (or whatever env is given); (exit code, all output)."""

    def run(sim: SimulatorServer | None = None, *args: str, token: str | None = None) -> tuple:
        if sim is not None:
            monkeypatch.setenv("TEXTER_BASE_URL", sim.base_url)
            monkeypatch.setenv("TEXTER_TOKEN", token or sim.token)
        code = contract_check.main(["--deadline", "5", *args])
        captured = capsys.readouterr()
        return code, captured.out + captured.err

    return run


def route_lines(output: str) -> dict[str, str]:
    lines = output.splitlines()
    return {route: next(line for line in lines if line.startswith(f"{route} ")) for route in ROUTES}


def summary(output: str) -> dict[str, str]:
    lines = output.splitlines()
    start = lines.index("routes no public page documents (docs/texter-api.md §1):")
    found = {}
    for line in lines[start + 1 : start + 1 + len(UNDOCUMENTED)]:
        route, verdict = line.split(maxsplit=1)
        found[route] = verdict
    return found


def calls(sim: SimulatorServer, route: str) -> int:
    return sum(1 for entry in sim.request_log() if entry["route"] == route)


def test_every_route_is_confirmed_on_the_default_simulator(run_check, texter_sim) -> None:
    code, output = run_check(texter_sim)

    assert code == 0, output
    lines = route_lines(output)
    assert "POST   /scenarios/manage/{id}/activate    200       ok:" in lines["activate"]
    assert "201       ok: Scenario" in lines["import"]
    assert all(" ok: " in line for line in lines.values()), output
    assert summary(output) == dict.fromkeys(UNDOCUMENTED, "confirmed")
    assert "cleanup: nothing left behind" in output
    assert output.rstrip().endswith("result: every route behaves as the client expects")
    # Exactly one throwaway scenario, made inactive, toggled once each way, then deleted.
    assert texter_sim.scenarios() == []
    assert [calls(texter_sim, r) for r in ("import", "activate", "inactivate", "delete")] == [
        1,
        1,
        1,
        1,
    ]


def test_the_throwaway_scenario_is_inactive_named_and_marked(run_check, texter_sim) -> None:
    seen: list[dict] = []
    original = contract_check.ContractCheck._check_activate

    def spy(check: contract_check.ContractCheck) -> None:
        seen.extend(texter_sim.scenarios())  # the state between import and activate
        original(check)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(contract_check.ContractCheck, "_check_activate", spy)
        code, _ = run_check(texter_sim)

    assert code == 0
    [scenario] = seen
    [revision] = scenario["inactiveRevisions"]
    assert "activeRevision" not in scenario
    assert revision["name"].startswith("(SUB) texter-webhooks contract check ")
    assert contract_check.MARKER_PREFIX in revision["description"]
    # Not the provider's marker: no stack may take the throwaway scenario for its own.
    assert "[texter-webhooks:" not in revision["description"]


def test_a_moved_route_is_reported_and_nothing_is_left_behind(run_check, reading) -> None:
    sim = reading(route_paths={"inactivate": "/scenarios/manage/{id}/pause"})

    code, output = run_check(sim)

    assert code == 1, output
    assert "404       differs:" in route_lines(output)["inactivate"]
    verdicts = summary(output)
    assert verdicts["inactivate"].startswith("differs: ")
    assert {r: verdicts[r] for r in ("activate", "delete", "runs")} == dict.fromkeys(
        ("activate", "delete", "runs"), "confirmed"
    )
    # It was active when inactivate failed: the cleanup deleted it all the same.
    assert sim.scenarios() == []
    assert "cleanup: nothing left behind" in output


def test_a_moved_delete_leaves_it_inactive_and_says_so(run_check, reading) -> None:
    sim = reading(route_paths={"delete": "/scenarios/manage/{id}/remove"})

    code, output = run_check(sim)

    assert code == 1
    assert summary(output)["delete"].startswith("differs: ")
    [left] = sim.scenarios()
    assert "activeRevision" not in left
    assert f"cleanup: LEFT BEHIND {left['_id']} (inactive)" in output


def test_a_moved_activate_is_reported_and_inactivate_not_claimed(run_check, reading) -> None:
    sim = reading(route_paths={"activate": "/scenarios/manage/{id}/resume"})

    code, output = run_check(sim)

    assert code == 1
    verdicts = summary(output)
    assert verdicts["activate"].startswith("differs: ")
    assert verdicts["inactivate"].startswith("differs: not checked")
    assert sim.scenarios() == []


def test_a_plain_ok_simulator_passes(run_check, reading) -> None:
    sim = reading(plain_ok_replies=True)

    code, output = run_check(sim)

    assert code == 0, output
    assert "a text/plain body 'OK'; active in the listing" in route_lines(output)["activate"]
    assert summary(output) == dict.fromkeys(UNDOCUMENTED, "confirmed")
    assert sim.scenarios() == []


def test_an_import_whose_answer_is_lost_is_found_and_removed(run_check, texter_sim) -> None:
    texter_sim.add_fault("import", "commit_then_drop")

    code, output = run_check(texter_sim)

    assert code == 1
    assert "differs:" in route_lines(output)["import"]
    assert "cleanup: deleted " in output
    assert texter_sim.scenarios() == []


def test_the_token_never_appears_in_the_output(run_check, reading) -> None:
    sim = reading(route_paths={"delete": "/scenarios/manage/{id}/remove"})

    _, output = run_check(sim)
    _, refused = run_check(sim, token="wrong-" + sim.token)

    assert sim.token not in output
    assert sim.token not in refused


def test_a_refused_token_is_bad_config_and_makes_nothing(run_check, texter_sim) -> None:
    code, output = run_check(texter_sim, token="not-the-token")

    assert code == 2
    assert "401" in route_lines(output)["list"]
    assert "the token was refused" in output
    assert calls(texter_sim, "import") == 0


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "TEXTER_BASE_URL and TEXTER_TOKEN not set"),
        ({"TEXTER_BASE_URL": "http://127.0.0.1:9/server/api/v2"}, "TEXTER_TOKEN not set"),
        ({"TEXTER_BASE_URL": "ftp://x", "TEXTER_TOKEN": "t"}, "must be an http(s) URL"),
    ],
)
def test_missing_or_bad_config_exits_2(run_check, monkeypatch, env, message) -> None:
    for name in ("TEXTER_BASE_URL", "TEXTER_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    code, output = run_check()

    assert code == 2
    assert message in output


def fake_pulumi(bin_dir: Path, values: dict[str, str]) -> Path:
    """A `pulumi` that answers `config get KEY --stack dev` from `values` and logs its args."""
    log = bin_dir / "pulumi-args.log"
    cases = "\n".join(f'  "{key}") printf "%s\\n" "{value}" ;;' for key, value in values.items())
    script = bin_dir / "pulumi"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$*" >> "{log}"\n'
        '[ "$1 $2" = "config get" ] && [ "$4 $5" = "--stack dev" ] || exit 3\n'
        f'case "$3" in\n{cases}\n'
        "  *) echo \"error: configuration key '$3' not found for stack 'dev'\" >&2; exit 1 ;;\n"
        "esac\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return log


def test_a_stack_s_config_is_read_with_pulumi(run_check, texter_sim, monkeypatch, tmp_path):
    log = fake_pulumi(
        tmp_path, {"texter:baseUrl": texter_sim.base_url, "texter:token": TEXTER_TOKEN}
    )
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    # A stack named on the command line wins over credentials left in the environment.
    monkeypatch.setenv("TEXTER_BASE_URL", "http://127.0.0.1:9/server/api/v2")
    monkeypatch.setenv("TEXTER_TOKEN", "other-token")

    code, output = run_check(None, "--stack", "dev")

    assert code == 0, output
    assert f"contract check of {texter_sim.base_url} (stack dev)" in output
    assert TEXTER_TOKEN not in output
    assert log.read_text().splitlines() == [
        "config get texter:baseUrl --stack dev --non-interactive",
        "config get texter:token --stack dev --non-interactive",
    ]


def test_a_stack_without_the_token_exits_2_with_pulumi_s_reason(run_check, monkeypatch, tmp_path):
    fake_pulumi(tmp_path, {"texter:baseUrl": "https://p.texterchat.com/server/api/v2"})
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")

    code, output = run_check(None, "--stack", "dev")

    assert code == 2
    assert "configuration key 'texter:token' not found" in output


def test_a_stack_needs_pulumi_on_path(run_check, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))

    code, output = run_check(None, "--stack", "dev")

    assert code == 2
    assert "needs the `pulumi` CLI on PATH" in output


def test_the_module_runs_as_a_program(texter_sim) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "TEXTER_BASE_URL": texter_sim.base_url,
        "TEXTER_TOKEN": TEXTER_TOKEN,
    }
    result = subprocess.run(
        [sys.executable, "-m", "tooling.contract_check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert TEXTER_TOKEN not in result.stdout + result.stderr
    assert texter_sim.scenarios() == []


def test_the_make_target_passes_the_stack() -> None:
    result = subprocess.run(
        ["make", "-n", "contract-check", "STACK=dev"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert "-m tooling.contract_check --stack dev" in result.stdout


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"total": 0, "runs": []}, None),
        ([{"_id": "r1"}], None),  # a bare list of runs is one of the expected shapes
        ({"runs": []}, "runs[] without a numeric total"),
        ({"total": 1, "items": []}, "neither {total, runs[]} nor a list of runs"),
        (None, "neither {total, runs[]} nor a list of runs"),
        (["r1"], "a run is not a JSON object"),
    ],
)
def test_runs_shapes(body, problem) -> None:
    assert contract_check.runs_shape_problem(body) == problem


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"total": 1, "scenarios": [{"_id": "a"}]}, None),
        ([{"_id": "a"}], "not a JSON object {total, scenarios[]}"),
        ({"total": 0, "items": []}, "no scenarios[] in the answer"),
        ({"scenarios": []}, "no numeric total in the answer"),
        ({"total": 1, "scenarios": [{"id": "a"}]}, "a listed scenario has no _id"),
    ],
)
def test_list_shapes(body, problem) -> None:
    assert contract_check.list_shape_problem(body) == problem
