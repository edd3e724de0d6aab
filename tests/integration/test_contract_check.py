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

from simulator import revisions
from simulator.config import SimulatorConfig
from simulator.scopes import ALL_SCOPES
from simulator.server import SimulatorServer
from tests.conftest import TEXTER_TOKEN
from tooling import contract_check

ROOT = Path(__file__).resolve().parents[2]
UPDATE_PATH = ("update_draft", "create_revision", "activate (version)", "delete_revision")
ROUTES = ("list", "import", "activate", "inactivate", *UPDATE_PATH, "runs", "delete")
UNDOCUMENTED = ("activate", "inactivate", "delete", "runs", *UPDATE_PATH)

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


def named(line: str, names: tuple[str, ...]) -> tuple[str, str] | None:
    """(name, the rest) of a line starting with one of `names`: the longest, as `activate`
    also starts `activate (version)`."""
    line = line.strip()
    found = [name for name in names if line.startswith(f"{name} ")]
    if not found:
        return None
    name = max(found, key=len)
    return name, line.removeprefix(name).strip()


def route_lines(output: str) -> dict[str, str]:
    found = (named(line, ROUTES) for line in output.splitlines())
    lines: dict[str, str] = {}
    for route, rest in filter(None, found):
        lines.setdefault(route, rest)  # the first: the summary's lines come later
    assert set(lines) == set(ROUTES), output
    return lines


def summary(output: str) -> dict[str, str]:
    lines = output.splitlines()
    start = lines.index("routes no public page documents (docs/texter-api.md §1):")
    found = [named(line, UNDOCUMENTED) for line in lines[start + 1 : start + 1 + len(UNDOCUMENTED)]]
    return dict(filter(None, found))


def calls(sim: SimulatorServer, route: str) -> int:
    return sum(1 for entry in sim.request_log() if entry["route"] == route)


def writes(sim: SimulatorServer) -> list[str]:
    """The routes called, in order, leaving out the listings between them."""
    return [entry["route"] for entry in sim.request_log() if entry["route"] != "list"]


def test_every_route_is_confirmed_on_the_default_simulator(run_check, texter_sim) -> None:
    code, output = run_check(texter_sim)

    assert code == 0, output
    lines = route_lines(output)
    assert lines["activate"].startswith("POST   /scenarios/manage/{id}/activate ")
    assert "200       ok: Scenario; active in the listing" in lines["activate"]
    assert "201       ok: Scenario" in lines["import"]
    assert "headers kept" in lines["import"]
    assert lines["update_draft"].startswith("POST   /scenarios/manage/{id}/draft ")
    assert lines["create_revision"].startswith("POST   /scenarios/manage/{id}/revisions ")
    assert "ok: Scenario, version 2 published inactive, no draft left" in lines["create_revision"]
    assert lines["activate (version)"].startswith(
        'POST   /scenarios/manage/{id}/activate {"version": n} '
    )
    # The older version, while version 2 is the newest: only so is `version` seen honoured.
    assert "ok: Scenario; active (version 1) in the listing" in lines["activate (version)"]
    assert lines["delete_revision"].startswith("DELETE /scenarios/manage/{id}/revisions/{version} ")
    assert "version 2 gone from the listing" in lines["delete_revision"]
    assert all(" ok: " in line for line in lines.values()), output
    assert summary(output) == dict.fromkeys(UNDOCUMENTED, "confirmed")
    assert "cleanup: nothing left behind" in output
    assert output.rstrip().endswith("result: every route behaves as the client expects")
    # Exactly one throwaway scenario, made inactive; each activate is followed by an
    # inactivate before anything else; then it is deleted.
    assert texter_sim.scenarios() == []
    assert writes(texter_sim) == [
        "import",
        "activate",
        "inactivate",
        "update_draft",
        "create_revision",
        "activate",
        "inactivate",
        "delete_revision",
        "runs",
        "delete",
    ]


