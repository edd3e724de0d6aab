"""Template + URL + overrides -> the Import Subscription body, and its canonical form.

The canonical form (sorted keys, no whitespace) is what diffs and hashes compare, so a
template that only re-orders keys is no change.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from texter_webhooks.texter.catalog import URL_PLACEHOLDER, EventSpec, lookup
from texter_webhooks.texter.errors import TemplateError
from texter_webhooks.texter.inputs import STATUSES

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
_LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}
# RFC 6750's b64token: what may follow `Bearer ` in an Authorization header.
_BEARER_TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
AUTHORIZATION = "Authorization"
# How every subscription's name starts (the catalog's templates, docs/texter-api.md §4).
SUBSCRIPTION_PREFIX = "(SUB) "


@dataclass(frozen=True)
class BodySpec:
    """Everything that decides the import body, as the resource's inputs give it."""

    url: str
    event: str | None = None
    template: Mapping[str, Any] | None = None
    display_name: str | None = None
    description: str | None = None
    placeholders: Mapping[str, str] | None = None
    status: str = "active"
    author_uid: str | None = None
    bearer_token: str | None = None


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_hash(value: Any) -> str:
    """SHA-256 of any JSON value's canonical form: equal for values that differ only in
    key order. What it is a hash *of* is the caller's: `content.content_hash` hashes a
    body's content (marker out, empty defaults dropped), the provider compares inputs."""
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()


