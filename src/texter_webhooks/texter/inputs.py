"""TexterSubscriptionArgs: the resource's inputs, each declared once with how a change
of it reaches Texter. The provider and the resource read these declarations, so a new
input is one field here (plus, for a content input, its use in `body.render`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import Enum
from typing import Any

import pulumi


class Change(Enum):
    """What changing an input does."""

    # What the scenario says: a new revision of the same scenario (Texter's drafts), or a
    # new scenario where drafts cannot express the change (the description).
    CONTENT = "content"
    IN_PLACE = "in place"  # an API call on the same scenario (activate / inactivate)
    STATE = "state only"  # recorded; Texter is not called


# Each field's metadata: how a change of it reaches Texter.
CONTENT = {"change": Change.CONTENT}
IN_PLACE = {"change": Change.IN_PLACE}
STATE = {"change": Change.STATE}


@dataclass
class TexterSubscriptionArgs:
    """The inputs of a TexterSubscription.

    event: a catalog event name (`texter_webhooks/texter/events/<event>.json`), e.g.
        "chatAssigned"; or leave it None and give `template`, a full import body.
    url: the receiver URL; fills every `{{yourWebhookURL}}`. Kept secret unless
        `bearer_token` is given (then the URL is expected to carry no secret).
    bearer_token: sent by every request action as `Authorization: Bearer <token>`, so the
        receiver's secret travels in a header, not in the URL. Always kept secret.
    display_name / description: default to the template's, the name suffixed `[<stack>]`;
        a name always starts with `(SUB) `, as the Texter UI expects of subscriptions.
    placeholders: values for the event's other placeholders or parameters, e.g.
        {"expression": 'text == "help"'} for newMatchedMessage.
    status: "active" or "inactive", changed in place.
    on_destroy: "inactivate" (default) or "delete": what `pulumi destroy` does.
    author_uid: the Texter user status changes are attributed to (state only).
    adopt: bring in a scenario made by hand with the same name and content: a managed
        copy replaces it (see `ownership`).
    stack_key: the stack's key (`StackIdentity.key`, as `TexterSubscriptionSet` passes
        it), written into the marker of every scenario a create makes, so that an
        `OrphanSweeper` finds the ones an interrupted run left (state only).
    """

    url: pulumi.Input[str] = field(metadata=CONTENT)
    bearer_token: pulumi.Input[str] | None = field(default=None, metadata=CONTENT)
    event: str | None = field(default=None, metadata=CONTENT)
    template: Mapping[str, Any] | None = field(default=None, metadata=CONTENT)
    display_name: pulumi.Input[str] | None = field(default=None, metadata=CONTENT)
    description: pulumi.Input[str] | None = field(default=None, metadata=CONTENT)
    placeholders: pulumi.Input[Mapping[str, pulumi.Input[str]]] | None = field(
        default=None, metadata=CONTENT
    )
    status: pulumi.Input[str] = field(default="active", metadata=IN_PLACE)
    on_destroy: str = field(default="inactivate", metadata=STATE)
    author_uid: str | None = field(default=None, metadata=STATE)
    adopt: bool = field(default=False, metadata=STATE)
    stack_key: pulumi.Input[str] | None = field(default=None, metadata=STATE)


def names(change: Change) -> tuple[str, ...]:
    return tuple(f.name for f in fields(TexterSubscriptionArgs) if f.metadata["change"] is change)


CONTENT_INPUTS = names(Change.CONTENT)
# Changed without a new scenario: in place or in state only.
UPDATE_INPUTS = names(Change.IN_PLACE) + names(Change.STATE)
ALL_INPUTS = CONTENT_INPUTS + UPDATE_INPUTS
STATUSES = ("active", "inactive")
ON_DESTROY = ("inactivate", "delete")