def test_the_update_path_leaves_only_the_older_revision_inactive(run_check, texter_sim) -> None:
    seen: list[dict] = []
    versions: list[int | None] = []
    list_runs = contract_check.ObservedClient.list_runs
    activate = contract_check.ObservedClient.activate

    def spy(client, scenario_id):
        seen.extend(texter_sim.scenarios())  # the state after the update path
        return list_runs(client, scenario_id)

    def activate_spy(client, scenario_id, **kwargs):
        versions.append(kwargs.get("version"))
        return activate(client, scenario_id, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(contract_check.ObservedClient, "list_runs", spy)
        patch.setattr(contract_check.ObservedClient, "activate", activate_spy)
        code, _ = run_check(texter_sim)

    assert code == 0
    # Version 1 is asked for while version 2 is the newest: a tenant ignoring it would not pass.
    assert versions == [None, 1]
    [scenario] = seen
    assert "activeRevision" not in scenario
    assert scenario["drafts"] == []
    [revision] = scenario["inactiveRevisions"]  # the newer version was deleted
    assert revision["version"] == 1
    assert revision["revisionComment"] != contract_check.REVISION_COMMENT
    assert revision["name"].startswith("(SUB) texter-webhooks contract check ")
    assert not revision["name"].endswith(" (revised)")
    assert contract_check.MARKER_PREFIX in revision["description"]
    # Version 1 ran twice, each time for the instant between an activate and inactivate;
    # version 2 never ran.
    assert len(revision["metadata"]["activations"]) == 2


@pytest.mark.parametrize(
    ("moved", "skipped", "reason"),
    [
        (
            "update_draft",
            ("create_revision", "activate (version)", "delete_revision"),
            "needs the draft update_draft makes",
        ),
        (
            "create_revision",
            ("activate (version)", "delete_revision"),
            "needs the revision create_revision publishes",
        ),
    ],
)
def test_a_moved_update_route_is_reported_and_the_rest_skipped(
    run_check, reading, moved, skipped, reason
) -> None:
    sim = reading(route_paths={moved: "/scenarios/manage/{id}/elsewhere"})

    code, output = run_check(sim)

    assert code == 1, output
    assert "404       differs:" in route_lines(output)[moved]
    verdicts = summary(output)
    assert verdicts[moved].startswith("differs: ")
    assert {r: verdicts[r] for r in skipped} == dict.fromkeys(
        skipped, f"differs: not checked ({reason})"
    )
    confirmed = ("activate", "inactivate", "runs", "delete")
    assert {r: verdicts[r] for r in confirmed} == dict.fromkeys(confirmed, "confirmed")
    # Not activated again, and removed all the same.
    assert calls(sim, "activate") == 1
    assert calls(sim, "delete_revision") == 0
    assert sim.scenarios() == []
    assert "cleanup: nothing left behind" in output
    assert output.rstrip().endswith("before using this tenant")


def test_a_tenant_dropping_request_headers_is_caught(run_check, reading, monkeypatch) -> None:
    """A stand-in for a Texter that keeps no `headers` in request actions: `secretIn:
    header` would send no token, so the check says so and names the way out."""
    sim = reading()
    imported = revisions.imported_scenario

    def dropping_headers(data: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        for action in data.get("actions", []):
            action.get("params", {}).pop("headers", None)
        return imported(data, *args, **kwargs)

    monkeypatch.setattr(revisions, "imported_scenario", dropping_headers)

    code, output = run_check(sim)

    assert code == 1, output
    line = route_lines(output)["import"]
    assert "differs" in line
    assert "did not keep the Authorization header" in line
    assert "secretIn: path" in line
    assert not [s for s in sim.scenarios() if s.get("activeRevision")]  # nothing left running


def test_a_tenant_ignoring_the_version_is_caught(run_check, reading, monkeypatch) -> None:
    """A stand-in for a Texter that ignores `version` and resumes the newest revision (the
    simulator has no such option): its activate, wrapped to drop the version."""
    sim = reading()
    activate = revisions.activate
    asked: list[int | None] = []

    def ignoring_version(scenario: dict[str, Any], version: int | None, **kwargs: Any) -> Any:
        asked.append(version)
        return activate(scenario, None, **kwargs)

    monkeypatch.setattr(revisions, "activate", ignoring_version)
    seen: list[dict] = []
    inactivate = contract_check.ObservedClient.inactivate

    def spy(client: contract_check.ObservedClient, scenario_id: str, **kwargs: Any) -> Any:
        seen.extend(sim.scenarios())  # the state each inactivate starts from
        return inactivate(client, scenario_id, **kwargs)

    monkeypatch.setattr(contract_check.ObservedClient, "inactivate", spy)

    code, output = run_check(sim)

    assert code == 1, output
    assert asked == [None, 1]  # the check asked for version 1; the stand-in ran the newest
    assert [s["activeRevision"]["version"] for s in seen] == [1, 2]
    line = route_lines(output)["activate (version)"]
    assert "differs: ignored `version`: the newest (2) runs" in line
    assert "listed as active (version 2)" in line
    verdicts = summary(output)
    assert verdicts["activate (version)"].startswith(
        "differs: ignored `version`: the newest (2) runs"
    )
    others = tuple(r for r in UNDOCUMENTED if r != "activate (version)")
    assert {r: verdicts[r] for r in others} == dict.fromkeys(others, "confirmed")
    # Inactivated at once all the same, version 2 deleted, then the scenario: nothing runs.
    assert writes(sim) == [
        "import",
        "activate",
        "inactivate",
        "update_draft",
        "create_revision",
        "activate",
        "inactivate",
        "delete_revision",
        "runs",
        "delete",
    ]
    assert sim.scenarios() == []
    assert "cleanup: nothing left behind" in output
    assert output.rstrip().endswith("before using this tenant")


def test_the_throwaway_scenario_is_inactive_named_and_marked(run_check, texter_sim) -> None:
    seen: list[list[dict]] = []
    activate = contract_check.ObservedClient.activate

    def spy(client: contract_check.ObservedClient, scenario_id: str, **kwargs: Any) -> Any:
        seen.append(texter_sim.scenarios())  # the state each activate starts from
        return activate(client, scenario_id, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(contract_check.ObservedClient, "activate", spy)
        code, _ = run_check(texter_sim)

    assert code == 0
    [scenario] = seen[0]  # the state between import and the first activate
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
    # Still active: the update path is not tried, so it is not active for longer.
    assert {r: verdicts[r] for r in UPDATE_PATH} == dict.fromkeys(
        UPDATE_PATH,
        "differs: not checked (needs the scenario inactive; inactivate did not leave it so)",
    )
    assert [calls(sim, r) for r in ("activate", "update_draft", "create_revision")] == [1, 0, 0]
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
    assert verdicts["activate (version)"].startswith("differs: ")
    assert verdicts["inactivate"].startswith("differs: not checked")
    # Never active, so the update path goes on; deleting the newer version needs no activate.
    assert {r: verdicts[r] for r in ("update_draft", "create_revision", "delete_revision")} == (
        dict.fromkeys(("update_draft", "create_revision", "delete_revision"), "confirmed")
    )
    assert sim.scenarios() == []


def test_a_plain_ok_simulator_passes(run_check, reading) -> None:
    sim = reading(plain_ok_replies=True)

    code, output = run_check(sim)

    assert code == 0, output
    lines = route_lines(output)
    assert "a text/plain body 'OK'; active in the listing" in lines["activate"]
    assert (
        "a text/plain body 'OK'; active (version 1) in the listing" in lines["activate (version)"]
    )
    assert "a text/plain body 'OK'; version 2 gone from the listing" in lines["delete_revision"]
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


ID = "a" * 24
NAME = "(SUB) x (revised)"


def scenario(**fields: Any) -> dict[str, Any]:
    return {"_id": ID, "inactiveRevisions": [{"version": 1}], "drafts": [], **fields}


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (scenario(drafts=[{"name": NAME}]), None),
        ({"_id": "b" * 24, "drafts": [{"name": NAME}]}, "not this Scenario"),
        (scenario(), "no draft in drafts[]"),
        (scenario(drafts=[{"name": "(SUB) x"}]), "no draft carries the new name"),
        (
            scenario(drafts=[{"name": NAME}], inactiveRevisions=[]),
            "no revision versions in the answer",
        ),
    ],
)
def test_draft_answers(body, problem) -> None:
    assert contract_check.draft_problem(body, ID, NAME) == problem


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (scenario(inactiveRevisions=[{"version": 2}, {"version": 1}]), None),
        (None, "not this Scenario"),
        (scenario(inactiveRevisions=[{"version": 2}], drafts=[{}]), "a draft is left"),
        (scenario(activeRevision={"version": 2}), "a revision runs now"),
        (scenario(), "no inactive version above 1"),
    ],
)
def test_published_answers(body, problem) -> None:
    assert contract_check.published_problem(body, ID, 1) == problem
