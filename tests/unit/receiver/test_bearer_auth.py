"""SecretMatcher's Authorization check: what it takes, what it refuses, and how it says so."""

from __future__ import annotations

import pytest

from receiver.auth import SecretMatcher, bearer_token

CURRENT = b"current-secret-0123456789"
PREVIOUS = b"previous-secret-abcdefghij"


@pytest.fixture
def matcher() -> SecretMatcher:
    return SecretMatcher([CURRENT, PREVIOUS])


@pytest.mark.parametrize(
    ("credentials", "token"),
    [
        (b"Bearer abc", b"abc"),
        (b"bearer abc", b"abc"),
        (b"BEARER abc", b"abc"),
        # What follows the one space is the token, spaces and all: it then matches nothing.
        (b"Bearer  abc", b" abc"),
        (b"Bearer abc ", b"abc "),
        (b"Bearer ", b""),
        (b"Bearer", None),
        (b"Bearer\tabc", None),
        (b"Bearerabc", None),
        (b"Basic abc", None),
        (b"abc", None),
        (b"", None),
        (b"\xff\xfe\xfd\xfc\xfb\xfa\xf9 abc", None),
    ],
)
def test_the_token_is_what_follows_bearer_and_one_space(
    credentials: bytes, token: bytes | None
) -> None:
    assert bearer_token(credentials) == token


@pytest.mark.parametrize("secret", [CURRENT, PREVIOUS])
@pytest.mark.parametrize("required", [True, False])
def test_one_bearer_token_matching_either_secret_passes(
    matcher: SecretMatcher, secret: bytes, required: bool
) -> None:
    assert matcher.credentials_problem([b"Bearer " + secret], required=required) is None


def test_no_header_passes_only_when_none_is_required(matcher: SecretMatcher) -> None:
    assert matcher.credentials_problem([], required=False) is None
    assert matcher.credentials_problem([], required=True) == "no Authorization header"


@pytest.mark.parametrize(
    ("credentials", "problem"),
    [
        ([b"Bearer " + CURRENT] * 2, "more than one Authorization header"),
        ([b"Bearer " + CURRENT, b"Bearer " + PREVIOUS], "more than one Authorization header"),
        ([b"Basic " + CURRENT], "not a well-formed Bearer credential"),
        ([b"Bearer"], "not a well-formed Bearer credential"),
        ([b"Bearer "], "not a well-formed Bearer credential"),
        ([b"Bearer  " + CURRENT], "not a well-formed Bearer credential"),
        ([b"Bearer " + CURRENT + b" "], "not a well-formed Bearer credential"),
        ([b"Bearer " + CURRENT + b"\xff"], "not a well-formed Bearer credential"),
        ([b"Bearer " + CURRENT[:-1]], "the bearer token matches no secret"),
        ([b"Bearer " + CURRENT.upper()], "the bearer token matches no secret"),
        ([b"Bearer " + CURRENT + PREVIOUS], "the bearer token matches no secret"),
    ],
)
@pytest.mark.parametrize("required", [True, False])
def test_anything_else_is_refused_with_a_reason_that_never_quotes_it(
    matcher: SecretMatcher, credentials: list[bytes], problem: str, required: bool
) -> None:
    reason = matcher.credentials_problem(credentials, required=required)

    assert reason == problem
    assert CURRENT.decode() not in reason
    assert PREVIOUS.decode() not in reason


@pytest.mark.parametrize(
    ("candidate", "matched"),
    [(CURRENT, True), (PREVIOUS, True), (b"", False), (CURRENT[:-1], False), (b"\xff" * 25, False)],
)
def test_bytes_match_only_a_secret_exactly(
    matcher: SecretMatcher, candidate: bytes, matched: bool
) -> None:
    assert matcher.matches(candidate) is matched
