"""Errors of the Texter layer. None of them ever carries a token."""

from __future__ import annotations


class TemplateError(ValueError):
    """A template, event name or placeholder value cannot make a valid import body."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


class TexterAPIError(Exception):
    """A Texter API call failed. `operation` names the call, e.g. `import` or `delete`."""

    def __init__(
        self, operation: str, message: str, *, status: int | None = None, detail: str = ""
    ) -> None:
        self.operation = operation
        self.status = status
        self.detail = detail
        where = f"HTTP {status}" if status is not None else "no response"
        text = f"Texter {operation} failed ({where}): {message}"
        super().__init__(f"{text}: {detail}" if detail else text)


class AuthError(TexterAPIError):
    """401: the token is missing, wrong or revoked."""


class ForbiddenError(TexterAPIError):
    """403: the token lacks a scope the call needs."""


class NotFoundError(TexterAPIError):
    """404: no such scenario (or route)."""


class ValidationError(TexterAPIError):
    """400/422: Texter refused the request body; `detail` is its own message."""


class ConflictError(TexterAPIError):
    """409: the scenario is not in a state the call applies to (e.g. already inactive)."""


class RateLimitedError(TexterAPIError):
    """429 until the deadline ran out."""


class UnavailableError(TexterAPIError):
    """5xx, timeouts or connection failures until the deadline ran out."""


class AmbiguousWriteError(UnavailableError):
    """A write was sent but its outcome is unknown (5xx, timeout, connection dropped).

    The write may have happened: the caller must look before writing again.
    """


class IncompleteListingError(TexterAPIError):
    """The list answered fewer scenarios than its `total`: absence cannot be concluded."""
