"""check and diff as the engine calls them during a preview: through the SDK's own
dynamic-provider host (`python -m pulumi.dynamic`, the process the engine starts) over
gRPC, with the provider pickled as the SDK pickles it. Inputs reach the provider as the SDK
deserialises them (`keep_unknowns=True`): an Output still unresolved arrives as
`pulumi.output.Unknown` objects at any depth. The host's Configure answers
`acceptSecrets: False`, so the engine sends secrets (the URL) as plain values.
Check and diff call no API: the Texter URL configured here is never reached."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import struct_pb2
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.output import Unknown
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from texter_webhooks.texter.provider import PROVIDER_KEY, TexterSubscriptionProvider

URL = "https://receiver-abc-ew.a.run.app/hooks/receiver-secret"
NEW_URL = "https://receiver-def-ew.a.run.app/hooks/receiver-secret"
# What the engine sends for a value a preview cannot know yet.
UNKNOWN = rpc.UNKNOWN
PICKLED = serialize_provider(TexterSubscriptionProvider())


def inputs(**overrides: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        PROVIDER_KEY: PICKLED,
        "resource_name": "chatAssigned",
        "stack": "dev",
        "marker": "0123456789abcdef",
        "event": "chatAssigned",
        "template": None,
        "url": URL,
        "display_name": None,
        "description": None,
        "placeholders": None,
        "status": "active",
        "on_destroy": "inactivate",
        "author_uid": None,
        "adopt": False,
    }
    props.update(overrides)
    return props


def recorded(**overrides: Any) -> dict[str, Any]:
    """A created subscription's state: its checked inputs and its outputs."""
    state = inputs(**overrides)
    state.update(
        body_hash="h", url_fingerprint="f", subscription_id="s1", live_status="active", body=None
    )
    return state


