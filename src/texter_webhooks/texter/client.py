"""Texter subscription API client: typed errors, bounded retries, no token anywhere visible.

Retries (tenacity around one `requests` call):
- 429 waits for `Retry-After` (seconds or an HTTP date), else backs off;
- 5xx, timeouts and connection errors back off exponentially with jitter;
- all within one total deadline per call; other 4xx fail at once with Texter's message.

A create (import) is never blindly re-sent: after a 5xx, a timeout or a dropped connection
the scenario may exist, so the client raises AmbiguousWriteError and the caller looks the
scenario up by its marker (`find_by_marker`) before importing again. A 429 or a refused
connection is safe to retry: the request was not processed.
"""

from __future__ import annotations

import datetime
import email.utils
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar
from urllib.parse import urlsplit

import requests
import tenacity

from texter_webhooks.texter.errors import (
    AmbiguousWriteError,
    AuthError,
    ConflictError,
    ForbiddenError,
    IncompleteListingError,
    NotFoundError,
    RateLimitedError,
    TexterAPIError,
    UnavailableError,
    ValidationError,
)
from texter_webhooks.texter.scenario import scenario_description

T = TypeVar("T")

# The contract documents import and list only. The other paths are the project's best
# reading until confirmed on a live tenant: correct them here, in this one table.
ROUTES: dict[str, tuple[str, str]] = {
    "import": ("POST", "/scenarios/manage/import"),
    "list": ("GET", "/scenarios/manage"),
    "activate": ("POST", "/scenarios/manage/{id}/activate"),
    "inactivate": ("POST", "/scenarios/manage/{id}/inactivate"),
    "delete": ("DELETE", "/scenarios/manage/{id}"),
    "runs": ("GET", "/scenarios/manage/{id}/runs"),
    "update_draft": ("POST", "/scenarios/manage/{id}/draft"),
    "create_revision": ("POST", "/scenarios/manage/{id}/revisions"),
    "delete_revision": ("DELETE", "/scenarios/manage/{id}/revisions/{version}"),
}
# Writes Texter may acknowledge with a non-JSON 2xx (the plain text `OK` of its docs).
_BODYLESS_SUCCESS = frozenset({"activate", "inactivate", "delete", "delete_revision"})
# Safe to send again after an unknown outcome: they converge on the same state.
# (Not update_draft: its operations apply to whatever the draft holds, so a resent one
# could apply twice; nor create_revision, which publishes a new version each time.)
_IDEMPOTENT = {"list", "activate", "inactivate", "delete", "runs", "delete_revision"}
_ERRORS: dict[int, type[TexterAPIError]] = {
    400: ValidationError,
    401: AuthError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    422: ValidationError,
}
_STATUS_TEXT = {
    400: "Texter refused the request",
    401: "the token is missing, wrong or revoked",
    403: "the token lacks a scope this call needs",
    404: "not found",
    409: "conflicts with the scenario's current state",
    422: "Texter refused the request",
}


@dataclass(frozen=True)
class RetryPolicy:
    deadline: float = 60.0  # seconds for one call, retries and waits included
    backoff_initial: float = 0.5
    backoff_max: float = 8.0
    connect_timeout: float = 3.05
    read_timeout: float = 20.0


