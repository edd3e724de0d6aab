"""Validation of the Import Subscription body (contract §4), as strict as Texter's.

Returns the body's parts only when everything is valid, so a scenario is never created from a
half-checked template.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from simulator.validation import (
    Problems,
    check_string,
    check_unknown_keys,
    find_placeholders,
    index_path,
    key_path,
    require_object,
)

AS_STATUSES = ("active", "inactive", "draft")
REQUEST_METHODS = ("post", "get", "put", "patch", "delete")
NAME_MAX = 200
DESCRIPTION_MAX = 2000

TOP_LEVEL_KEYS = ("data", "asStatus", "authorUid")
DATA_KEYS = (
    "version",
    "name",
    "description",
    "triggerEvents",
    "loaders",
    "conditions",
    "actions",
    "loops",
    "tags",
    "attachedData",
    "options",
)
LOADER_GROUPS = ("beforeConditions", "afterConditions")
LOADER_KEYS = ("name", "alias", "params", "confidentialData")
STEP_KEYS = ("name", "params", "confidentialData")
# A loop item is documented only as `{loop: {...}}` (contract §5): its inside is not checked.
LOOP_ITEM_KEYS = ("loop",)
# The templates show url, method, json and data; Texter's marketplace scenarios and the bot
# `request` function add headers (contract §4, S14). Anything else is [ND].
REQUEST_PARAM_KEYS = ("url", "method", "json", "data", "headers")
OPTION_KEYS = ("unorderedActions",)

# Request-action headers: an RFC 9110 token as the name, printable ASCII as the value (so it
# can never split a request or fail to encode when sent), within a cap per action.
HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
HEADER_VALUE = re.compile(r"(?:[\x21-\x7e](?:[\x20-\x7e\t]*[\x21-\x7e])?)?")
# Framing headers the HTTP client must compute itself: a given one would corrupt the request.
REFUSED_HEADERS = ("host", "content-length", "transfer-encoding")
HEADERS_MAX = 50
HEADER_NAME_MAX = 256
HEADER_VALUE_MAX = 8192
# Paths under which a value is a header value: never echoed in a message (it may be a secret).
HEADER_PATH_PART = ".params.headers."


@dataclass(frozen=True)
class ImportRequest:
    data: dict[str, Any]
    as_status: str
    author_uid: str | None


def validate_import(body: Any, *, lenient: bool) -> ImportRequest:
    problems = Problems()
    obj = check_unknown_keys(require_object(body), TOP_LEVEL_KEYS, "", problems, lenient=lenient)
    as_status = obj.get("asStatus", "active")
    if as_status not in AS_STATUSES:
        problems.add("asStatus", f"must be one of {', '.join(AS_STATUSES)}")
    check_string(obj, "authorUid", "", problems, required=False, non_blank=True)

    data: dict[str, Any] = {}
    if "data" not in obj:
        problems.add("data", "is required")
    elif not isinstance(obj["data"], dict):
        problems.add("data", "must be a JSON object")
    else:
        data = _validate_data(copy.deepcopy(obj["data"]), problems, lenient=lenient)

    problems.raise_if_any()
    author = obj.get("authorUid")
    return ImportRequest(data=data, as_status=as_status, author_uid=author)


def _validate_data(data: dict[str, Any], problems: Problems, *, lenient: bool) -> dict[str, Any]:
    data = check_unknown_keys(data, DATA_KEYS, "data", problems, lenient=lenient)
    if data.get("version") != "v1":
        problems.add("data.version", 'must be "v1"')
    check_string(data, "name", "data", problems, required=True, max_len=NAME_MAX, non_blank=True)
    check_string(data, "description", "data", problems, required=False, max_len=DESCRIPTION_MAX)
    _validate_trigger_events(data, problems)
    if "loaders" in data:
        data["loaders"] = _validate_loaders(data["loaders"], problems, lenient=lenient)
    if "conditions" in data:
        _validate_conditions(data["conditions"], problems, lenient=lenient)
    placeholder_paths = report_placeholders(data, "data", problems)
    _validate_actions(data, problems, placeholder_paths, lenient=lenient)
    if "loops" in data:
        data["loops"] = _validate_loops(data["loops"], problems, lenient=lenient)
    _validate_tags(data, problems)
    if "attachedData" in data and not isinstance(data["attachedData"], dict):
        problems.add("data.attachedData", "must be a JSON object")
    if "options" in data:
        data["options"] = _validate_options(data["options"], problems, lenient=lenient)
    return data


def _validate_trigger_events(data: dict[str, Any], problems: Problems) -> None:
    events = data.get("triggerEvents")
    if "triggerEvents" not in data:
        problems.add("data.triggerEvents", "is required")
    elif not isinstance(events, list) or not events:
        problems.add("data.triggerEvents", "must be a non-empty list of strings")
    else:
        for index, event in enumerate(events):
            if not isinstance(event, str) or not event.strip():
                problems.add(index_path("data.triggerEvents", index), "must be a non-empty string")


def _validate_loaders(loaders: Any, problems: Problems, *, lenient: bool) -> Any:
    if not isinstance(loaders, dict):
        problems.add("data.loaders", "must be a JSON object")
        return loaders
    loaders = check_unknown_keys(loaders, LOADER_GROUPS, "data.loaders", problems, lenient=lenient)
    for group in LOADER_GROUPS:
        if group not in loaders:
            continue
        group_path = key_path("data.loaders", group)
        items = loaders[group]
        if not isinstance(items, list):
            problems.add(group_path, "must be a list")
            continue
        for index, item in enumerate(items):
            validate_step(item, index_path(group_path, index), LOADER_KEYS, problems, lenient)
            if isinstance(item, dict):
                check_string(item, "alias", index_path(group_path, index), problems, required=False)
    return loaders


def _validate_conditions(conditions: Any, problems: Problems, *, lenient: bool) -> None:
    if not isinstance(conditions, list):
        problems.add("data.conditions", "must be a list of condition groups (lists)")
        return
    for group_index, group in enumerate(conditions):
        group_path = index_path("data.conditions", group_index)
        # An empty group has no defined meaning in AND-inside/OR-across semantics: reject it.
        if not isinstance(group, list) or not group:
            problems.add(group_path, "must be a non-empty list of conditions")
            continue
        for index, item in enumerate(group):
            validate_step(item, index_path(group_path, index), STEP_KEYS, problems, lenient)


def validate_step(
    item: Any, path: str, allowed: tuple[str, ...], problems: Problems, lenient: bool
) -> None:
    """A loader, condition or action item: ``{name, params, confidentialData?}``."""
    if not isinstance(item, dict):
        problems.add(path, "must be a JSON object")
        return
    if not lenient:
        check_unknown_keys(item, allowed, path, problems, lenient=False)
    check_string(item, "name", path, problems, required=True, non_blank=True)
    if "params" not in item:
        problems.add(key_path(path, "params"), "is required")
    elif not isinstance(item["params"], dict):
        problems.add(key_path(path, "params"), "must be a JSON object")
    if "confidentialData" in item and not isinstance(item["confidentialData"], bool):
        problems.add(key_path(path, "confidentialData"), "must be a boolean")


def _validate_actions(
    data: dict[str, Any], problems: Problems, placeholder_paths: set[str], *, lenient: bool
) -> None:
    actions = data.get("actions")
    if "actions" not in data:
        problems.add("data.actions", "is required")
        return
    if not isinstance(actions, list) or not actions:
        problems.add("data.actions", "must be a non-empty list of actions")
        return
    for index, action in enumerate(actions):
        validate_action(
            action, index_path("data.actions", index), problems, placeholder_paths, lenient=lenient
        )


def validate_action(
    action: Any, path: str, problems: Problems, placeholder_paths: set[str], *, lenient: bool
) -> None:
    """One action definition; ``placeholder_paths`` were already reported (no second message)."""
    validate_step(action, path, STEP_KEYS, problems, lenient)
    if (
        isinstance(action, dict)
        and action.get("name") == "request"
        and isinstance(action.get("params"), dict)
    ):
        _validate_request_params(
            action["params"], key_path(path, "params"), problems, placeholder_paths, lenient
        )


def _validate_request_params(
    params: dict[str, Any],
    path: str,
    problems: Problems,
    placeholder_paths: set[str],
    lenient: bool,
) -> None:
    if not lenient:
        check_unknown_keys(params, REQUEST_PARAM_KEYS, path, problems, lenient=False)
    url_path = key_path(path, "url")
    if "url" not in params:
        problems.add(url_path, "is required")
    elif url_path not in placeholder_paths and not is_absolute_http_url(params["url"]):
        problems.add(url_path, "must be an absolute http(s) URL")
    if params.get("method") not in REQUEST_METHODS:
        problems.add(key_path(path, "method"), f"must be one of {', '.join(REQUEST_METHODS)}")
    if "json" in params and not isinstance(params["json"], bool):
        problems.add(key_path(path, "json"), "must be a boolean")
    # `data` is the request body; Texter's docs show request actions without one.
    if "data" in params and not isinstance(params["data"], dict):
        problems.add(key_path(path, "data"), "must be a JSON object")
    if "headers" in params:
        _validate_headers(params["headers"], key_path(path, "headers"), problems)


def _validate_headers(headers: Any, path: str, problems: Problems) -> None:
    """Header names and values; a message names the header, never its value."""
    if not isinstance(headers, dict):
        problems.add(path, "must be a JSON object of header names to string values")
        return
    if len(headers) > HEADERS_MAX:
        problems.add(path, f"must hold at most {HEADERS_MAX} headers")
        return
    seen: set[str] = set()
    for name, value in headers.items():
        header_path = key_path(path, name)
        _validate_header_name(name, header_path, seen, problems)
        if not isinstance(value, str):
            problems.add(header_path, "must be a string")
        elif len(value) > HEADER_VALUE_MAX:
            problems.add(header_path, f"must be at most {HEADER_VALUE_MAX} characters")
        elif not is_header_value(value):
            problems.add(
                header_path,
                "must be printable ASCII without CR/LF or leading/trailing whitespace",
            )


def _validate_header_name(name: str, path: str, seen: set[str], problems: Problems) -> None:
    if len(name) > HEADER_NAME_MAX or not HEADER_NAME.fullmatch(name):
        problems.add(path, f"the name must be an HTTP token of at most {HEADER_NAME_MAX} chars")
    elif name.lower() in REFUSED_HEADERS:
        problems.add(path, "is set by the HTTP client and cannot be given")
    elif name.lower() in seen:
        problems.add(path, "is given twice (header names are case-insensitive)")
    seen.add(name.lower())


def is_header_value(value: Any) -> bool:
    return isinstance(value, str) and HEADER_VALUE.fullmatch(value) is not None


def _validate_loops(loops: Any, problems: Problems, *, lenient: bool) -> Any:
    if not isinstance(loops, list):
        problems.add("data.loops", "must be a list of {loop: {...}} objects")
        return loops
    return [
        validate_loop_item(item, index_path("data.loops", index), problems, lenient=lenient)
        for index, item in enumerate(loops)
    ]


def validate_loop_item(item: Any, path: str, problems: Problems, *, lenient: bool) -> Any:
    """A ``{loop: {...}}`` item; returns it without unknown keys when lenient."""
    if not isinstance(item, dict):
        problems.add(path, "must be a JSON object")
        return item
    item = check_unknown_keys(item, LOOP_ITEM_KEYS, path, problems, lenient=lenient)
    if "loop" not in item:
        problems.add(key_path(path, "loop"), "is required")
    elif not isinstance(item["loop"], dict):
        problems.add(key_path(path, "loop"), "must be a JSON object")
    return item


def _validate_tags(data: dict[str, Any], problems: Problems) -> None:
    if "tags" not in data:
        return
    tags = data["tags"]
    if not isinstance(tags, list):
        problems.add("data.tags", "must be a list of strings")
        return
    for index, tag in enumerate(tags):
        if not isinstance(tag, str):
            problems.add(index_path("data.tags", index), "must be a string")


def _validate_options(options: Any, problems: Problems, *, lenient: bool) -> Any:
    if not isinstance(options, dict):
        problems.add("data.options", "must be a JSON object")
        return options
    options = check_unknown_keys(options, OPTION_KEYS, "data.options", problems, lenient=lenient)
    if "unorderedActions" in options and not isinstance(options["unorderedActions"], bool):
        problems.add("data.options.unorderedActions", "must be a boolean")
    return options


def report_placeholders(value: Any, path: str, problems: Problems) -> set[str]:
    """Report every ``{{...}}`` under ``value``; returns the paths reported."""
    paths: set[str] = set()
    for found_path, placeholder in find_placeholders(value, path):
        if HEADER_PATH_PART in found_path:
            problems.add(found_path, "contains an unfilled {{...}} placeholder")
        else:
            problems.add(found_path, f"contains the unfilled placeholder {placeholder}")
        paths.add(found_path)
    return paths


def is_absolute_http_url(value: Any) -> bool:
    if not isinstance(value, str) or not value or any(ch.isspace() for ch in value):
        return False
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises ValueError for a malformed port
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)
