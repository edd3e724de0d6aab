"""Resolution of Texter's data-injection references in a request action's ``params.data``.

Two forms occur in the templates: an object ``{"##provide": {"provider": P, "key": K}}`` and a
string ``"%P:K%"``. Both become the referenced value. An unresolvable reference is an error,
not a silent null, so a template the simulator cannot fully render fails loudly in tests.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from simulator.samples import SELF_KEYS
from simulator.validation import index_path, key_path

PROVIDE = "##provide"
_STRING_REF = re.compile(r"%([A-Za-z_][A-Za-z0-9_]*):([A-Za-z0-9_.$-]+)%")


class RenderError(Exception):
    pass


def render(template: Any, entities: Mapping[str, Any], path: str = "data") -> Any:
    if isinstance(template, dict):
        if PROVIDE in template:
            return _resolve_provide(template, entities, path)
        return {k: render(v, entities, key_path(path, k)) for k, v in template.items()}
    if isinstance(template, list):
        return [render(v, entities, index_path(path, i)) for i, v in enumerate(template)]
    if isinstance(template, str):
        return _render_string(template, entities, path)
    return template


def _resolve_provide(obj: dict[str, Any], entities: Mapping[str, Any], path: str) -> Any:
    ref = obj[PROVIDE]
    if (
        len(obj) != 1
        or not isinstance(ref, dict)
        or not isinstance(ref.get("provider"), str)
        or not isinstance(ref.get("key"), str)
    ):
        raise RenderError(f"{path}: malformed {PROVIDE} reference")
    return resolve(entities, ref["provider"], ref["key"], path)


def _render_string(text: str, entities: Mapping[str, Any], path: str) -> Any:
    whole = _STRING_REF.fullmatch(text)
    if whole is not None:
        # A string that is only a reference takes the value's own JSON type (ids list, number).
        return resolve(entities, whole.group(1), whole.group(2), path)

    def substitute(match: re.Match[str]) -> str:
        value = resolve(entities, match.group(1), match.group(2), path)
        return value if isinstance(value, str) else json.dumps(value)

    return _STRING_REF.sub(substitute, text)


def resolve(entities: Mapping[str, Any], provider: str, key: str, path: str) -> Any:
    if provider not in entities:
        raise RenderError(f"{path}: unknown provider {provider!r} (key {key!r})")
    value = entities[provider]
    if key in (provider, SELF_KEYS.get(provider, provider)):
        return value
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            raise RenderError(f"{path}: provider {provider!r} has no key {key!r}")
        value = value[part]
    return value