class _Retry(Exception):
    """One attempt failed in a way worth another, unless the deadline says otherwise."""

    def __init__(self, error: TexterAPIError, retry_after: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


class TexterClient:
    """Calls one Texter tenant. Thread-safe: each thread gets its own HTTP session."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        policy: RetryPolicy | None = None,
        user_agent: str = "texter-webhooks",
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"texter:baseUrl must be an http(s) URL, got {base_url!r}")
        if not token:
            raise ValueError("texter:token is empty")
        self.base_url = base_url.rstrip("/")
        self.__token = token
        self.policy = policy or RetryPolicy()
        self._user_agent = user_agent
        self._local = threading.local()

    def __repr__(self) -> str:
        return f"TexterClient(base_url={self.base_url!r}, token=<redacted>)"

    def __getstate__(self) -> dict[str, Any]:
        raise TypeError("TexterClient holds a token and must not be pickled")

    # --- endpoints -------------------------------------------------------------------

    def import_scenario(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """POST the import body; 201 -> the new Scenario. AmbiguousWriteError: look first."""
        return self._call("import", json_body=body)  # type: ignore[no-any-return]

    def list_scenarios(self, *, include_system: bool = False) -> list[dict[str, Any]]:
        params = {"includeSystem": "true"} if include_system else None
        page = self._call("list", params=params)
        scenarios: list[dict[str, Any]] = page.get("scenarios", [])
        total = page.get("total", len(scenarios))
        if isinstance(total, int) and total > len(scenarios):
            # Paging is undocumented. A partial list would make present scenarios look
            # deleted (refresh drops them, up duplicates them): refuse it.
            raise IncompleteListingError(
                "list",
                f"Texter listed {len(scenarios)} of {total} scenarios and paging is "
                "undocumented; nothing is assumed missing",
            )
        return scenarios

    def get_scenario(self, scenario_id: str) -> dict[str, Any] | None:
        """The scenario with this `_id`, or None: Texter has no single-get, so via list."""
        return next((s for s in self.list_scenarios() if s.get("_id") == scenario_id), None)

    def find_by_marker(self, marker: str) -> list[dict[str, Any]]:
        """Scenarios whose description carries `marker`, the text of one (`ownership.Marker`)."""
        return [s for s in self.list_scenarios() if marker in scenario_description(s)]

    def activate(
        self, scenario_id: str, *, author_uid: str | None = None, version: int | None = None
    ) -> dict[str, Any]:
        """Resumes the newest revision, or with `version` makes that one the running one
        (Texter's "revert to a version"; the one running before becomes inactive)."""
        body = {**(_author(author_uid) or {}), **({"version": version} if version else {})}
        return self._call("activate", scenario_id, json_body=body or None)  # type: ignore[no-any-return]

    def inactivate(self, scenario_id: str, *, author_uid: str | None = None) -> dict[str, Any]:
        return self._call("inactivate", scenario_id, json_body=_author(author_uid))  # type: ignore[no-any-return]

    def delete(self, scenario_id: str) -> dict[str, Any]:
        """Texter's answer: JSON when it gives one, else {} (an empty or `OK` 2xx)."""
        answer = self._call("delete", scenario_id)
        return answer if isinstance(answer, dict) else {}

    def update_draft(
        self, scenario_id: str, operations: Sequence[Mapping[str, Any]]
    ) -> dict[str, Any]:
        """Applies draft operations (docs/texter-api.md §1); the draft starts from the
        revision in force when there is none. AmbiguousWriteError: read the draft first."""
        return self._call(  # type: ignore[no-any-return]
            "update_draft", scenario_id, json_body={"operations": list(operations)}
        )

    def create_revision(self, scenario_id: str, comment: str) -> dict[str, Any]:
        """Publishes the draft as a new inactive revision; what runs does not change."""
        return self._call(  # type: ignore[no-any-return]
            "create_revision", scenario_id, json_body={"revisionComment": comment}
        )

    def delete_revision(self, scenario_id: str, version: int) -> dict[str, Any]:
        answer = self._call("delete_revision", scenario_id, version=version)
        return answer if isinstance(answer, dict) else {}

    def list_runs(self, scenario_id: str) -> list[dict[str, Any]]:
        page = self._call("runs", scenario_id)
        # `{total, runs[]}` as the simulator answers; a bare list is read the same.
        runs: list[dict[str, Any]] = page if isinstance(page, list) else page.get("runs", [])
        return runs

    # --- transport -------------------------------------------------------------------

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers.update({"Accept": "application/json", "User-Agent": self._user_agent})
            self._local.session = session
        return session

    def _call(
        self,
        operation: str,
        scenario_id: str | None = None,
        *,
        json_body: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
        version: int | None = None,
    ) -> Any:
        method, path = ROUTES[operation]
        url = self.base_url + path.format(id=scenario_id or "", version=version)
        started = time.monotonic()

        def attempt() -> Any:
            # The last attempt may not run past the deadline on a full read timeout.
            remaining = self.policy.deadline - (time.monotonic() - started)
            read_timeout = min(self.policy.read_timeout, max(remaining, 0.1))
            return self._attempt(operation, method, url, json_body, params, read_timeout)

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(_Retry),
            wait=_wait_for(self.policy),
            stop=_stop_at_deadline(self.policy.deadline, started),
            reraise=True,
        )
        try:
            return retrying(attempt)
        except _Retry as final:
            raise final.error from None

    def _attempt(
        self,
        operation: str,
        method: str,
        url: str,
        json_body: Mapping[str, Any] | None,
        params: Mapping[str, str] | None,
        read_timeout: float,
    ) -> Any:
        idempotent = operation in _IDEMPOTENT
        try:
            response = self._session().request(
                method,
                url,
                json=json_body,
                params=params,
                headers={"Authorization": f"Bearer {self.__token}"},
                timeout=(self.policy.connect_timeout, read_timeout),
            )
        except requests.ConnectionError as exc:
            # A refused connection never reached Texter; anything later may have.
            refused = isinstance(exc, requests.ConnectTimeout) or _refused(exc)
            host = urlsplit(url).netloc
            _transport_failure(
                operation,
                f"connection to {host} failed ({type(exc).__name__})",
                safe_to_resend=refused or idempotent,
            )
        except requests.Timeout:
            _transport_failure(
                operation, f"no answer within {read_timeout:g}s", safe_to_resend=idempotent
            )
        except requests.RequestException as exc:
            # e.g. the connection dropped mid-answer: sent, and maybe processed.
            _transport_failure(
                operation,
                f"the answer was cut off ({type(exc).__name__})",
                safe_to_resend=idempotent,
            )

        status = response.status_code
        if 200 <= status < 300:
            if status == 204 or not response.content:
                return {}
            try:
                return response.json()
            except ValueError:
                if operation in _BODYLESS_SUCCESS:
                    # Texter answers some writes with a plain `OK`: success, with no
                    # Scenario to read; callers verify by a listing (see provider).
                    return {}
                raise UnavailableError(
                    operation, "the answer was not JSON", status=status, detail=_excerpt(response)
                ) from None
        if status == 429:
            wait = _retry_after(response)
            return_after = "" if wait is None else f"; Texter asks to retry in {wait:.0f}s"
            if wait is not None:
                until = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=wait)
                return_after += f" (after {until:%Y-%m-%d %H:%M:%S} UTC)"
            raise _Retry(
                RateLimitedError(operation, f"rate limited{return_after}", status=status),
                retry_after=wait,
            )
        if status >= 500:
            if idempotent:
                raise _Retry(
                    UnavailableError(
                        operation, "Texter is unavailable", status=status, detail=_excerpt(response)
                    )
                )
            raise AmbiguousWriteError(
                operation, "the outcome is unknown", status=status, detail=_excerpt(response)
            )
        api_error = _ERRORS.get(status, TexterAPIError)
        raise api_error(
            operation,
            _STATUS_TEXT.get(status, "unexpected answer"),
            status=status,
            detail=_excerpt(response),
        )