def to_struct(props: dict[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(props)
    return struct


@pytest.fixture(scope="module")
def host(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[provider_pb2_grpc.ResourceProviderStub]:
    """The SDK's dynamic-provider host, configured as the engine configures it."""
    logs = tmp_path_factory.mktemp("dynamic-host")
    port_file, stderr = logs / "stdout", (logs / "stderr").open("w")
    with port_file.open("w") as stdout:
        process = subprocess.Popen(
            [sys.executable, "-m", "pulumi.dynamic"], stdout=stdout, stderr=stderr
        )
    try:
        port = _port(port_file, process, logs / "stderr")
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = provider_pb2_grpc.ResourceProviderStub(channel)
            config = {"texter:baseUrl": "https://tenant.texterchat.com/server/api/v2"}
            stub.Configure(
                provider_pb2.ConfigureRequest(args=to_struct({**config, "texter:token": "t"}))
            )
            yield stub
    finally:
        process.terminate()
        process.wait(timeout=10)
        stderr.close()


def _port(port_file: Path, process: subprocess.Popen[bytes], stderr: Path) -> int:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = port_file.read_text().strip()
        if line:
            return int(line)
        if process.poll() is not None:
            break
        time.sleep(0.05)
    raise RuntimeError(f"the dynamic provider host did not start: {stderr.read_text()[-2000:]}")


def check(
    host: provider_pb2_grpc.ResourceProviderStub,
    news: dict[str, Any],
    olds: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], list[str]]:
    request = provider_pb2.CheckRequest(olds=to_struct(olds or {}), news=to_struct(news))
    response = host.Check(request)
    checked = rpc.deserialize_properties(response.inputs, keep_unknowns=True)
    return checked, [f"{f.property}: {f.reason}" for f in response.failures]


def diff(
    host: provider_pb2_grpc.ResourceProviderStub, olds: dict[str, Any], news: dict[str, Any]
) -> provider_pb2.DiffResponse:
    request = provider_pb2.DiffRequest(id="s1", olds=to_struct(olds), news=to_struct(news))
    response: provider_pb2.DiffResponse = host.Diff(request)
    return response


def test_the_sdk_hands_check_unknown_objects_not_the_sentinel_string() -> None:
    """What the provider must cope with: if this changes, the helpers' premise does."""
    struct = to_struct({"url": UNKNOWN, "nested": {"expression": UNKNOWN}})
    props = rpc.deserialize_properties(struct, keep_unknowns=True)
    assert isinstance(props["url"], Unknown)
    assert isinstance(props["nested"]["expression"], Unknown)


def test_check_of_a_first_preview_with_the_receiver_url_unknown(host) -> None:
    checked, failures = check(host, inputs(url=UNKNOWN))
    assert failures == []
    # Derived from the URL, so unknown too: the engine shows them as computed.
    assert isinstance(checked["body_hash"], Unknown)
    assert isinstance(checked["url_fingerprint"], Unknown)


def test_check_still_validates_the_rest_while_the_url_is_unknown(host) -> None:
    _, failures = check(host, inputs(url=UNKNOWN, event="chatAsigned"))
    assert any(f.startswith("event:") and "did you mean" in f for f in failures)


@pytest.mark.parametrize(
    "overrides",
    [
        {"status": UNKNOWN},
        {"event": "newMatchedMessage", "placeholders": {"expression": UNKNOWN}},
        {"display_name": UNKNOWN},
    ],
    ids=["status", "placeholder", "display_name"],
)
def test_check_with_another_input_unknown(host, overrides) -> None:
    checked, failures = check(host, inputs(**overrides))
    assert failures == []
    assert isinstance(checked["body_hash"], Unknown)
    # The URL is known: its fingerprint is computed now.
    assert isinstance(checked["url_fingerprint"], str)
    assert len(checked["url_fingerprint"]) == 12


def test_check_of_known_inputs_computes_the_hash(host) -> None:
    checked, failures = check(host, inputs())
    assert failures == []
    assert isinstance(checked["body_hash"], str)
    assert len(checked["body_hash"]) == 64


def test_diff_of_a_preview_whose_new_url_is_unknown(host) -> None:
    """A preview where the receiver is replaced: the URL is unknown until it is created.
    A new URL is a new revision of the same scenario, so the preview says update."""
    response = diff(host, recorded(), inputs(url=UNKNOWN, body_hash=UNKNOWN))
    assert response.changes == provider_pb2.DiffResponse.DIFF_SOME
    assert list(response.replaces) == []


def test_diff_of_a_preview_whose_description_is_unknown(host) -> None:
    """What shapes the description (which no draft can change) unknown: it may replace."""
    response = diff(host, recorded(), inputs(description=UNKNOWN, body_hash=UNKNOWN))
    assert response.changes == provider_pb2.DiffResponse.DIFF_SOME
    assert "description" in response.replaces


def test_diff_with_an_unknown_placeholder(host) -> None:
    olds = recorded(event="newMatchedMessage", placeholders={"expression": "x"})
    news = inputs(event="newMatchedMessage", placeholders={"expression": UNKNOWN})
    response = diff(host, olds, {**news, "body_hash": UNKNOWN})
    assert response.changes == provider_pb2.DiffResponse.DIFF_SOME
    assert "placeholders" in response.replaces


def test_diff_with_an_unknown_status_is_an_update(host) -> None:
    response = diff(host, recorded(), inputs(status=UNKNOWN))
    assert response.changes == provider_pb2.DiffResponse.DIFF_SOME
    assert list(response.replaces) == []


def test_diff_of_known_equal_inputs_is_no_change(host) -> None:
    checked, _ = check(host, inputs())
    state = {**recorded(), "body_hash": checked["body_hash"]}
    response = diff(host, state, {**inputs(), "body_hash": checked["body_hash"]})
    assert response.changes == provider_pb2.DiffResponse.DIFF_NONE


def test_diff_of_a_known_new_url_updates_in_place(host) -> None:
    response = diff(host, recorded(), inputs(url=NEW_URL))
    assert response.changes == provider_pb2.DiffResponse.DIFF_SOME
    assert list(response.replaces) == []


def test_diff_of_a_known_new_description_replaces(host) -> None:
    response = diff(host, recorded(), inputs(description="another text"))
    assert response.changes == provider_pb2.DiffResponse.DIFF_SOME
    assert list(response.replaces) == ["description"]
