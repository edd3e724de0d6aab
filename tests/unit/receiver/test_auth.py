"""The URL secret: any configured one matches, nothing else does, and none reaches a log."""

from __future__ import annotations

import pytest

from receiver.auth import SecretMatcher

CURRENT = b"current-secret-0123456789"
PREVIOUS = b"previous-secret-abcdefghij"


@pytest.fixture
def matcher() -> SecretMatcher:
    return SecretMatcher([CURRENT, PREVIOUS])


def test_each_configured_secret_matches(matcher: SecretMatcher) -> None:
    assert matcher.matches(CURRENT.decode())
    assert matcher.matches(PREVIOUS.decode())


@pytest.mark.parametrize(
    "candidate",
    ["", "current-secret-012345678", "current-secret-01234567890", "é" * 25, "\ud800", "\x00"],
)
def test_anything_else_does_not_match_and_does_not_raise(
    matcher: SecretMatcher, candidate: str
) -> None:
    assert not matcher.matches(candidate)


def test_at_least_one_secret_is_required() -> None:
    with pytest.raises(ValueError, match="at least one secret"):
        SecretMatcher([])


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/hooks/current-secret-0123456789", "/hooks/<redacted>"),
        ("/hooks/anything/else", "/hooks/<redacted>"),
        ("/hook/current-secret-0123456789", "/hook/<redacted>"),
        ("/x/previous-secret-abcdefghij/y", "/x/<redacted>/y"),
        ("/healthz", "/healthz"),
    ],
)
def test_logged_paths_never_hold_a_secret(matcher: SecretMatcher, path: str, logged: str) -> None:
    assert matcher.redact_path(path) == logged


def test_long_logged_paths_are_cut(matcher: SecretMatcher) -> None:
    assert len(matcher.redact_path("/" + "x" * 10_000)) < 300


@pytest.mark.parametrize("order", ["new,old", "old,new"])
def test_a_secret_holding_the_other_is_redacted_whole(order: str) -> None:
    # Issue 22: with NEW,OLD where OLD contains NEW, NEW was replaced first and the log
    # showed the rest of OLD.
    new = "shared-part-0123456789"
    old = new + "-and-the-old-tail"
    secrets = [new, old] if order == "new,old" else [old, new]
    matcher = SecretMatcher([secret.encode() for secret in secrets])

    logged = matcher.redact_path(f"/mistyped/{old}")

    assert logged == "/mistyped/<redacted>"
