"""Token scopes: the short names used on the command line and the names shown in the Texter UI."""

from __future__ import annotations

from collections.abc import Iterable

VIEW = "view"
CREATE = "create"
EDIT = "edit"
DELETE = "delete"
ACTIVATE = "activate"
MANAGE_ON_BEHALF = "manage_on_behalf"
VIEW_RUNS = "view_runs"

UI_NAMES: dict[str, str] = {
    VIEW: "View scenarios",
    CREATE: "Create scenarios",
    EDIT: "Edit scenarios",
    DELETE: "Delete scenarios",
    ACTIVATE: "Activate/inactivate scenarios",
    MANAGE_ON_BEHALF: "Manage scenarios on behalf of user",
    VIEW_RUNS: "View scenarios runs",
}
ALL_SCOPES: frozenset[str] = frozenset(UI_NAMES)

# UI names are matched case-insensitively because people copy them from the Texter UI by hand.
_BY_LOWER_NAME: dict[str, str] = {
    **{short: short for short in UI_NAMES},
    **{ui.lower(): short for short, ui in UI_NAMES.items()},
}


def normalize_scope(name: str) -> str:
    """Map a short or UI scope name to its short name; ValueError for anything else."""
    short = _BY_LOWER_NAME.get(name.strip().lower())
    if short is None:
        known = ", ".join(f"{s} ({UI_NAMES[s]})" for s in UI_NAMES)
        raise ValueError(f"unknown scope {name!r}; known scopes: {known}")
    return short


def missing_scopes(granted: Iterable[str], required: Iterable[str]) -> list[str]:
    granted_set = set(granted)
    return [scope for scope in required if scope not in granted_set]


def describe(scopes: Iterable[str]) -> str:
    return ", ".join(f"{UI_NAMES[s]} ({s})" for s in scopes)
