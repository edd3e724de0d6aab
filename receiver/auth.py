"""The secret in the webhook URL: checked in constant time, and kept out of every log line."""

from __future__ import annotations

import hmac
from collections.abc import Sequence

HOOKS_PREFIX = "/hooks/"
REDACTED_HOOK_PATH = "/hooks/<redacted>"
_MAX_LOGGED_PATH_CHARS = 200


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

    def matches(self, candidate: str) -> bool:
        # surrogatepass: a percent-decoded path may hold any code point, and must not raise.
        candidate_bytes = candidate.encode("utf-8", "surrogatepass")
        matched = False
        # Every secret is compared, so the time taken does not tell which one matched.
        for secret in self._secrets:
            matched |= hmac.compare_digest(candidate_bytes, secret)
        return matched

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