def _transport_failure(operation: str, message: str, *, safe_to_resend: bool) -> NoReturn:
    """No usable answer: retry when sending again is harmless, else report an unknown outcome."""
    if safe_to_resend:
        raise _Retry(UnavailableError(operation, message))
    raise AmbiguousWriteError(operation, message)


def _author(author_uid: str | None) -> dict[str, str] | None:
    return {"authorUid": author_uid} if author_uid else None


def _refused(exc: requests.ConnectionError) -> bool:
    text = repr(exc)
    return "NewConnectionError" in text or "Connection refused" in text


def _excerpt(response: requests.Response) -> str:
    """Texter's own message when it sends one, else the start of the body."""
    try:
        payload = response.json()
    except ValueError:
        return response.text[:300]
    if isinstance(payload, dict):
        error = payload.get("error", payload)
        if isinstance(error, dict):
            return str(error.get("message") or error)[:500]
        return str(error)[:500]
    return str(payload)[:300]


def _retry_after(response: requests.Response) -> float | None:
    """Seconds to wait as `Retry-After` says (seconds or an HTTP date); None if unreadable."""
    value = (response.headers.get("Retry-After") or "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000": UTC by RFC 5322
        when = when.replace(tzinfo=datetime.UTC)
    return max(0.0, when.timestamp() - time.time())


def _wait_for(policy: RetryPolicy) -> Callable[[tenacity.RetryCallState], float]:
    jitter = tenacity.wait_random_exponential(
        multiplier=policy.backoff_initial, max=policy.backoff_max
    )

    def wait(state: tenacity.RetryCallState) -> float:
        outcome = state.outcome
        error = outcome.exception() if outcome is not None else None
        if isinstance(error, _Retry) and error.retry_after is not None:
            return error.retry_after
        return float(jitter(state))

    return wait


def _stop_at_deadline(deadline: float, started: float) -> Callable[[tenacity.RetryCallState], bool]:
    def stop(state: tenacity.RetryCallState) -> bool:
        # Stop when the next wait would end past the deadline: fail now, not later.
        upcoming = state.upcoming_sleep or 0.0
        return time.monotonic() - started + upcoming > deadline

    return stop
