"""Access to the Texter import templates used by the simulator tests.

They come from the library's catalog (its package data), the one copy the project has.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from texter_webhooks.texter import catalog

# Template-specific placeholders (events/INDEX.md) and values that make them valid.
EXTRA_PLACEHOLDERS = {"{{word1}}": "help", "{{word2}}": "support", "{{targetLabelId}}": "billing"}


def event_names() -> list[str]:
    names = sorted(catalog.event_names())
    assert names, "the catalog has no templates: the package data is missing"
    return names


def load_template(event_name: str) -> dict[str, Any]:
    return catalog.lookup(event_name).body_template()


def filled_template(event_name: str, url: str, **overrides: Any) -> dict[str, Any]:
    """The template ready to import: URL and template-specific placeholders filled in."""
    body = copy.deepcopy(load_template(event_name))
    body["data"]["actions"][0]["params"]["url"] = url
    text = json.dumps(body)
    for placeholder, value in EXTRA_PLACEHOLDERS.items():
        text = text.replace(placeholder, value)
    filled: dict[str, Any] = json.loads(text)
    filled.update(overrides)
    return filled
