"""Access to the Texter import templates used by the simulator tests.

EVENTS_DIR is the one place naming where they come from: the project's own copy.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

EVENTS_DIR = Path(__file__).resolve().parents[3] / "infra" / "texter" / "events"

# Template-specific placeholders (events/INDEX.md) and values that make them valid.
EXTRA_PLACEHOLDERS = {"{{word1}}": "help", "{{word2}}": "support", "{{targetLabelId}}": "billing"}


def event_names() -> list[str]:
    return sorted(path.stem for path in EVENTS_DIR.glob("*.json"))


def load_template(event_name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS_DIR / f"{event_name}.json").read_text("utf-8"))
    return loaded


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
