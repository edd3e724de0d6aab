"""What a scenario *says*, comparable between an import body and a live scenario.

The content is the part of a revision the import body decides (name, description,
triggers, loaders, conditions, actions, options), with the ownership marker taken out of
the description and empty containers dropped, so that a body and the scenario Texter made
from it hash the same, and a hand edit in the Texter UI does not.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from texter_webhooks.texter.body import canonical_hash
from texter_webhooks.texter.ownership import Marker
from texter_webhooks.texter.scenario import current_revision

CONTENT_KEYS = (
    "name",
    "description",
    "triggerEvents",
    "loaders",
    "conditions",
    "actions",
    "options",
)


def body_name(body: Mapping[str, Any]) -> str:
    """The name the body gives its scenario, which the `display_name` input is not: the
    name always starts `(SUB) `, and a default one ends `[<stack>]` (`body.render`)."""
    return str(body["data"]["name"])


def content_hash(body: Mapping[str, Any]) -> str:
    """Hash of an import body's content."""
    return _hash_of(body.get("data", {}))


def hash_and_description(body: Mapping[str, Any]) -> tuple[str, str]:
    """`content_hash(body)` and the description as `comparable` shows it (marker out),
    from one pass over the content."""
    compared = comparable(body.get("data", {}))
    return canonical_hash(compared), str(compared.get("description", ""))


def live_content_hash(scenario: Mapping[str, Any]) -> str:
    """Hash of a live scenario's content (its revision in force)."""
    return _hash_of(current_revision(scenario))


def live_body(scenario: Mapping[str, Any]) -> dict[str, Any] | None:
    """The live scenario as an import body, for outputs; None when nothing was read."""
    revision = current_revision(scenario)
    if not revision:
        return None
    return {"data": {key: revision[key] for key in CONTENT_KEYS if key in revision}}


def changed_fields(body: Mapping[str, Any], scenario: Mapping[str, Any]) -> list[str]:
    """The content fields (CONTENT_KEYS) in which the live scenario differs from the
    import body: what a hand edit in the Texter UI changed."""
    wanted, live = comparable(body.get("data", {})), comparable(current_revision(scenario))
    return [key for key in CONTENT_KEYS if wanted.get(key) != live.get(key)]


def comparable(revision: Mapping[str, Any]) -> dict[str, Any]:
    """A revision's content (CONTENT_KEYS) as compared: marker out, empty defaults dropped."""
    content = {key: revision.get(key) for key in CONTENT_KEYS}
    content["description"] = Marker.strip(str(content.get("description") or ""))
    pruned: dict[str, Any] = _pruned(content)
    return pruned


def _hash_of(revision: Mapping[str, Any]) -> str:
    return canonical_hash(comparable(revision))


def comparable_value(value: Any) -> Any:
    """A part of a revision as `comparable` compares it."""
    return _pruned(value)


def _pruned(value: Any) -> Any:
    # Texter may add or drop empty defaults (`loaders: {}` vs `{"beforeConditions": []}`):
    # they mean the same, so they hash the same.
    if isinstance(value, dict):
        pruned = {k: _pruned(v) for k, v in value.items()}
        return {k: v for k, v in pruned.items() if v not in (None, {}, [], "")}
    if isinstance(value, list):
        return [_pruned(item) for item in value]
    return value
