"""Bearer-token authentication (401) and scope authorisation (403)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from simulator import scopes
from simulator.errors import ApiError

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="texter"'}


def authenticate(authorization: str | None, tokens: Mapping[str, frozenset[str]]) -> frozenset[str]:
    """The scopes of the presented token; 401 when the header is absent, malformed or unknown.

    The token value never appears in a message, since error bodies end up in logs.
    """
    if not authorization:
        raise ApiError(401, "missing Authorization header (expected: Bearer <token>)", _CHALLENGE)
    scheme, _, value = authorization.strip().partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value:
        raise ApiError(401, "malformed Authorization header (expected: Bearer <token>)", _CHALLENGE)
    granted = tokens.get(value)
    if granted is None:
        raise ApiError(401, "invalid or revoked API token", _CHALLENGE)
    return granted


def authorize(granted: Iterable[str], required: Iterable[str]) -> None:
    missing = scopes.missing_scopes(granted, required)
    if missing:
        raise ApiError(403, f"token is missing required scope(s): {scopes.describe(missing)}")
