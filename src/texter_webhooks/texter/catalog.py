"""The documented Texter events: one import-body template each, shipped as JSON data.

A template is the request body of Import Subscription with `{{yourWebhookURL}}` where the
receiver URL goes and, for a few events, further `{{placeholders}}` (newMatchedMessage's
words, chatSpecificLabelAdded's label id). Some events also take a named *parameter* that
replaces a whole string of the template, e.g. newMatchedMessage's filter `expression`.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from texter_webhooks.texter.errors import TemplateError

URL_PLACEHOLDER = "yourWebhookURL"


@dataclass(frozen=True)
class EventSpec:
    """One catalog entry: the template and the parameters it accepts."""

    name: str
    template: dict[str, Any]
    # parameter name -> JSON path (keys and list indexes) of the string it replaces
    parameters: dict[str, tuple[str | int, ...]] = field(default_factory=dict)

    def body_template(self) -> dict[str, Any]:
        """A private copy of the template, safe to fill in."""
        copied: dict[str, Any] = _json_copy(self.template)
        return copied


def _json_copy(value: Any) -> Any:
    """A deep copy of JSON data (what `json.loads` makes: dicts and lists are its only
    containers, every leaf immutable), at a third of `copy.deepcopy`'s cost: every body
    rendered starts from one."""
    if isinstance(value, dict):
        return {key: _json_copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_copy(item) for item in value]
    return value


# Whole-string parameters beyond the {{placeholders}} (events/INDEX.md names their paths).
_PARAMETERS: dict[str, dict[str, tuple[str | int, ...]]] = {
    "newMatchedMessage": {"expression": ("data", "conditions", 0, 1, "params", "expression")},
    "chatSpecificLabelAdded": {
        "expression": ("data", "conditions", 0, 0, "params", "expression"),
    },
}


@cache
def catalog() -> dict[str, EventSpec]:
    """Every documented event, keyed by the eventName it delivers."""
    events: dict[str, EventSpec] = {}
    for entry in resources.files("texter_webhooks.texter.events").iterdir():
        if not entry.name.endswith(".json"):
            continue
        template = json.loads(entry.read_text(encoding="utf-8"))
        name = entry.name.removesuffix(".json")
        events[name] = EventSpec(name, template, _PARAMETERS.get(name, {}))
    return events


def event_names() -> list[str]:
    return sorted(catalog())


def lookup(event: str) -> EventSpec:
    """The catalog entry for `event`, or an error naming the closest known events."""
    try:
        return catalog()[event]
    except KeyError:
        close = difflib.get_close_matches(event, event_names(), n=3, cutoff=0.5)
        if not close:  # case slips ("chatassigned") are the common typo
            close = [n for n in event_names() if n.lower() == event.lower()]
        hint = (
            f"did you mean {', '.join(close)}?"
            if close
            else "known events: " + ", ".join(event_names())
        )
        raise TemplateError(f"unknown Texter event {event!r}; {hint}", field="event") from None