def validate_url(url: str) -> None:
    """An absolute URL Texter can call: https, or http to a loopback host (local stack)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TemplateError(
            f"url must be an absolute http(s) URL, got {mask_url(url)!r}", field="url"
        )
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK_HOSTS:
        raise TemplateError(
            f"url must use https (http is only for loopback hosts), got {mask_url(url)!r}",
            field="url",
        )


def mask_url(url: str) -> str:
    """The URL without its path, query and credentials: the receiver secret lives there."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.hostname:
        return "<not a URL>"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}/***"


_URL_IN_TEXT = re.compile(r"(https?://[^\s/'\"]+)/[^\s'\"]*")
_PATH_IN_TEXT = re.compile(r"(/hooks/)[^\s'\"]+")


def redact_urls(text: str) -> str:
    """Text (an error from Texter or requests) with every URL path masked: a receiver URL
    carries its secret in the path, and error messages like to quote it."""
    return _PATH_IN_TEXT.sub(r"\1***", _URL_IN_TEXT.sub(r"\1/***", text))


def spec_template(spec: BodySpec) -> tuple[dict[str, Any], EventSpec | None]:
    """The starting template: a catalog event's, or the user's own full body."""
    if spec.template is not None:
        if spec.event is not None:
            raise TemplateError("give either event or template, not both", field="template")
        return _checked_custom_template(spec.template), None
    if spec.event is None:
        raise TemplateError("one of event or template is required", field="event")
    event = lookup(spec.event)
    return event.body_template(), event


def render(spec: BodySpec, *, stack: str) -> dict[str, Any]:
    """The import body for `spec`: every placeholder filled, or a TemplateError."""
    if spec.status not in STATUSES:
        raise TemplateError(
            f"status must be one of {', '.join(STATUSES)}, got {spec.status!r}", field="status"
        )
    validate_url(spec.url)
    body, event = spec_template(spec)
    data = body["data"]
    values = dict(spec.placeholders or {})

    parameters = event.parameters if event else {}
    for name, path in parameters.items():
        if name in values:
            _set_path(body, path, values.pop(name))
    values[URL_PLACEHOLDER] = spec.url
    known = set(_placeholders_in(body)) | set(parameters)
    unknown = sorted(set(values) - known)
    if unknown:
        raise TemplateError(
            f"unknown placeholder(s) {', '.join(unknown)}; this template takes "
            + (", ".join(sorted(known - {URL_PLACEHOLDER})) or "none besides the URL"),
            field="placeholders",
        )
    body = dict(_fill(body, values))
    missing = sorted(set(_placeholders_in(body)))
    if missing:
        raise TemplateError(
            f"placeholder(s) without a value: {', '.join(missing)}", field="placeholders"
        )

    data = body["data"]
    base_name = spec.display_name or f"{data['name']} [{stack}]"
    # The Texter UI tells subscriptions from other scenarios by this prefix: keep it.
    if not base_name.startswith(SUBSCRIPTION_PREFIX):
        base_name = SUBSCRIPTION_PREFIX + base_name
    data["name"] = base_name
    data["description"] = (
        spec.description if spec.description is not None else data.get("description", "")
    )
    if spec.bearer_token is not None:
        _send_bearer_token(body, spec.bearer_token)
    body["asStatus"] = spec.status
    if spec.author_uid:
        body["authorUid"] = spec.author_uid
    else:
        body.pop("authorUid", None)
    return body


def _send_bearer_token(body: dict[str, Any], token: str) -> None:
    """Every request action sends `Authorization: Bearer <token>`."""
    if not _BEARER_TOKEN.fullmatch(token):
        raise TemplateError(
            "bearer_token must be a non-empty RFC 6750 token "
            "(A-Z a-z 0-9 - . _ ~ + /, then optional =)",
            field="bearer_token",
        )
    for params in _request_params(body):
        headers = {
            name: value
            for name, value in (params.get("headers") or {}).items()
            if name.lower() != AUTHORIZATION.lower()
        }
        params["headers"] = {**headers, AUTHORIZATION: f"Bearer {token}"}


def _request_params(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        action["params"]
        for action in body.get("data", {}).get("actions", [])
        if isinstance(action, dict) and action.get("name") == "request"
    ]


def request_urls(body: Mapping[str, Any]) -> list[str]:
    """The URLs of the body's request actions (what Texter will call)."""
    return [params["url"] for params in _request_params(body)]


def masked(body: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the body that is safe to show: request URLs and header values masked."""
    shown = copy.deepcopy(dict(body))
    for params in _request_params(shown):
        params["url"] = mask_url(params["url"])
        if isinstance(params.get("headers"), dict):
            params["headers"] = dict.fromkeys(params["headers"], "***")
    return shown


def _checked_custom_template(template: Mapping[str, Any]) -> dict[str, Any]:
    body = copy.deepcopy(dict(template))
    data = body.get("data")
    if not isinstance(data, dict):
        raise TemplateError(
            "template must be an import body with a `data` object", field="template"
        )
    for key in ("name", "triggerEvents", "actions"):
        if key not in data:
            raise TemplateError(f"template.data.{key} is required", field="template")
    urls = request_urls(body)
    if not urls:
        raise TemplateError("template needs at least one `request` action", field="template")
    placeholder = "{{" + URL_PLACEHOLDER + "}}"
    if any(url != placeholder for url in urls):
        raise TemplateError(
            f"every request action's url in a template must be {placeholder}: "
            "the receiver URL is filled in by the resource",
            field="template",
        )
    # Anywhere else the URL (and its secret) would land unmasked in outputs and previews.
    elsewhere = copy.deepcopy(body)
    for action in elsewhere["data"]["actions"]:
        if isinstance(action, dict) and action.get("name") == "request":
            action["params"]["url"] = ""
    if URL_PLACEHOLDER in set(_placeholders_in(elsewhere)):
        raise TemplateError(
            f"{placeholder} may only be a request action's url, not elsewhere in a template",
            field="template",
        )
    return body


def _placeholders_in(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield from _PLACEHOLDER.findall(value)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _placeholders_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from _placeholders_in(item)


def _fill(value: Any, values: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), value)
    if isinstance(value, dict):
        return {key: _fill(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill(item, values) for item in value]
    return value


def _set_path(body: dict[str, Any], path: tuple[str | int, ...], value: str) -> None:
    target: Any = body
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
