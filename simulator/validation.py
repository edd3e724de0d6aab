"""Request-body checks shared by every endpoint: JSON parsing and field-path error reporting.

Errors name the JSON path of the offending field (``data.actions[0].params.url: ...``) so a
client's failure is diagnosable from the 400 alone; every problem found is reported, not only
the first, joined by ``; `` in the one ``message`` string the error shape allows.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from simulator.errors import ApiError

PLACEHOLDER = re.compile(r"\{\{[^{}]*\}\}")


class Problems:
    """Collects ``path: message`` strings and turns them into one 400."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, path: str, message: str) -> None:
        self.items.append(f"{path}: {message}")

    def raise_if_any(self) -> None:
        if self.items:
            raise ApiError(400, "; ".join(self.items))


def key_path(parent: str, key: str) -> str:
    return f"{parent}.{key}" if parent else key


def index_path(parent: str, index: int) -> str:
    return f"{parent}[{index}]"


def is_int(value: object) -> bool:
    # bool is an int subclass in Python but never a number in JSON terms.
    return isinstance(value, int) and not isinstance(value, bool)


def check_unknown_keys(
    obj: dict[str, Any],
    allowed: Iterable[str],
    path: str,
    problems: Problems,
    *,
    lenient: bool,
) -> dict[str, Any]:
    """Reject (strict) or drop (lenient) keys outside ``allowed``; returns the kept mapping."""
    allowed_set = set(allowed)
    unknown = [key for key in obj if key not in allowed_set]
    if not lenient:
        for key in unknown:
            problems.add(key_path(path, key), "unknown field")
        return obj
    return {key: value for key, value in obj.items() if key in allowed_set}


def check_string(
    obj: dict[str, Any],
    key: str,
    path: str,
    problems: Problems,
    *,
    required: bool,
    max_len: int | None = None,
    non_blank: bool = False,
) -> None:
    field_path = key_path(path, key)
    if key not in obj:
        if required:
            problems.add(field_path, "is required")
        return
    value = obj[key]
    if not isinstance(value, str):
        problems.add(field_path, "must be a string")
    elif non_blank and not value.strip():
        problems.add(field_path, "must be a non-empty string")
    elif max_len is not None and len(value) > max_len:
        problems.add(field_path, f"must be at most {max_len} characters")


def check_positive_int(
    obj: dict[str, Any], key: str, path: str, problems: Problems, *, required: bool
) -> None:
    _check_int_from(obj, key, path, problems, required=required, minimum=(1, "a positive integer"))


def check_index(
    obj: dict[str, Any], key: str, path: str, problems: Problems, *, required: bool
) -> None:
    """A zero-based position in a list."""
    _check_int_from(
        obj, key, path, problems, required=required, minimum=(0, "a non-negative integer")
    )


def _check_int_from(
    obj: dict[str, Any],
    key: str,
    path: str,
    problems: Problems,
    *,
    required: bool,
    minimum: tuple[int, str],  # the lowest value allowed, and how a message names the range
) -> None:
    field_path = key_path(path, key)
    if key not in obj:
        if required:
            problems.add(field_path, "is required")
        return
    value = obj[key]
    lowest, described = minimum
    if not is_int(value) or value < lowest:
        problems.add(field_path, f"must be {described}")


def find_placeholders(value: Any, path: str) -> list[tuple[str, str]]:
    """Every ``(path, placeholder)`` of a ``{{...}}`` left in a string anywhere under value."""
    found: list[tuple[str, str]] = []
    if isinstance(value, str):
        found.extend((path, match) for match in PLACEHOLDER.findall(value))
    elif isinstance(value, dict):
        for key, item in value.items():
            found.extend(find_placeholders(item, key_path(path, str(key))))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(find_placeholders(item, index_path(path, index)))
    return found


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_json(raw: bytes, content_type: str | None, *, required: bool) -> Any:
    """Decode a JSON request body; ``None`` when the body is empty and not required.

    Strict on purpose: a non-JSON content type, duplicate keys and NaN/Infinity are 400s,
    because a client that depends on a lenient parser would break against a stricter Texter.
    """
    if not raw.strip():
        if required:
            raise ApiError(400, "body: a JSON object is required")
        return None
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        raise ApiError(400, "body: Content-Type must be application/json")
    try:
        text = raw.decode("utf-8")
        return json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_constant=_no_constants)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ApiError(400, f"body: invalid JSON ({exc})") from None


def require_object(value: Any, path: str = "body") -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ApiError(400, f"{path}: must be a JSON object")
    return value
