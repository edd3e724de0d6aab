"""One provider instance serving many resources at once, as the SDK's provider server does
(four worker threads on one cached instance), against the simulator."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from simulator.server import SimulatorServer
from tests.integration.test_provider import checked, configured, inputs
from texter_webhooks.texter import ownership
from texter_webhooks.texter.scenario import scenario_status

EVENTS = ["chatAssigned", "chatResolved", "chatPending", "newMessage"] * 3


def test_concurrent_creates_share_one_listing_and_each_owns_its_own(
    texter_sim: SimulatorServer,
) -> None:
    provider = configured(texter_sim)
    news = [
        # adopt: each create looks for a hand-made scenario, the only reason it lists.
        checked(provider, inputs(resource_name=f"r{i}", event=e, adopt=True))
        for i, e in enumerate(EVENTS)
    ]
    texter_sim.clear_request_log()
    with ThreadPoolExecutor(max_workers=4) as pool:
        created = list(pool.map(provider.create, news))

    routes = [r["route"] for r in texter_sim.request_log()]
    assert routes.count("import") == len(EVENTS)
    assert routes.count("list") == 1  # the pre-create lookups share one listing
    ids = [c.id for c in created]
    assert len(set(ids)) == len(EVENTS)
    live = {s["_id"]: s for s in texter_sim.scenarios()}
    for new, made in zip(news, created, strict=True):
        marker = ownership.marker_of(live[made.id])
        assert marker is not None
        assert marker.resource == new["marker"]
        assert scenario_status(live[made.id]) == "active"


def test_concurrent_reads_share_one_listing(texter_sim: SimulatorServer) -> None:
    provider = configured(texter_sim)
    created = [
        provider.create(checked(provider, inputs(resource_name=f"r{i}", marker=f"{i:016x}")))
        for i in range(8)
    ]
    refresh = configured(texter_sim)  # a refresh runs in a process of its own
    texter_sim.clear_request_log()
    with ThreadPoolExecutor(max_workers=4) as pool:
        reads = list(pool.map(lambda c: refresh.read(c.id, c.outs), created))
    assert [r.id for r in reads] == [c.id for c in created]
    assert [r["route"] for r in texter_sim.request_log()] == ["list"]
