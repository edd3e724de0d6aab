"""The secret, in the webhook URL's path or an `Authorization: Bearer` header: checked in
constant time, and kept out of every log line."""

from __future__ import annotations

import hmac
import re
from collections.abc import Sequence

# The path form: the secret is the segment after the prefix.
HOOKS_PREFIX = "/hooks/"
# The header form: the URL holds no secret, so it may show anywhere.
HOOKS_PATH = "/hooks"
REDACTED_HOOK_PATH = "/hooks/<redacted>"
_MAX_LOGGED_PATH_CHARS = 200
# The scheme is case-insensitive (RFC 9110 11.1); exactly one space before the token, as every
# sender writes it: a single form leaves nothing to normalise before the comparison.
_BEARER = b"bearer "
_BEARER_LENGTH = len(_BEARER)
# RFC 6750 2.1's b64token: only used to word a refusal in the log, never to accept.
_B64TOKEN = re.compile(rb"[A-Za-z0-9._~+/-]+=*")


class SecretMatcher:
    def __init__(self, secrets: Sequence[bytes]) -> None:
        if not secrets:
            raise ValueError("at least one secret is required")
        self._secrets = tuple(secrets)
        # Longest first: while rotating, one secret may hold the other, and replacing the
        # shorter first would leave the rest of the longer one in the log.
        self._secret_texts = tuple(
            sorted((secret.decode("ascii") for secret in secrets), key=len, reverse=True)
        )

    def matches(self, candidate: str | bytes) -> bool:
        """Whether a path segment (percent-decoded) or a bearer token (as sent) is a secret:
        the one comparison both forms go through."""
        if isinstance(candidate, str):
            # surrogatepass: a percent-decoded path may hold any code point, and must not raise.
            candidate = candidate.encode("utf-8", "surrogatepass")
        matched = False
        # Every secret is compared, so the time taken does not tell which one matched.
        for secret in self._secrets:
            matched |= hmac.compare_digest(candidate, secret)
        return matched

    def credentials_problem(self, credentials: Sequence[bytes], *, required: bool) -> str | None:
        """Why a request's Authorization header values refuse it, for the log; None if they
        do not. None are fine unless `required`; one must be a Bearer token matching a secret;
        two are refused, as no one can say which counts. Never quotes a value."""
        if not credentials:
            return "no Authorization header" if required else None
        if len(credentials) > 1:
            return "more than one Authorization header"
        token = bearer_token(credentials[0])
        if token is not None and self.matches(token):
            return None
        if token is None or not _B64TOKEN.fullmatch(token):
            return "not a well-formed Bearer credential"
        return "the bearer token matches no secret"

    def redact_path(self, path: str) -> str:
        """The path as it may be logged."""
        if path.startswith(HOOKS_PREFIX):
            return REDACTED_HOOK_PATH
        # A sender that mistyped the route may still have put a secret in it.
        for secret in self._secret_texts:
            if secret in path:
                path = path.replace(secret, "<redacted>")
        if len(path) > _MAX_LOGGED_PATH_CHARS:
            return path[:_MAX_LOGGED_PATH_CHARS] + "..."
        return path


def bearer_token(credentials: bytes) -> bytes | None:
    """The token of `Bearer <token>` (its bytes after the one space), or None."""
    if credentials[:_BEARER_LENGTH].lower() == _BEARER:
        return credentials[_BEARER_LENGTH:]
    return None
