"""The delivery check flags missing, paused and failing subscriptions."""

from __future__ import annotations

from simulator.server import SimulatorServer
from tests.conftest import TEXTER_TOKEN
from texter_webhooks.texter.body import BodySpec, render
from texter_webhooks.texter.client import RetryPolicy, TexterClient
from tooling.verify import Subscription, check


def test_check_reports_status_and_failed_deliveries(texter_sim: SimulatorServer) -> None:
    client = TexterClient(texter_sim.base_url, TEXTER_TOKEN, policy=RetryPolicy(deadline=3))
    # Nothing listens on port 9: every delivery of this subscription fails.
    url = "http://127.0.0.1:9/hooks/secret"
    failing = client.import_scenario(render(BodySpec(url=url, event="chatAssigned"), stack="t"))
    paused = client.import_scenario(render(BodySpec(url=url, event="chatPending"), stack="t"))
    client.inactivate(paused["_id"])
    texter_sim.fire("chatAssigned")

    reports = check(
        client,
        [
            Subscription("assigned", failing["_id"], "active"),
            Subscription("pending", paused["_id"], "active"),
            Subscription("gone", "0" * 24, "active"),
        ],
        runs=5,
    )
    by_name = {r.subscription.name: r for r in reports}
    assert by_name["assigned"].live_status == "active"
    assert [run["success"] for run in by_name["assigned"].runs] == [False]
    assert any("latest delivery failed" in p for p in by_name["assigned"].problems)
    assert by_name["pending"].problems == ["inactive, wanted active"]
    assert by_name["gone"].live_status == "missing"


def test_failed_delivery_errors_never_show_the_receiver_secret(texter_sim: SimulatorServer) -> None:
    client = TexterClient(texter_sim.base_url, TEXTER_TOKEN, policy=RetryPolicy(deadline=3))
    url = "http://127.0.0.1:9/hooks/receiver-secret-value"
    made = client.import_scenario(render(BodySpec(url=url, event="chatAssigned"), stack="t"))
    texter_sim.fire("chatAssigned")
    [report] = check(client, [Subscription("assigned", made["_id"], "active")], runs=1)
    [problem] = report.problems
    assert problem.startswith("latest delivery failed")
    assert "receiver-secret-value" not in problem
