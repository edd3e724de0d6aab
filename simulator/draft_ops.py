"""Update Draft operations (contract §1, S12): checking their shape, then applying them.

Checking reports every malformed operation at once, as a 400 naming each by its path
(``operations[2].addAction.params.url: ...``), like an import. Applying works on a copy of the
draft, in order; the first operation the draft's state refuses is a 422 naming its index, and
``revisions.update_draft`` then keeps nothing, so a batch applies whole or not at all.

No operation touches the description: Texter documents none (the provider's ownership marker
lives there), and the simulator keeps it so.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from simulator.errors import ApiError
from simulator.import_body import (
    LOADER_GROUPS,
    LOADER_KEYS,
    NAME_MAX,
    STEP_KEYS,
    report_placeholders,
    validate_action,
    validate_loop_item,
    validate_step,
)
from simulator.validation import (
    Problems,
    check_index,
    check_string,
    check_unknown_keys,
    index_path,
    key_path,
)

Draft = dict[str, Any]
# Texter's own status for a well-formed request the current state refuses.
REFUSED = 422


@dataclass(frozen=True)
class Operation:
    path: str  # e.g. operations[2].addAction: every message about it starts here
    kind: str
    value: Any


@dataclass(frozen=True)
class _Checking:
    """One operation being checked: its item ``{kind: value}`` and where problems go."""

    item: dict[str, Any]
    kind: str
    parent: str  # operations[i]
    problems: Problems
    lenient: bool
    placeholder_paths: set[str]

    @property
    def value(self) -> Any:
        return self.item[self.kind]

    @property
    def path(self) -> str:
        return key_path(self.parent, self.kind)


def parse_operations(body: dict[str, Any], *, lenient: bool) -> list[Operation]:
    """The checked operations of an Update Draft body; a 400 listing every problem otherwise."""
    items = body.get("operations")
    if not isinstance(items, list) or not items:
        raise ApiError(400, "operations: must be a non-empty list of operations")
    problems = Problems()
    parsed = [
        _parse_one(item, index_path("operations", index), problems, lenient)
        for index, item in enumerate(items)
    ]
    problems.raise_if_any()
    return [operation for operation in parsed if operation is not None]


def _parse_one(item: Any, path: str, problems: Problems, lenient: bool) -> Operation | None:
    if not isinstance(item, dict):
        problems.add(path, "must be a JSON object")
        return None
    # Exactly one key even when lenient: a second one would be an operation silently dropped.
    if len(item) != 1:
        problems.add(path, f"must hold exactly one operation, got {len(item)} keys")
        return None
    [kind] = item
    if kind not in _CHECKS:
        problems.add(key_path(path, kind), f"unknown operation; known: {', '.join(OPERATIONS)}")
        return None
    placeholders = report_placeholders(item[kind], key_path(path, kind), problems)
    checking = _Checking(item, kind, path, problems, lenient, placeholders)
    return Operation(checking.path, kind, _CHECKS[kind](checking))


# --- shape checks (400) -------------------------------------------------------------------


def _check_event(op: _Checking) -> Any:
    check_string(op.item, op.kind, op.parent, op.problems, required=True, non_blank=True)
    return op.value


def _check_name(op: _Checking) -> Any:
    # The rules of an import's data.name.
    check_string(
        op.item, op.kind, op.parent, op.problems, required=True, max_len=NAME_MAX, non_blank=True
    )
    return op.value


def _check_flag(op: _Checking) -> Any:
    if not isinstance(op.value, bool):
        op.problems.add(op.path, "must be a boolean")
    return op.value


def _check_position(op: _Checking) -> Any:
    check_index(op.item, op.kind, op.parent, op.problems, required=True)
    return op.value


def _check_object(op: _Checking, keys: tuple[str, ...]) -> dict[str, Any] | None:
    """The value as an object of index fields (``{groupIndex, index}``), or None when not one."""
    if not isinstance(op.value, dict):
        op.problems.add(op.path, "must be a JSON object")
        return None
    return check_unknown_keys(op.value, keys, op.path, op.problems, lenient=op.lenient)


def _check_condition(op: _Checking) -> Any:
    validate_step(op.value, op.path, (*STEP_KEYS, "groupIndex"), op.problems, op.lenient)
    if isinstance(op.value, dict):
        check_index(op.value, "groupIndex", op.path, op.problems, required=True)
    return op.value


def _check_condition_position(op: _Checking) -> Any:
    value = _check_object(op, ("groupIndex", "index"))
    for key in ("groupIndex", "index"):
        if value is not None:
            check_index(value, key, op.path, op.problems, required=True)
    return value


def _check_action(op: _Checking) -> Any:
    # The rules of an import's data.actions[i], request-action params included.
    validate_action(op.value, op.path, op.problems, op.placeholder_paths, lenient=op.lenient)
    return op.value


def _check_loader(op: _Checking) -> Any:
    validate_step(op.value, op.path, (*LOADER_KEYS, "position"), op.problems, op.lenient)
    if isinstance(op.value, dict):
        # The docs list alias without marking it optional, as they do confidentialData.
        check_string(op.value, "alias", op.path, op.problems, required=True)
        _check_loader_group(op.value, op)
    return op.value


def _check_loader_position(op: _Checking) -> Any:
    value = _check_object(op, ("index", "position"))
    if value is not None:
        check_index(value, "index", op.path, op.problems, required=True)
        _check_loader_group(value, op)
    return value


def _check_loader_group(value: dict[str, Any], op: _Checking) -> None:
    if value.get("position") not in LOADER_GROUPS:
        op.problems.add(key_path(op.path, "position"), f"must be one of {', '.join(LOADER_GROUPS)}")


def _check_loop(op: _Checking) -> Any:
    # A `data.loops` item of an import: `{loop: {...}}`, the one loop shape documented.
    return validate_loop_item(op.value, op.path, op.problems, lenient=op.lenient)


# --- application (422 when the draft's state refuses) -------------------------------------


def _refused(path: str, message: str) -> ApiError:
    return ApiError(REFUSED, f"{path}: {message}")


def _list(draft: Draft, key: str) -> list[Any]:
    """The draft's list field, made a list first when a seeded draft holds something else."""
    if not isinstance(draft.get(key), list):
        draft[key] = []
    items: list[Any] = draft[key]
    return items


