"""Settings of one simulator instance, shared by the CLI and the in-process server."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from simulator.routes import build_routes
from simulator.scopes import ALL_SCOPES, normalize_scope

API_PREFIX = "/server/api/v2"
CONTROL_PREFIX = "/_sim/"


def parse_token_spec(spec: str) -> tuple[str, frozenset[str]]:
    """Parse ``VALUE`` (every scope) or ``VALUE:scope,scope`` (only those; may be empty).

    The value is split at the first colon: Texter tokens carry no colon, scope names never
    contain one, and ``VALUE:`` is the only way to ask for a token without any scope.
    """
    value, sep, scope_list = spec.partition(":")
    if not value or any(ch.isspace() for ch in value):
        raise ValueError("a token value must be non-empty and contain no whitespace")
    if not sep:
        return value, ALL_SCOPES
    names = [part for part in scope_list.split(",") if part.strip()]
    return value, frozenset(normalize_scope(name) for name in names)


def tokens_from_specs(specs: Iterable[str]) -> dict[str, frozenset[str]]:
    tokens: dict[str, frozenset[str]] = {}
    for spec in specs:
        value, scopes = parse_token_spec(spec)
        if value in tokens:
            raise ValueError("the same token value was given twice")
        tokens[value] = scopes
    return tokens


def generate_token() -> str:
    return "sim_" + secrets.token_urlsafe(24)


@dataclass(frozen=True)
class SimulatorConfig:
    """Behaviour switches. Defaults are the strict reading of the contract (see README)."""

    # token value -> granted short scope names; empty means "generate one with every scope".
    tokens: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # Fixed latency added to every API request (not to /_sim/ requests).
    latency_ms: int = 0
    # Activate-while-active / inactivate-while-inactive answer 200 instead of 409.
    idempotent_toggles: bool = False
    # Unknown fields in request bodies (import, activate, inactivate, copy) are ignored
    # instead of rejected with 400.
    lenient_import: bool = False
    # Unknown query parameters are ignored instead of rejected with 400.
    lenient_query: bool = False
    # Status for a scenario id that is not a 24-hex ObjectId (Texter is Mongo-backed and
    # would reject it as a bad id rather than report "not found").
    malformed_id_status: int = 400
    # JSON state file; None keeps everything in memory.
    state_path: Path | None = None
    # Timeout of each webhook POST made by /_sim/fire.
    fire_timeout_s: float = 10.0
    # Runs record each action's `output` ({status}); Texter documents `output` only "when
    # recorded", so False leaves it out, for readers that must not depend on it.
    record_action_output: bool = True
    # authorUid recorded when a request does not name one (Texter attributes it automatically).
    default_author_uid: str = "sim-api-token-user"
    # One line per request on stderr.
    log_requests: bool = True
    # Largest accepted request body.
    max_body_bytes: int = 5 * 1024 * 1024
    # Activate, inactivate, delete and delete_revision answer 200 with the text body `OK`
    # (text/plain) instead of JSON: Texter's docs show several endpoints answering a plain `OK`.
    plain_ok_replies: bool = False
    # Route name -> path template (relative to API_PREFIX, `{id}` for the scenario id and, for
    # delete_revision, `{version}` for the revision number) served
    # instead of the default, e.g. {"inactivate": "/scenarios/manage/{id}/pause"}: a stand-in
    # for a Texter whose routes differ from the client's.
    route_paths: Mapping[str, str] | None = None

    def __post_init__(self) -> None:
        if self.latency_ms < 0:
            raise ValueError("latency_ms must be >= 0")
        if self.malformed_id_status not in (400, 404):
            raise ValueError("malformed_id_status must be 400 or 404")
        for value, scopes in self.tokens.items():
            if not value:
                raise ValueError("token values must be non-empty")
            unknown = set(scopes) - ALL_SCOPES
            if unknown:
                raise ValueError(f"unknown scopes for a token: {sorted(unknown)}")
        build_routes(self.route_paths)  # raises ValueError naming a bad route or path
