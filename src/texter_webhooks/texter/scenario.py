"""Reading a Texter Scenario as the API returns it (docs/texter-api.md §5).

Kept apart from the HTTP client: ownership, content, the provider and the tooling read
scenarios they were handed (a listing, a simulator's store, an API answer), and none of
that depends on how they were fetched.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# A Scenario as listed or returned: JSON, kept as such (Texter adds fields freely).
Scenario = dict[str, Any]


def scenario_status(scenario: Mapping[str, Any]) -> str:
    """Live status as the contract derives it: active <=> activeRevision present."""
    if scenario.get("activeRevision"):
        return "active"
    if scenario.get("inactiveRevisions"):
        return "inactive"
    return "draft"


def current_revision(scenario: Mapping[str, Any]) -> dict[str, Any]:
    """The revision in force: the active one, else the newest inactive one, else a draft."""
    if scenario.get("activeRevision"):
        return dict(scenario["activeRevision"])
    inactive = scenario.get("inactiveRevisions") or []
    if inactive:
        return dict(max(inactive, key=lambda r: r.get("version", 0)))
    drafts = scenario.get("drafts") or []
    return dict(drafts[-1]) if drafts else {}


def scenario_name(scenario: Mapping[str, Any]) -> str:
    return str(current_revision(scenario).get("name", ""))


def scenario_description(scenario: Mapping[str, Any]) -> str:
    return str(current_revision(scenario).get("description", ""))