def _remove_at(items: list[Any], index: int, path: str, what: str) -> None:
    if index >= len(items):
        raise _refused(path, f"no such position: the draft has {len(items)} {what}")
    del items[index]


def _add_event(draft: Draft, op: Operation) -> None:
    events = _list(draft, "triggerEvents")
    if op.value in events:
        raise _refused(op.path, f"{op.value!r} is already a trigger event of the draft")
    events.append(op.value)


def _remove_event(draft: Draft, op: Operation) -> None:
    events = _list(draft, "triggerEvents")
    if op.value not in events:
        raise _refused(op.path, f"{op.value!r} is not a trigger event of the draft")
    events.remove(op.value)


def _add_condition(draft: Draft, op: Operation) -> None:
    groups = _list(draft, "conditions")
    group_index = op.value["groupIndex"]
    if group_index > len(groups):
        raise _refused(
            key_path(op.path, "groupIndex"),
            f"must be at most {len(groups)}: the draft has {len(groups)} condition groups "
            f"and {len(groups)} opens a new one",
        )
    if group_index == len(groups):
        groups.append([])
    groups[group_index].append(_without(op.value, "groupIndex"))


def _remove_condition(draft: Draft, op: Operation) -> None:
    groups = _list(draft, "conditions")
    group_index, index = op.value["groupIndex"], op.value["index"]
    if group_index >= len(groups):
        raise _refused(
            key_path(op.path, "groupIndex"),
            f"no such group: the draft has {len(groups)} condition groups",
        )
    _remove_at(
        groups[group_index],
        index,
        key_path(op.path, "index"),
        f"conditions in group {group_index}",
    )
    # An empty group has no meaning (an import refuses one): it goes, later groups move up.
    if not groups[group_index]:
        del groups[group_index]


def _add_action(draft: Draft, op: Operation) -> None:
    _list(draft, "actions").append(copy.deepcopy(op.value))


def _remove_action(draft: Draft, op: Operation) -> None:
    _remove_at(_list(draft, "actions"), op.value, op.path, "actions")


def _rename(draft: Draft, op: Operation) -> None:
    draft["name"] = op.value


def _set_unordered_actions(draft: Draft, op: Operation) -> None:
    if not isinstance(draft.get("options"), dict):
        draft["options"] = {}
    draft["options"]["unorderedActions"] = op.value


def _loader_group(draft: Draft, position: str) -> list[Any]:
    if not isinstance(draft.get("loaders"), dict):
        draft["loaders"] = {}
    return _list(draft["loaders"], position)


def _add_loader(draft: Draft, op: Operation) -> None:
    _loader_group(draft, op.value["position"]).append(_without(op.value, "position"))


def _remove_loader(draft: Draft, op: Operation) -> None:
    position = op.value["position"]
    _remove_at(
        _loader_group(draft, position),
        op.value["index"],
        key_path(op.path, "index"),
        f"loaders in {position}",
    )


def _add_loop(draft: Draft, op: Operation) -> None:
    _list(draft, "loops").append(copy.deepcopy(op.value))


def _remove_loop(draft: Draft, op: Operation) -> None:
    _remove_at(_list(draft, "loops"), op.value, op.path, "loops")


def _without(item: dict[str, Any], key: str) -> dict[str, Any]:
    """A stored item: the operation's item less its placement field (groupIndex, position)."""
    return {k: copy.deepcopy(v) for k, v in item.items() if k != key}


def apply(draft: Draft, operation: Operation) -> None:
    """Apply one checked operation to ``draft`` in place; a 422 when the draft refuses it."""
    _APPLY[operation.kind](draft, operation)


def check_complete(draft: Draft) -> None:
    """What an import requires of a revision, required of the draft after all operations."""
    for key, what in (("triggerEvents", "trigger event"), ("actions", "action")):
        if not draft.get(key):
            raise _refused("operations", f"the draft would be left without any {what}")


Check = Callable[[_Checking], Any]
Apply = Callable[[Draft, Operation], None]

# operation -> (shape check, application), in the order the docs list them.
_OPERATIONS: dict[str, tuple[Check, Apply]] = {
    "addTriggerEvent": (_check_event, _add_event),
    "removeTriggerEvent": (_check_event, _remove_event),
    "addLoader": (_check_loader, _add_loader),
    "removeLoader": (_check_loader_position, _remove_loader),
    "addCondition": (_check_condition, _add_condition),
    "removeCondition": (_check_condition_position, _remove_condition),
    "addAction": (_check_action, _add_action),
    "removeAction": (_check_position, _remove_action),
    "addLoop": (_check_loop, _add_loop),
    "removeLoop": (_check_position, _remove_loop),
    "rename": (_check_name, _rename),
    "setUnorderedActions": (_check_flag, _set_unordered_actions),
}
OPERATIONS: tuple[str, ...] = tuple(_OPERATIONS)
_CHECKS: dict[str, Check] = {kind: check for kind, (check, _) in _OPERATIONS.items()}
_APPLY: dict[str, Apply] = {kind: applied for kind, (_, applied) in _OPERATIONS.items()}
