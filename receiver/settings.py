"""The receiver's configuration, read once from the environment and checked before start-up."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

# Cloud Run injects PORT; 8080 is its documented default.
DEFAULT_PORT = 8080
# The container must listen on every interface; local runs pass HOST=127.0.0.1.
DEFAULT_HOST = "0.0.0.0"  # noqa: S104
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
DEFAULT_DEDUP_WINDOW_SECONDS = 600.0
# Keys the deduplication window holds at most (~175 bytes each: 17.5 MB). The whole window
# holds up to this many deliveries per window (167 a second at the defaults); past that the
# oldest keys go first, and a copy arriving later than that is stored again.
DEFAULT_DEDUP_MAX_KEYS = 100_000
DEFAULT_LOG_LEVEL = "INFO"
# Cloud Run sends SIGKILL 10 s after SIGTERM: leave room for the sink to close.
DEFAULT_SHUTDOWN_TIMEOUT_SECONDS = 8
# How long a delivery is held while its sink cannot take it (Pub/Sub is retried meanwhile)
# before it is answered 503. Texter documents no retry, so a 503 may be a lost event: hold for
# as long as the sender will wait. Texter's request timeout is not documented; 25 s stays
# below the 30 s common to HTTP clients and below the Cloud Run service's request timeout
# (30 s by default in this project, `requestTimeoutSeconds`), past which Cloud Run answers
# for the receiver.
DEFAULT_HOLD_SECONDS = 25.0
# Limits on reading a request, for when no front end enforces them (see docs/receiver.md): a
# request head must arrive within this long of the connection opening (or of its first byte on
# a reused connection), and its body within this long of the head.
DEFAULT_HEADER_TIMEOUT_SECONDS = 10.0
DEFAULT_BODY_TIMEOUT_SECONDS = 30.0
# Request line and headers together; past it, 431. Texter's are well under 4 KiB, and Cloud
# Run's front end adds about 1 KiB of its own.
DEFAULT_MAX_HEADER_BYTES = 32 * 1024
# Connections open at once; past it a new one is closed at once. Cloud Run sends at most
# its concurrency setting (80 by default) requests at a time to an instance.
DEFAULT_MAX_CONNECTIONS = 1000

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# The one in use and the one being rotated in (or out).
MAX_SECRETS = 2
# A secret travels in the URL path or as a Bearer token: characters that never need
# percent-encoding, all of them RFC 6750 b64token characters.
_SECRET_RE = re.compile(r"[A-Za-z0-9._~-]{16,256}")
_TOPIC_RE = re.compile(
    r"projects/[a-z][a-z0-9-]{4,28}[a-z0-9]/topics/[A-Za-z][A-Za-z0-9._~%+-]{2,254}"
)


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names it and never carries its value."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"{name}: {problem}")
        self.name = name


@dataclass(frozen=True)
class FileSinkSpec:
    path: Path


@dataclass(frozen=True)
class PubSubSinkSpec:
    topic: str


@dataclass(frozen=True)
class NullSinkSpec:
    pass


SinkSpec = FileSinkSpec | PubSubSinkSpec | NullSinkSpec


@dataclass(frozen=True)
class Settings:
    sink: SinkSpec
    # repr=False: a logged or printed Settings must not leak them.
    secrets: tuple[bytes, ...] = field(repr=False)
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    dedup_window_seconds: float = DEFAULT_DEDUP_WINDOW_SECONDS
    dedup_max_keys: int = DEFAULT_DEDUP_MAX_KEYS
    log_level: str = DEFAULT_LOG_LEVEL
    shutdown_timeout_seconds: int = DEFAULT_SHUTDOWN_TIMEOUT_SECONDS
    hold_seconds: float = DEFAULT_HOLD_SECONDS
    header_timeout_seconds: float = DEFAULT_HEADER_TIMEOUT_SECONDS
    body_timeout_seconds: float = DEFAULT_BODY_TIMEOUT_SECONDS
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES
    max_connections: int = DEFAULT_MAX_CONNECTIONS


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Every setting from `environ`; raises SettingsError for the first bad one."""
    return Settings(
        secrets=_secrets(environ),
        sink=_sink(environ),
        host=_host(environ),
        port=_int(environ, "PORT", DEFAULT_PORT, minimum=1, maximum=65535),
        max_body_bytes=_int(environ, "RECEIVER_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES, minimum=1),
        dedup_window_seconds=_seconds(
            environ, "RECEIVER_DEDUP_WINDOW_SECONDS", DEFAULT_DEDUP_WINDOW_SECONDS
        ),
        dedup_max_keys=_int(environ, "RECEIVER_DEDUP_MAX_KEYS", DEFAULT_DEDUP_MAX_KEYS, minimum=2),
        log_level=_log_level(environ),
        shutdown_timeout_seconds=_int(
            environ,
            "RECEIVER_SHUTDOWN_TIMEOUT_SECONDS",
            DEFAULT_SHUTDOWN_TIMEOUT_SECONDS,
            minimum=1,
        ),
        hold_seconds=_seconds(
            environ, "RECEIVER_HOLD_SECONDS", DEFAULT_HOLD_SECONDS, positive=True
        ),
        header_timeout_seconds=_seconds(
            environ,
            "RECEIVER_HEADER_TIMEOUT_SECONDS",
            DEFAULT_HEADER_TIMEOUT_SECONDS,
            positive=True,
        ),
        body_timeout_seconds=_seconds(
            environ, "RECEIVER_BODY_TIMEOUT_SECONDS", DEFAULT_BODY_TIMEOUT_SECONDS, positive=True
        ),
        max_header_bytes=_int(
            environ, "RECEIVER_MAX_HEADER_BYTES", DEFAULT_MAX_HEADER_BYTES, minimum=1024
        ),
        max_connections=_int(
            environ, "RECEIVER_MAX_CONNECTIONS", DEFAULT_MAX_CONNECTIONS, minimum=1
        ),
    )


def _secrets(environ: Mapping[str, str]) -> tuple[bytes, ...]:
    name = "RECEIVER_SECRET"
    raw = environ.get(name, "")
    if not raw.strip():
        raise SettingsError(name, "is required (one secret, or two separated by a comma)")
    parts = [part.strip() for part in raw.split(",")]
    if len(parts) > MAX_SECRETS:
        raise SettingsError(name, "holds more than two secrets (one, or two while rotating)")
    for position, part in enumerate(parts, start=1):
        if not _SECRET_RE.fullmatch(part):
            raise SettingsError(
                name,
                f"secret #{position} must be 16 to 256 characters of A-Z a-z 0-9 . _ ~ -",
            )
    return tuple(part.encode("ascii") for part in parts)


def _sink(environ: Mapping[str, str]) -> SinkSpec:
    name = "RECEIVER_SINK"
    raw = environ.get(name, "").strip()
    kind, _, target = raw.partition(":")
    if kind == "file" and target:
        return FileSinkSpec(Path(target))
    if kind == "pubsub" and _TOPIC_RE.fullmatch(target):
        return PubSubSinkSpec(target)
    if raw == "null":
        return NullSinkSpec()
    if not raw:
        problem = "is required"
    elif kind == "pubsub":
        problem = "must be pubsub:projects/PROJECT/topics/TOPIC"
    elif kind == "file":
        problem = "must be file:PATH"
    else:
        problem = "must be file:PATH, pubsub:projects/PROJECT/topics/TOPIC or null"
    raise SettingsError(name, f"{problem} (got {raw!r})" if raw else problem)


def _host(environ: Mapping[str, str]) -> str:
    host = environ.get("HOST", DEFAULT_HOST).strip()
    if not host or any(char.isspace() for char in host):
        raise SettingsError("HOST", "must be an interface address such as 127.0.0.1")
    return host


def _int(
    environ: Mapping[str, str],
    name: str,
    default: int,
    *,
    minimum: int,
    maximum: int | None = None,
) -> int:
    raw = environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise SettingsError(name, f"must be an integer (got {raw!r})") from None
    if value < minimum or (maximum is not None and value > maximum):
        bounds = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise SettingsError(name, f"must be {bounds} (got {value})")
    return value


def _seconds(
    environ: Mapping[str, str], name: str, default: float, *, positive: bool = False
) -> float:
    raw = environ.get(name)
    if raw is None:
        return default
    try:
        value = float(raw.strip())
    except ValueError:
        raise SettingsError(name, f"must be a number of seconds (got {raw!r})") from None
    # `not >= 0` also catches NaN.
    if not value >= 0 or value == float("inf"):
        raise SettingsError(name, f"must be a finite number >= 0 (got {raw!r})")
    if positive and value == 0:
        raise SettingsError(name, f"must be a finite number > 0 (got {raw!r})")
    return value


def _log_level(environ: Mapping[str, str]) -> str:
    name = "RECEIVER_LOG_LEVEL"
    level = environ.get(name, DEFAULT_LOG_LEVEL).strip().upper()
    if level not in LOG_LEVELS:
        raise SettingsError(name, f"must be one of {', '.join(LOG_LEVELS)}")
    return level
