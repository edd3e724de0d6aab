"""Start-up configuration: defaults, and a message naming each bad setting without its value."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from receiver.settings import (
    FileSinkSpec,
    NullSinkSpec,
    PubSubSinkSpec,
    SettingsError,
    load_settings,
)

SECRET = "a-good-secret-0123456789"
MINIMAL = {"RECEIVER_SECRET": SECRET, "RECEIVER_SINK": "null"}


def test_defaults_fit_the_container() -> None:
    settings = load_settings(MINIMAL)

    assert settings.host == "0.0.0.0"
    assert settings.port == 8080
    assert settings.max_body_bytes == 1024 * 1024
    assert settings.dedup_window_seconds == 600
    assert settings.log_level == "INFO"
    assert settings.secrets == (SECRET.encode(),)
    assert settings.hold_seconds == 25
    assert settings.header_timeout_seconds == 10
    assert settings.body_timeout_seconds == 30
    assert settings.max_header_bytes == 32 * 1024
    assert settings.max_connections == 1000


def test_every_setting_is_read() -> None:
    settings = load_settings(
        {
            "RECEIVER_SECRET": f" {SECRET} , second-secret-abcdefghij ",
            "RECEIVER_SINK": "file:/tmp/events.jsonl",
            "HOST": "127.0.0.1",
            "PORT": "9000",
            "RECEIVER_MAX_BODY_BYTES": "2048",
            "RECEIVER_DEDUP_WINDOW_SECONDS": "1.5",
            "RECEIVER_LOG_LEVEL": "debug",
            "RECEIVER_SHUTDOWN_TIMEOUT_SECONDS": "3",
            "RECEIVER_HOLD_SECONDS": "2.5",
            "RECEIVER_HEADER_TIMEOUT_SECONDS": "4",
            "RECEIVER_BODY_TIMEOUT_SECONDS": "6",
            "RECEIVER_MAX_HEADER_BYTES": "8192",
            "RECEIVER_MAX_CONNECTIONS": "50",
            "RECEIVER_DEDUP_MAX_KEYS": "500000",
        }
    )

    assert settings.secrets == (SECRET.encode(), b"second-secret-abcdefghij")
    assert settings.sink == FileSinkSpec(Path("/tmp/events.jsonl"))
    assert (settings.host, settings.port) == ("127.0.0.1", 9000)
    assert settings.max_body_bytes == 2048
    assert settings.dedup_window_seconds == 1.5
    assert settings.log_level == "DEBUG"
    assert settings.shutdown_timeout_seconds == 3
    assert settings.hold_seconds == 2.5
    assert (settings.header_timeout_seconds, settings.body_timeout_seconds) == (4, 6)
    assert (settings.max_header_bytes, settings.max_connections) == (8192, 50)
    assert settings.dedup_max_keys == 500_000


@pytest.mark.parametrize(
    ("value", "spec"),
    [
        ("null", NullSinkSpec()),
        ("file:relative/events.jsonl", FileSinkSpec(Path("relative/events.jsonl"))),
        (
            "pubsub:projects/my-project/topics/texter-events",
            PubSubSinkSpec("projects/my-project/topics/texter-events"),
        ),
    ],
)
def test_sinks_are_named_by_kind_and_target(value: str, spec: object) -> None:
    assert load_settings({**MINIMAL, "RECEIVER_SINK": value}).sink == spec


@pytest.mark.parametrize(
    ("changes", "name"),
    [
        ({"RECEIVER_SECRET": None}, "RECEIVER_SECRET"),
        ({"RECEIVER_SECRET": "  "}, "RECEIVER_SECRET"),
        ({"RECEIVER_SECRET": "short"}, "RECEIVER_SECRET"),
        ({"RECEIVER_SECRET": f"{SECRET},"}, "RECEIVER_SECRET"),
        ({"RECEIVER_SECRET": "has/a/slash/0123456789"}, "RECEIVER_SECRET"),
        ({"RECEIVER_SECRET": ",".join([SECRET] * 3)}, "RECEIVER_SECRET"),
        ({"RECEIVER_SINK": None}, "RECEIVER_SINK"),
        ({"RECEIVER_SINK": "file:"}, "RECEIVER_SINK"),
        ({"RECEIVER_SINK": "s3:bucket"}, "RECEIVER_SINK"),
        ({"RECEIVER_SINK": "pubsub:my-topic"}, "RECEIVER_SINK"),
        ({"RECEIVER_SINK": "pubsub:projects/p/topics/t"}, "RECEIVER_SINK"),
        ({"PORT": "http"}, "PORT"),
        ({"PORT": "0"}, "PORT"),
        ({"PORT": "65536"}, "PORT"),
        ({"HOST": ""}, "HOST"),
        ({"RECEIVER_MAX_BODY_BYTES": "1MiB"}, "RECEIVER_MAX_BODY_BYTES"),
        ({"RECEIVER_MAX_BODY_BYTES": "0"}, "RECEIVER_MAX_BODY_BYTES"),
        ({"RECEIVER_DEDUP_WINDOW_SECONDS": "-1"}, "RECEIVER_DEDUP_WINDOW_SECONDS"),
        ({"RECEIVER_DEDUP_WINDOW_SECONDS": "nan"}, "RECEIVER_DEDUP_WINDOW_SECONDS"),
        ({"RECEIVER_DEDUP_WINDOW_SECONDS": "inf"}, "RECEIVER_DEDUP_WINDOW_SECONDS"),
        ({"RECEIVER_DEDUP_WINDOW_SECONDS": "10m"}, "RECEIVER_DEDUP_WINDOW_SECONDS"),
        ({"RECEIVER_LOG_LEVEL": "LOUD"}, "RECEIVER_LOG_LEVEL"),
        ({"RECEIVER_SHUTDOWN_TIMEOUT_SECONDS": "0"}, "RECEIVER_SHUTDOWN_TIMEOUT_SECONDS"),
        ({"RECEIVER_HOLD_SECONDS": "0"}, "RECEIVER_HOLD_SECONDS"),
        ({"RECEIVER_HEADER_TIMEOUT_SECONDS": "0"}, "RECEIVER_HEADER_TIMEOUT_SECONDS"),
        ({"RECEIVER_BODY_TIMEOUT_SECONDS": "-1"}, "RECEIVER_BODY_TIMEOUT_SECONDS"),
        ({"RECEIVER_BODY_TIMEOUT_SECONDS": "inf"}, "RECEIVER_BODY_TIMEOUT_SECONDS"),
        ({"RECEIVER_MAX_HEADER_BYTES": "100"}, "RECEIVER_MAX_HEADER_BYTES"),
        ({"RECEIVER_MAX_CONNECTIONS": "0"}, "RECEIVER_MAX_CONNECTIONS"),
    ],
)
def test_a_missing_or_malformed_setting_is_named(changes: dict[str, str | None], name: str) -> None:
    merged = {**MINIMAL, **changes}
    environ = {key: value for key, value in merged.items() if value is not None}

    with pytest.raises(SettingsError) as raised:
        load_settings(environ)

    assert raised.value.name == name
    assert str(raised.value).startswith(f"{name}: ")


@pytest.mark.parametrize(
    "secrets",
    [
        "tiny-secret",
        "a-good-secret-0123456789,tiny-secret",
        "a-good-secret-0123456789,has spaces in the secret",
        "secret-with-a-%-sign-0123456789",
    ],
)
def test_a_bad_secret_is_never_echoed(secrets: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings({**MINIMAL, "RECEIVER_SECRET": secrets})

    for part in secrets.split(","):
        assert part not in str(raised.value)


def test_settings_do_not_show_the_secrets() -> None:
    assert SECRET not in repr(load_settings(MINIMAL))


def test_a_zero_dedup_window_is_allowed() -> None:
    settings = load_settings({**MINIMAL, "RECEIVER_DEDUP_WINDOW_SECONDS": "0"})

    assert settings.dedup_window_seconds == 0


@pytest.mark.anyio
async def test_the_app_holds_as_many_keys_as_the_setting_says() -> None:
    # Issue 22: the window was capped at 100,000 keys whatever the rate; now a setting.
    import httpx

    from receiver.app import create_app
    from receiver.settings import NullSinkSpec, Settings

    app = create_app(Settings(sink=NullSinkSpec(), secrets=(SECRET.encode(),), dedup_max_keys=10))
    await app.startup()
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://receiver") as client:

            async def status_of(n: int) -> str:
                body = json.dumps({"eventName": "chatAssigned", "eventData": {"n": n}})
                response = await client.post(
                    f"/hooks/{SECRET}", content=body, headers={"content-type": "application/json"}
                )
                assert response.status_code == 200
                return str(response.json()["status"])

            assert [await status_of(n) for n in range(30)] == ["accepted"] * 30
            # The 10 newest are held (a copy is a duplicate); the one before them went.
            assert await status_of(20) == "duplicate"
            assert await status_of(29) == "duplicate"
            assert await status_of(19) == "accepted"
    finally:
        await app.shutdown()
