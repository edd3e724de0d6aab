"""The Update Draft operations that turn one revision's content into another's.

Texter edits a scenario through its draft (docs/texter-api.md §1): operations that add or
remove one trigger, loader, condition or action, rename, or set unordered actions. None
edits the description, which holds the ownership marker, so a description change still
needs a new scenario (`replaceable_only`).

The operations are computed against the draft as it is *now* (or, with no draft, the
revision Texter starts one from), so an update interrupted after a partial draft converges
on the next attempt: what is already right is left alone, the rest is rewritten.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from texter_webhooks.texter import content

Operation = dict[str, Any]
LOADER_POSITIONS = ("beforeConditions", "afterConditions")
# Content fields no draft operation changes.
NOT_DRAFTABLE = ("description",)


def replaceable_only(base: Mapping[str, Any], desired: Mapping[str, Any]) -> list[str]:
    """The content fields in which `desired` differs from `base` that no draft can change."""
    wanted, current = content.comparable(desired), content.comparable(base)
    return [key for key in NOT_DRAFTABLE if wanted.get(key) != current.get(key)]


def operations(base: Mapping[str, Any], desired: Mapping[str, Any]) -> list[Operation]:
    """The operations that make a draft holding `base` hold `desired` (both revision-like:
    an import body's `data`, or a live revision). Empty when they already agree.

    Fields are compared as `content.comparable` sees them (empty defaults dropped), and
    what is added is taken from `desired` as given."""
    wanted, current = content.comparable(desired), content.comparable(base)
    ops: list[Operation] = []
    if wanted.get("name") != current.get("name"):
        ops.append({"rename": desired["name"]})
    ops += _triggers(base.get("triggerEvents") or [], desired.get("triggerEvents") or [])
    if wanted.get("loaders") != current.get("loaders"):
        ops += _loaders(base.get("loaders") or {}, desired.get("loaders") or {})
    if wanted.get("conditions") != current.get("conditions"):
        ops += _conditions(base.get("conditions") or [], desired.get("conditions") or [])
    if wanted.get("actions") != current.get("actions"):
        # Indexes shift as actions go, so the last goes first.
        existing = base.get("actions") or []
        ops += [{"removeAction": index} for index in reversed(range(len(existing)))]
        ops += [{"addAction": action} for action in desired.get("actions") or []]
    unordered = bool((desired.get("options") or {}).get("unorderedActions"))
    if unordered != bool((base.get("options") or {}).get("unorderedActions")):
        ops.append({"setUnorderedActions": unordered})
    return ops


def _triggers(current: list[str], wanted: list[str]) -> list[Operation]:
    return [{"removeTriggerEvent": event} for event in current if event not in wanted] + [
        {"addTriggerEvent": event} for event in wanted if event not in current
    ]


def _loaders(current: Mapping[str, Any], wanted: Mapping[str, Any]) -> list[Operation]:
    ops: list[Operation] = []
    for position in LOADER_POSITIONS:
        existing, desired = current.get(position) or [], wanted.get(position) or []
        if content.comparable_value(existing) == content.comparable_value(desired):
            continue
        ops += [
            {"removeLoader": {"index": index, "position": position}}
            for index in reversed(range(len(existing)))
        ]
        ops += [{"addLoader": {**loader, "position": position}} for loader in desired]
    return ops


def _conditions(current: list[list[Any]], wanted: list[list[Any]]) -> list[Operation]:
    # Every condition goes (last group, last index first) and the wanted ones are added
    # group by group: a group emptied is gone, and adding at index len(groups) opens one.
    ops: list[Operation] = [
        {"removeCondition": {"groupIndex": group, "index": index}}
        for group in reversed(range(len(current)))
        for index in reversed(range(len(current[group])))
    ]
    for group, conditions in enumerate(wanted):
        ops += [{"addCondition": {**condition, "groupIndex": group}} for condition in conditions]
    return ops
