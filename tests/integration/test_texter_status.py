"""`tooling.texter_status`, the last step of the own-CLI script (docs/engine.md): it fails
while a managed scenario is still active, and ignores scenarios the project does not manage."""

from __future__ import annotations

import pytest

from simulator.server import SimulatorServer
from tests.conftest import TEXTER_TOKEN
from texter_webhooks.texter import ownership
from texter_webhooks.texter.body import BodySpec, render
from texter_webhooks.texter.client import RetryPolicy, TexterClient
from tooling import texter_status

URL = "http://127.0.0.1:9/hooks/secret"


def imported(client: TexterClient, event: str, *, managed: bool) -> str:
    body = render(BodySpec(url=URL, event=event), stack="t")
    if managed:
        body = ownership.Marker.marked(body, ownership.new_marker("0123456789abcdef"))
    return str(client.import_scenario(body)["_id"])


def test_exit_status_follows_the_managed_scenarios_only(
    texter_sim: SimulatorServer, capsys: pytest.CaptureFixture[str]
) -> None:
    client = TexterClient(texter_sim.base_url, TEXTER_TOKEN, policy=RetryPolicy(deadline=3))
    managed = imported(client, "chatAssigned", managed=True)
    imported(client, "chatPending", managed=False)  # made by hand: not ours, stays active
    argv = [texter_sim.base_url, TEXTER_TOKEN]

    assert texter_status.main(argv) == 1
    assert f"{managed}  active" in capsys.readouterr().out

    client.inactivate(managed)
    assert texter_status.main(argv) == 0
    assert "1 managed scenarios, 0 active" in capsys.readouterr().out


def test_an_api_error_is_exit_2_without_the_token(
    texter_sim: SimulatorServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert texter_status.main([texter_sim.base_url, "tt_wrong_token_0123456789"]) == 2
    assert "tt_wrong_token_0123456789" not in capsys.readouterr().err
