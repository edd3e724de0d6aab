"""Which scenarios a resource owns, told by the marker at the end of their description.

The marker lives in the description, which Texter's draft operations cannot change, so
ownership is written once, at import, in the one form `Marker` writes:
`[texter-webhooks:<stack_key>.<resource>:<instance>]`, where

- `stack_key`: the stack's key (`stack.StackIdentity`), on scenarios made since stacks have
  one (absent before, and for subscriptions with `retain_on_delete`): what tells the
  stack's scenarios that no resource holds (see `stack`);

- `resource`: 16 random hex drawn by `check` for a new resource and kept in its state
  across updates and renames with an alias (check gets the state's inputs as `olds`); a
  replacement draws a new one (the engine checks it again with no `olds`). Random rather
  than derived from names: two stacks of one name on two backends, or one resource name
  under two components, never share a key. Releases before 0.3 derived it from
  project/stack/resource name; such a resource draws a key, recorded in state with no API
  call (`resource_key`);
- `instance`: 12 hex, new for each create (random), the same for every attempt of that
  create. Stacks made before 0.2 wrote 12 hex of the content hash here; both read alike.

Rules the provider keeps with them:

- a create owns only what it imported itself (its instance); it never takes over a
  scenario another create made, so two resources can never hold one scenario, even when a
  replaced resource's delete runs in a later process;
- a create retires no scenario a state entry may hold: the one it replaces is retired by the
  engine's delete of the old resource, after the new one is recorded (`retain_on_delete`
  keeps it). An import that landed for a create interrupted before Pulumi recorded it
  stays active, held by no state entry, until the stack's sweep retires it (`stack`);
- *twins* are other scenarios with the held scenario's own marker: an import that landed
  after the create had given up on it, or a copy made by hand in the Texter UI. Refresh
  reports them, `up` retires them, destroy retires them with the scenario;
- a hand-made scenario (no marker) is adopted by importing a managed copy and retiring
  the original, so two stacks adopting it each get their own and never share one.
"""

from __future__ import annotations

import copy
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from texter_webhooks.texter.scenario import Scenario, scenario_description, scenario_status

# A resource's or a stack's key, and a create's instance, as a marker spells them.
_KEY = r"[0-9a-f]{16}"
_INSTANCE = r"[0-9a-f]{12}"


@dataclass(frozen=True)
class Marker:
    """One create's marker, and the one place its text is written, read and taken out.

    Scenarios in Texter carry every form a release ever wrote, so the text never changes
    and what is read is never narrowed: `parse` takes the stack key as optional (made
    before stacks had one), `strip` and `carried_by` take any owner text after the prefix.

    The resource's input `marker` (in state) records `resource` alone, not a Marker.
    """

    resource: str
    instance: str
    # The stack's key (`stack.StackIdentity`), on scenarios made since stacks have one:
    # how an orphan sweep tells this stack's scenarios that no resource holds.
    stack_key: str | None = None

    _PREFIX: ClassVar[str] = "[texter-webhooks:"
    _PARSED: ClassVar[re.Pattern[str]] = re.compile(
        re.escape(_PREFIX) + rf"(?:({_KEY})\.)?({_KEY}):({_INSTANCE})\]"
    )
    # Whatever the owner text, so that no marker of any form is compared as content.
    _ANY: ClassVar[re.Pattern[str]] = re.compile(r"\s*" + re.escape(_PREFIX) + r"[^\]]*\]")

    def __str__(self) -> str:
        owner = f"{self.stack_key}.{self.resource}" if self.stack_key else self.resource
        return f"{owner}:{self.instance}"

    @classmethod
    def parse(cls, description: str) -> Marker | None:
        """The first marker in `description` of a form a release wrote."""
        found = cls._PARSED.search(description)
        return cls(found.group(2), found.group(3), found.group(1)) if found else None

    @classmethod
    def carried_by(cls, description: str) -> bool:
        """Whether `description` carries a marker of any form: some TexterSubscription
        (of any stack and release) made the scenario."""
        return cls._PREFIX in description

    @classmethod
    def strip(cls, description: str) -> str:
        return cls._ANY.sub("", description).strip()

    @classmethod
    def text(cls, owner: Marker | str) -> str:
        """The marker as a description carries it. `owner` is a Marker, or owner text
        as tests and fixtures write it."""
        return f"{cls._PREFIX}{owner}]"

    @classmethod
    def written_into(cls, description: str, owner: Marker | str) -> str:
        """`description` carrying this one marker, at its end, and no other."""
        return f"{cls.strip(description)} {cls.text(owner)}".strip()

    @classmethod
    def marked(cls, body: Mapping[str, Any], owner: Marker | str) -> dict[str, Any]:
        """A copy of an import body whose description carries the marker."""
        marked = copy.deepcopy(dict(body))
        data = marked["data"]
        data["description"] = cls.written_into(data.get("description", ""), owner)
        return marked


# Recorded beside the key in state: a key drawn at random, not derived from names.
KEY_ORIGIN = "random"


def new_key() -> str:
    """A new resource or stack key: random, so no two stacks or resources share one."""
    return secrets.token_hex(8)


def resource_key(recorded_key: Any, recorded_origin: Any) -> str:
    """The key a resource's state records, or a new one for a new resource (and for a
    key of a release that derived it from names, which others may share)."""
    if recorded_origin == KEY_ORIGIN and is_key(recorded_key):
        return str(recorded_key)
    return new_key()


def is_key(value: Any) -> bool:
    """A resource or stack key: 16 hex digits."""
    return isinstance(value, str) and re.fullmatch(_KEY, value) is not None


def new_marker(resource: str, stack_key: str | None = None) -> Marker:
    """The marker of a new create of `resource` (of the stack with key `stack_key`)."""
    if stack_key is not None and not is_key(stack_key):
        raise ValueError("a stack key is 16 hex digits")
    return Marker(resource, secrets.token_hex(6), stack_key)


def marker_of(scenario: Scenario) -> Marker | None:
    return Marker.parse(scenario_description(scenario))


def unheld_of_stack(
    stack_key: str, held: Iterable[str], scenarios: Iterable[Scenario]
) -> list[Scenario]:
    """Active scenarios carrying the stack's key that no resource holds: an import that
    landed for a create interrupted before Pulumi recorded it, or an older scenario
    re-activated by hand. Sorted by id."""
    holding = set(held)
    return sorted(
        (
            s
            for s in scenarios
            if scenario_status(s) == "active"
            and s.get("_id") not in holding
            and (marker := marker_of(s)) is not None
            and marker.stack_key == stack_key
        ),
        key=lambda s: str(s.get("_id")),
    )


def is_managed(scenario: Scenario) -> bool:
    """Whether some TexterSubscription made it (of any stack)."""
    return Marker.carried_by(scenario_description(scenario))


def made_by(marker: Marker, scenarios: Iterable[Scenario]) -> list[Scenario]:
    """The scenarios one create made (normally one; more when an import it gave up on
    landed anyway)."""
    return [s for s in scenarios if marker_of(s) == marker]


def active_twins(held: Scenario, scenarios: Iterable[Scenario]) -> list[Scenario]:
    """Active scenarios carrying the held scenario's own marker, sorted by id."""
    marker = marker_of(held)
    if marker is None:
        return []
    return sorted(
        (
            s
            for s in scenarios
            if s.get("_id") != held.get("_id")
            and scenario_status(s) == "active"
            and marker_of(s) == marker
        ),
        key=lambda s: str(s.get("_id")),
    )
