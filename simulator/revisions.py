"""Scenario and revision objects (contract §5) and the transitions between their states.

Pure functions over plain dicts: they never touch shared state, so the store can apply them
under its lock and persist the result as one step.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from typing import Any

from simulator import draft_ops
from simulator.errors import ApiError
from simulator.ids import new_object_id
from simulator.validation import is_int

Scenario = dict[str, Any]
Revision = dict[str, Any]

# Fields a revision takes from the imported ``data`` (``version`` there is the template
# format "v1", not the revision number, so it is not copied).
CONTENT_DEFAULTS: dict[str, Any] = {
    "triggerEvents": [],
    "conditions": [],
    "loaders": {},
    "actions": [],
    "loops": [],
    "tags": [],
    "attachedData": {},
    "options": {"unorderedActions": False},
}


def _content(data: dict[str, Any]) -> dict[str, Any]:
    content: dict[str, Any] = {"name": data["name"]}
    # The description is stored byte-for-byte as sent (the provider keeps a marker in it)
    # and left out when not sent, so clients cannot come to rely on a default.
    if "description" in data:
        content["description"] = data["description"]
    for key, default in CONTENT_DEFAULTS.items():
        content[key] = copy.deepcopy(data.get(key, default))
    return content


def _revision(
    scenario_id: str,
    content: dict[str, Any],
    *,
    status: str,
    version: int,
    parent_version: int | None,
    comment: str,
    author: str,
    now: int,
) -> Revision:
    metadata: dict[str, Any] = {"authorUid": author, "created": now, "modified": now}
    if status == "active":
        metadata["activated"] = now
        metadata["activations"] = [{"timestamp": now, "userUid": author}]
    else:
        metadata["activations"] = []
    return {
        **_body(scenario_id, content, status),
        "version": version,
        "parentVersion": parent_version,
        "revisionComment": comment,
        "metadata": metadata,
    }


def _draft(
    scenario_id: str,
    content: dict[str, Any],
    *,
    author: str,
    now: int,
    parent_version: int | None = None,
) -> Revision:
    # A draft started from a revision records it, so the revision it becomes can name its
    # parent; a draft imported as such has no parent and no parentVersion.
    parent = {} if parent_version is None else {"parentVersion": parent_version}
    return {
        **_body(scenario_id, content, "draft"),
        **parent,
        "metadata": {"authorUid": author, "created": now, "modified": now},
    }


def _body(scenario_id: str, content: dict[str, Any], status: str) -> dict[str, Any]:
    """What revisions and drafts share: identity, status and the imported content."""
    return {
        "_id": new_object_id(),
        "scenarioId": scenario_id,
        "name": content["name"],
        **({"description": content["description"]} if "description" in content else {}),
        "status": status,
        "triggerEvents": content["triggerEvents"],
        "conditions": content["conditions"],
        "loaders": content["loaders"],
        "actions": content["actions"],
        "loops": content["loops"],
        "tags": content["tags"],
        "attachedData": content["attachedData"],
        "options": content["options"],
    }


def _scenario(scenario_id: str) -> Scenario:
    return {"_id": scenario_id, "inactiveRevisions": [], "drafts": []}


def _ordered(scenario: Scenario) -> Scenario:
    """Stable key order (_id, activeRevision, inactiveRevisions, drafts, rest) for readability."""
    ordered: Scenario = {"_id": scenario["_id"]}
    if "activeRevision" in scenario:
        ordered["activeRevision"] = scenario["activeRevision"]
    ordered["inactiveRevisions"] = sorted(
        scenario.get("inactiveRevisions", []), key=lambda r: r.get("version", 0), reverse=True
    )
    ordered["drafts"] = scenario.get("drafts", [])
    for key, value in scenario.items():
        ordered.setdefault(key, value)
    return ordered


def imported_scenario(data: dict[str, Any], as_status: str, *, author: str, now: int) -> Scenario:
    scenario_id = new_object_id()
    scenario = _scenario(scenario_id)
    content = _content(data)
    if as_status == "draft":
        scenario["drafts"].append(_draft(scenario_id, content, author=author, now=now))
        return _ordered(scenario)
    revision = _revision(
        scenario_id,
        content,
        status=as_status,
        version=1,
        parent_version=None,
        comment="Imported",
        author=author,
        now=now,
    )
    if as_status == "active":
        scenario["activeRevision"] = revision
    else:
        scenario["inactiveRevisions"].append(revision)
    return _ordered(scenario)


def versions(scenario: Scenario) -> list[Revision]:
    """Every versioned revision (active first, then inactive); drafts carry no version."""
    active = [scenario["activeRevision"]] if "activeRevision" in scenario else []
    return active + list(scenario.get("inactiveRevisions", []))


def is_active(scenario: Scenario) -> bool:
    return "activeRevision" in scenario


def _newest(revisions: Iterable[Revision]) -> Revision | None:
    return max(revisions, key=lambda r: r.get("version", 0), default=None)


def activate(
    scenario: Scenario,
    version: int | None,
    *,
    author: str,
    now: int,
    idempotent: bool,
) -> Scenario:
    """Make the given (or the newest inactive) revision the active one.

    Activating another version while one is active is a revert: the running revision moves
    to ``inactiveRevisions``.
    """
    scenario = copy.deepcopy(scenario)
    active = scenario.get("activeRevision")
    inactive: list[Revision] = scenario.get("inactiveRevisions", [])
    if active is not None and (version is None or active.get("version") == version):
        if idempotent:
            return scenario
        raise ApiError(409, f"scenario {scenario['_id']} is already active")
    if version is None:
        newest = _newest(inactive)
        if newest is None:
            raise ApiError(
                409, f"scenario {scenario['_id']} has no revision to activate (drafts only)"
            )
        target = newest
    else:
        matches = [r for r in inactive if r.get("version") == version]
        if not matches:
            raise ApiError(
                400, f"version: scenario has no inactive revision with version {version}"
            )
        target = matches[0]
    inactive.remove(target)
    if active is not None:
        active["status"] = "inactive"
        inactive.append(active)
    target["status"] = "active"
    metadata = target.setdefault("metadata", {})
    metadata["activated"] = now
    metadata.setdefault("activations", []).append({"timestamp": now, "userUid": author})
    scenario["activeRevision"] = target
    scenario["inactiveRevisions"] = inactive
    return _ordered(scenario)


def inactivate(scenario: Scenario, *, idempotent: bool) -> Scenario:
    scenario = copy.deepcopy(scenario)
    active = scenario.pop("activeRevision", None)
    if active is None:
        if idempotent:
            return scenario
        raise ApiError(409, f"scenario {scenario['_id']} is not active")
    active["status"] = "inactive"
    scenario.setdefault("inactiveRevisions", []).append(active)
    return _ordered(scenario)


def copied_scenario(
    source: Scenario, from_version: int, new_name: str, *, author: str, now: int
) -> Scenario:
    """A new scenario holding one inactive revision (version 1) cloned from ``from_version``.

    Inactive, not active, so a copy never starts delivering events by surprise.
    """
    matches = [r for r in versions(source) if r.get("version") == from_version]
    if not matches:
        raise ApiError(400, f"fromVersion: scenario has no revision with version {from_version}")
    content = _content({**copy.deepcopy(matches[0]), "name": new_name})
    scenario_id = new_object_id()
    scenario = _scenario(scenario_id)
    scenario["inactiveRevisions"].append(
        _revision(
            scenario_id,
            content,
            status="inactive",
            version=1,
            parent_version=None,
            comment=f"Copied from scenario {source['_id']} version {from_version}",
            author=author,
            now=now,
        )
    )
    return _ordered(scenario)


def update_draft(
    scenario: Scenario, operations: Sequence[draft_ops.Operation], *, author: str, now: int
) -> Scenario:
    """Apply the operations, in order, to the scenario's draft, all of them or none.

    Without a draft, one is started from the running revision, or when paused from the
    newest inactive one. What runs does not change until a revision is made and activated.
    """
    scenario = copy.deepcopy(scenario)
    draft = _the_draft(scenario) or _started_draft(scenario, author=author, now=now)
    for operation in operations:
        draft_ops.apply(draft, operation)
    draft_ops.check_complete(draft)
    draft.setdefault("metadata", {})["modified"] = now
    scenario["drafts"] = [draft]
    return _ordered(scenario)


def _the_draft(scenario: Scenario) -> Revision | None:
    drafts: list[Revision] = scenario.get("drafts", [])
    if len(drafts) > 1:
        # Which one an edit or a publish means is not documented: refuse rather than guess.
        raise ApiError(
            409, f"scenario {scenario['_id']} has {len(drafts)} drafts; the simulator handles one"
        )
    return drafts[0] if drafts else None


def _started_draft(scenario: Scenario, *, author: str, now: int) -> Revision:
    base = scenario.get("activeRevision") or _newest(scenario.get("inactiveRevisions", []))
    if base is None:
        raise ApiError(409, f"scenario {scenario['_id']} has no revision to start a draft from")
    return _draft(
        scenario["_id"],
        _content(base),
        author=author,
        now=now,
        parent_version=base.get("version"),
    )


def create_revision(scenario: Scenario, comment: str, *, author: str, now: int) -> Scenario:
    """Publish the draft as a new inactive revision; the running revision keeps running."""
    scenario = copy.deepcopy(scenario)
    draft = _the_draft(scenario)
    if draft is None:
        raise ApiError(409, f"scenario {scenario['_id']} has no draft to publish")
    revision = _revision(
        scenario["_id"],
        _content(draft),
        status="inactive",
        version=_next_version(scenario),
        parent_version=draft.get("parentVersion"),
        comment=comment,
        author=author,
        now=now,
    )
    scenario.setdefault("inactiveRevisions", []).append(revision)
    scenario["drafts"] = []
    return _ordered(scenario)


def _next_version(scenario: Scenario) -> int:
    numbers = [r["version"] for r in versions(scenario) if is_int(r.get("version"))]
    return max(numbers, default=0) + 1


def delete_revision(scenario: Scenario, version: int) -> Scenario:
    """The scenario without inactive revision ``version``.

    The running revision cannot go (409), nor the scenario's last revision when it has no
    draft either: a scenario with nothing in it is none of the states a client can read.
    """
    scenario = copy.deepcopy(scenario)
    active = scenario.get("activeRevision")
    if active is not None and active.get("version") == version:
        raise ApiError(
            409, f"version {version} is the active revision; activate another version first"
        )
    inactive: list[Revision] = scenario.get("inactiveRevisions", [])
    kept = [r for r in inactive if r.get("version") != version]
    if len(kept) == len(inactive):
        raise ApiError(404, f"scenario {scenario['_id']} has no revision with version {version}")
    if active is None and not kept and not scenario.get("drafts"):
        raise ApiError(
            409, f"version {version} is the scenario's last revision; delete the scenario instead"
        )
    scenario["inactiveRevisions"] = kept
    return _ordered(scenario)


def normalized_seed(raw: dict[str, Any]) -> Scenario:
    """A scenario given verbatim by a test (e.g. a system one), with the list fields filled in."""
    scenario = copy.deepcopy(raw)
    scenario.setdefault("_id", new_object_id())
    scenario.setdefault("inactiveRevisions", [])
    scenario.setdefault("drafts", [])
    return _ordered(scenario)
