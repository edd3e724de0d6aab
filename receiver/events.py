"""The event names Texter's subscriptions send.

Anything else is still accepted (Texter may add events before we know of them), only flagged.
"""

from __future__ import annotations

KNOWN_EVENT_NAMES: frozenset[str] = frozenset(
    {
        "newMessage",
        "newIncomingMessage",
        "newMatchedMessage",
        "newMediaMessage",
        "messageFailed",
        "messageStatusChanged",
        "chatUnsubscribed",
        "chatSubscribed",
        "chatAssigned",
        "chatPending",
        "chatResolved",
        "chatResolvedByAgent",
        "chatResolvedByBot",
        "chatLabelsUpdated",
        "chatSpecificLabelAdded",
        "externalBotEnabled",
        "externalBotDisabled",
        "channelHealthProblemCreated",
        "channelHealthProblemResolved",
    }
)
